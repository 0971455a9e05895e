package template

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/devserver/devserver/internal/testkit"
	"github.com/devserver/devserver/project"
)

// goldenCases are the templates kept under testdata/golden, each linted by cfn-lint.
var goldenCases = []struct {
	name           string
	dir, config    string
	stage, overlay string
	format         string
}{
	{name: "sample", dir: "..", config: "config.yaml", format: FormatJSON},
	{name: "sample", dir: "..", config: "config.yaml", format: FormatYAML},
	{name: "three", dir: "testdata", config: "config/three.yaml", format: FormatJSON},
	{name: "three", dir: "testdata", config: "config/three.yaml", format: FormatYAML},
	{name: "three-prod", dir: "testdata", config: "config/three.yaml", stage: "prod", format: FormatJSON},
	{name: "http", dir: "testdata", config: "config/http.yaml", format: FormatJSON},
	{name: "http", dir: "testdata", config: "config/http.yaml", format: FormatYAML},
	{name: "http-features", dir: "testdata", config: "config/http-features.yaml", format: FormatJSON},
	{name: "http-features", dir: "testdata", config: "config/http-features.yaml", format: FormatYAML},
	{name: "rest-features", dir: "testdata", config: "config/rest-features.yaml", format: FormatJSON},
	{name: "rest-features-prod", dir: "testdata", config: "config/rest-features.yaml", stage: "prod", format: FormatJSON},
	{name: "sample-merged", dir: "..", config: "config.yaml", overlay: "testdata/merge/overlay.yaml", format: FormatJSON},
}

func TestGenerateGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name+"."+tc.format, func(t *testing.T) {
			p := load(t, tc.dir, tc.config, tc.stage)
			doc, err := Generate(p, codeURIs(p))
			if err != nil {
				t.Fatal(err)
			}
			if tc.overlay != "" {
				if doc, err = Merge(doc, tc.overlay); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Marshal(doc, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, filepath.Join("testdata", "golden", tc.name+"."+tc.format), got)
		})
	}
}

// TestGoldenTemplatesPassCfnLint runs the real cfn-lint, which expands the SAM transform, on every
// golden template: no errors, no warnings, no informational findings.
func TestGoldenTemplatesPassCfnLint(t *testing.T) {
	if testing.Short() {
		t.Skip("cfn-lint takes seconds; skipped with -short")
	}
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatalf("cfn-lint is required to validate the generated templates: %v", err)
	}
	var files []string
	for _, tc := range goldenCases {
		files = append(files, filepath.Join("testdata", "golden", tc.name+"."+tc.format))
	}
	out, err := exec.Command(bin, append([]string{"--format", "parseable", "--"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint %s: %v\n%s", strings.Join(files, " "), err, out)
	}
	if len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("cfn-lint reported findings:\n%s", out)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	p := load(t, "testdata", "config/three.yaml", "")
	var first map[string][]byte
	for i := range 30 {
		out := map[string][]byte{}
		for _, format := range []string{FormatJSON, FormatYAML} {
			doc, err := Generate(p, codeURIs(p))
			if err != nil {
				t.Fatal(err)
			}
			if out[format], err = Marshal(doc, format); err != nil {
				t.Fatal(err)
			}
		}
		if i == 0 {
			first = out
			continue
		}
		for format, b := range out {
			if !bytes.Equal(b, first[format]) {
				t.Fatalf("run %d gave different %s:\n%s", i, format, testkit.Diff(string(first[format]), string(b)))
			}
		}
	}
}

// TestYAMLReadsBackAsJSON checks the two formats say the same thing, quoting included.
func TestYAMLReadsBackAsJSON(t *testing.T) {
	doc := Document{
		"Strings": map[string]any{
			"bool": "true", "int": "1", "date": "2010-09-09", "null": "null", "yes": "yes",
			"octal": "0755", "colon": "a: b", "hash": "# not a comment", "empty": "", "multi": "a\nb",
		},
		"Numbers": []any{json.Number("3"), json.Number("-2.5"), json.Number("1e+21")},
		"Other":   []any{true, false, nil},
	}
	for _, format := range []string{FormatJSON, FormatYAML} {
		b, err := Marshal(doc, format)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parse(b, "sam."+format)
		if err != nil {
			t.Fatalf("parse %s: %v\n%s", format, err, b)
		}
		if !reflect.DeepEqual(back, doc) {
			t.Errorf("%s did not read back:\n%s\ngot  %#v\nwant %#v", format, b, back, doc)
		}
	}
	if _, err := Marshal(doc, "toml"); err == nil || !strings.Contains(err.Error(), `"toml"`) {
		t.Errorf("Marshal(toml) error = %v, want one naming the format", err)
	}
}

// TestYAMLQuotesWhatYAML11Retypes: CloudFormation and the AWS CLI read YAML 1.1, where an
// environment value like "yes" or "12:30" would silently become true or 750.
func TestYAMLQuotesWhatYAML11Retypes(t *testing.T) {
	tests := []struct {
		value, want string
	}{
		{"yes", `"yes"`}, {"On", `"On"`}, {"off", `"off"`}, {"y", `"y"`}, {"NO", `"NO"`},
		{"12:30:00", `"12:30:00"`}, {"0755", `"0755"`}, {"1e3", `"1e3"`}, {".5", `".5"`},
		{"-1", `"-1"`}, {"+1", `"+1"`}, {"2010-09-09", `"2010-09-09"`}, {"~", `"~"`}, {"", `""`},
		{"bootstrap", "bootstrap"}, {"provided.al2023", "provided.al2023"}, {"/pets/{id}", "/pets/{id}"},
		{"./deployment.zip", "./deployment.zip"}, {"-x", "-x"}, {"-.5", `"-.5"`}, {".Inf", `".Inf"`},
	}
	for _, tc := range tests {
		b, err := Marshal(Document{"K": tc.value}, FormatYAML)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(b), "K: "+tc.want+"\n"; got != want {
			t.Errorf("Marshal(%q) = %q, want %q", tc.value, got, want)
		}
	}
}

func TestGenerateRejects(t *testing.T) {
	fn := func(name string) *project.Function {
		return &project.Function{Name: name, Source: "./x", MemoryMB: 128, TimeoutSec: 3, Architecture: project.ArchX86}
	}
	tests := []struct {
		name      string
		kind      string
		functions []*project.Function
		uris      map[string]string
		want      string
	}{
		{"function named like the REST API", project.KindREST, []*project.Function{fn("RestAPI")}, map[string]string{"RestAPI": "a.zip"}, "RestAPI is the logical id of the API"},
		{"function named like the HTTP API", project.KindHTTP, []*project.Function{fn("HttpAPI")}, map[string]string{"HttpAPI": "a.zip"}, "HttpAPI is the logical id of the API"},
		{"function named like another's role", project.KindREST, []*project.Function{fn("Pets"), fn("PetsRole")}, map[string]string{"Pets": "a.zip", "PetsRole": "b.zip"}, "role SAM creates for Pets"},
		{"missing CodeUri", project.KindREST, []*project.Function{fn("Pets"), fn("Users")}, map[string]string{"Pets": "a.zip"}, "no CodeUri for function Users"},
		{"unknown API kind", "websocket", []*project.Function{fn("Pets")}, map[string]string{"Pets": "a.zip"}, `unknown API kind "websocket"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &project.Project{API: project.API{Kind: tc.kind, Stage: "api"}, Functions: tc.functions}
			_, err := Generate(p, tc.uris)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Generate error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestBinaryMediaTypesEscaped checks a REST API's binary media types reach the template with
// SAM's "~1" for "/" (SAM writes them into the OpenAPI document), and an HTTP API gets none.
func TestBinaryMediaTypesEscaped(t *testing.T) {
	fn := []*project.Function{{Name: "Fn", MemoryMB: 128, TimeoutSec: 3}}
	uris := map[string]string{"Fn": "./deployment.zip"}
	rest := &project.Project{API: project.API{Kind: project.KindREST, Stage: "api", BinaryMediaTypes: []string{"image/png", "*/*"}}, Functions: fn}
	doc, err := Generate(rest, uris)
	if err != nil {
		t.Fatal(err)
	}
	if got := dig(t, doc, "Resources", RestAPI, "Properties", "BinaryMediaTypes"); !reflect.DeepEqual(got, []any{"image~1png", "*~1*"}) {
		t.Errorf("BinaryMediaTypes = %v, want [image~1png *~1*]", got)
	}
	httpAPI := &project.Project{API: project.API{Kind: project.KindHTTP, Stage: project.DefaultHTTPStage}, Functions: fn}
	if doc, err = Generate(httpAPI, uris); err != nil {
		t.Fatal(err)
	}
	if got := dig(t, doc, "Resources", HTTPAPI, "Properties"); got.(map[string]any)["BinaryMediaTypes"] != nil {
		t.Errorf("HTTP API properties = %v, want no BinaryMediaTypes", got)
	}
}

func TestEnvironmentIsKeptVerbatim(t *testing.T) {
	// Keys named like intrinsics, and a value that is exactly how goformation (which built the
	// template until it was replaced) encoded an intrinsic, must still reach the function as the
	// text the user wrote.
	encoded := base64.StdEncoding.EncodeToString([]byte(`{ "Ref": "RestAPI" }`))
	p := &project.Project{
		API: project.API{Kind: project.KindREST, Stage: "api"},
		Functions: []*project.Function{{
			Name: "Fn", MemoryMB: 128, TimeoutSec: 3, Architecture: project.ArchARM,
			Environment: map[string]string{"Ref": "x", "Fn::Sub": "y", "TOKEN": encoded},
		}},
	}
	doc, err := Generate(p, map[string]string{"Fn": "./deployment.zip"})
	if err != nil {
		t.Fatal(err)
	}
	got := dig(t, doc, "Resources", "Fn", "Properties", "Environment", "Variables")
	want := map[string]any{"Ref": "x", "Fn::Sub": "y", "TOKEN": encoded}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Variables = %#v, want %#v", got, want)
	}
	if got := dig(t, doc, "Resources", "Fn", "Properties", "Architectures"); !reflect.DeepEqual(got, []any{"arm64"}) {
		t.Errorf("Architectures = %v, want [arm64]", got)
	}
}

func TestEventNames(t *testing.T) {
	tests := []struct {
		method, path, want string
	}{
		{"GET", "/", "GetRoot"},
		{"GET", "/pets/{id}", "GetPetsId"},
		{"ANY", "/files/{proxy+}", "AnyFilesProxy"},
		{"DELETE", "/user-profiles/{user_id}", "DeleteUserProfilesUserId"},
		{"POST", "/v1/pets.json", "PostV1PetsJson"},
	}
	for _, tc := range tests {
		if got := eventName(project.Route{Method: tc.method, Path: tc.path}); got != tc.want {
			t.Errorf("eventName(%s %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}

	// Different paths that spell the same name get numbered in route order.
	p := &project.Project{Routes: []project.Route{
		{Method: "GET", Path: "/pets/{id}", Function: "F"},
		{Method: "GET", Path: "/pets/id", Function: "F"},
		{Method: "GET", Path: "/pets/{id}", Function: "Other"},
	}}
	evs := events(p, "F", RestAPI, "Api")
	if len(evs) != 2 {
		t.Fatalf("events = %v, want GetPetsId for /pets/{id} and GetPetsId2 for /pets/id", keys(evs))
	}
	if a, b := dig(t, evs, "GetPetsId", "Properties", "Path"), dig(t, evs, "GetPetsId2", "Properties", "Path"); a != "/pets/{id}" || b != "/pets/id" {
		t.Errorf("GetPetsId is for %v and GetPetsId2 for %v, want /pets/{id} and /pets/id", a, b)
	}
}

func TestMerge(t *testing.T) {
	base := func() Document {
		return Document{
			"Resources": map[string]any{
				"Fn": map[string]any{
					"Type": "AWS::Serverless::Function",
					"Properties": map[string]any{
						"MemorySize":    json.Number("128"),
						"Architectures": []any{"x86_64"},
						"Environment":   map[string]any{"Variables": map[string]any{"A": "1"}},
						"CodeUri":       map[string]any{"Ref": "Code"},
					},
				},
			},
		}
	}
	tests := []struct {
		name, file, overlay string
		path                []string
		want                any
	}{
		{"scalar wins", "o.yaml", "Resources: {Fn: {Properties: {MemorySize: 512}}}",
			[]string{"Resources", "Fn", "Properties", "MemorySize"}, json.Number("512")},
		{"list is replaced, not appended", "o.yaml", "Resources: {Fn: {Properties: {Architectures: [arm64]}}}",
			[]string{"Resources", "Fn", "Properties", "Architectures"}, []any{"arm64"}},
		{"maps merge", "o.yaml", "Resources: {Fn: {Properties: {Environment: {Variables: {B: two}}}}}",
			[]string{"Resources", "Fn", "Properties", "Environment", "Variables"}, map[string]any{"A": "1", "B": "two"}},
		{"untouched keys stay", "o.yaml", "Resources: {Fn: {Properties: {Tracing: Active}}}",
			[]string{"Resources", "Fn", "Type"}, "AWS::Serverless::Function"},
		{"null removes", "o.yaml", "Resources: {Fn: {Properties: {MemorySize: null}}}",
			[]string{"Resources", "Fn", "Properties"}, map[string]any{
				"Architectures": []any{"x86_64"},
				"Environment":   map[string]any{"Variables": map[string]any{"A": "1"}},
				"CodeUri":       map[string]any{"Ref": "Code"},
			}},
		{"an intrinsic replaces, never merges", "o.yaml", "Resources: {Fn: {Properties: {CodeUri: !Sub 's3://b/${K}'}}}",
			[]string{"Resources", "Fn", "Properties", "CodeUri"}, map[string]any{"Fn::Sub": "s3://b/${K}"}},
		{"JSON overlay", "o.json", `{"Resources": {"Fn": {"Properties": {"Timeout": 30}}}}`,
			[]string{"Resources", "Fn", "Properties", "Timeout"}, json.Number("30")},
		{"JSON without extension", "overlay", ` {"Outputs": {"X": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}}}}`,
			[]string{"Outputs", "X", "Value"}, map[string]any{"Fn::GetAtt": []any{"Fn", "Arn"}}},
		{"!GetAtt short form", "o.yml", "Outputs: {X: {Value: !GetAtt Fn.Arn}}",
			[]string{"Outputs", "X", "Value"}, map[string]any{"Fn::GetAtt": []any{"Fn", "Arn"}}},
		{"nested short forms", "o.yaml", "Outputs: {X: {Value: !Join ['', [!Ref AWS::Region, !Select [0, !GetAZs '']]]}}",
			[]string{"Outputs", "X", "Value"}, map[string]any{"Fn::Join": []any{"", []any{
				map[string]any{"Ref": "AWS::Region"},
				map[string]any{"Fn::Select": []any{json.Number("0"), map[string]any{"Fn::GetAZs": ""}}},
			}}}},
		{"anchors and merge keys", "o.yaml", "Defaults: &d {Tracing: Active, Timeout: 9}\nResources: {Fn: {Properties: {<<: *d, Timeout: 10}}}",
			[]string{"Resources", "Fn", "Properties", "Timeout"}, json.Number("10")},
		{"a variable named Ref is a variable", "o.yaml", "Resources: {Fn: {Properties: {Environment: {Variables: {Ref: main}}}}}",
			[]string{"Resources", "Fn", "Properties", "Environment", "Variables"}, map[string]any{"A": "1", "Ref": "main"}},
		{"dates stay text", "o.yaml", "AWSTemplateFormatVersion: 2010-09-09",
			[]string{"AWSTemplateFormatVersion"}, "2010-09-09"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(file, []byte(tc.overlay), 0o644); err != nil {
				t.Fatal(err)
			}
			generated := base()
			got, err := Merge(generated, file)
			if err != nil {
				t.Fatal(err)
			}
			if v := dig(t, got, tc.path...); !reflect.DeepEqual(v, tc.want) {
				t.Errorf("%s = %#v, want %#v", strings.Join(tc.path, "."), v, tc.want)
			}
			if !reflect.DeepEqual(generated, base()) {
				t.Errorf("Merge changed the generated document it was given")
			}
		})
	}
}

func TestMergeErrorsNameFileAndProblem(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                []string
	}{
		{"missing file", "absent.yaml", "", []string{"read merge template", "absent.yaml", "no such file"}},
		{"invalid YAML", "bad.yaml", "Resources:\n  Fn: [\n", []string{"bad.yaml:2", "invalid YAML"}},
		{"YAML indent", "indent.yaml", "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n   Properties: {}\n", []string{"indent.yaml:4:4: invalid YAML: did not find expected key"}},
		{"invalid JSON", "bad.json", "{\n  \"Resources\": {,}\n}", []string{"bad.json:2:17", "invalid JSON"}},
		{"JSON with trailing data", "two.json", "{}\n{}", []string{"two.json:2:1", "more data"}},
		{"top level is a list", "list.yaml", "- a\n- b\n", []string{"list.yaml", "top level must be a map", "a list"}},
		{"empty file", "empty.yaml", "", []string{"empty.yaml", "empty"}},
		{"unknown tag", "tag.yaml", "Outputs:\n  X: {Value: !Reff Fn}\n", []string{"tag.yaml:2:14", "unknown tag !Reff"}},
		{"duplicate key", "dup.yaml", "Outputs: {}\nOutputs: {}\n", []string{"dup.yaml:2:1", `"Outputs" given twice`}},
		{"GetAtt without attribute", "getatt.yaml", "Outputs: {X: {Value: !GetAtt Fn}}", []string{"getatt.yaml:1:22", "Resource.Attribute"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, tc.file)
			if tc.name != "missing file" {
				if err := os.WriteFile(file, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Merge(Document{}, file)
			if err == nil {
				t.Fatal("Merge succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.name == "missing file" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("error %v does not wrap os.ErrNotExist", err)
			}
		})
	}
}

func load(t *testing.T, dir, config, stage string) *project.Project {
	t.Helper()
	p, err := project.Load(project.Options{Dir: dir, Config: config, Stage: stage})
	if err != nil {
		t.Fatalf("load %s: %v", config, err)
	}
	return p
}

// codeURIs names zips the way the packager does: deployment.zip alone, <Function>.zip for several.
func codeURIs(p *project.Project) map[string]string {
	uris := map[string]string{}
	for _, f := range p.Functions {
		uris[f.Name] = "./" + f.Name + ".zip"
		if len(p.Functions) == 1 {
			uris[f.Name] = "./deployment.zip"
		}
	}
	return uris
}

func dig(t *testing.T, doc Document, path ...string) any {
	t.Helper()
	var v any = map[string]any(doc)
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s is not a map", k)
		}
		v = m[k]
	}
	return v
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
