package template

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/devserver/devserver/project"
)

// readTemplate writes content as dir/name and reads it, unpacking into a folder of its own.
func readTemplate(t *testing.T, dir, name, content string, opts ReadOptions) (*project.Project, []Warning, error) {
	t.Helper()
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if opts.UnpackDir == "" {
		opts.UnpackDir = filepath.Join(t.TempDir(), "code")
	}
	opts.DisplayName = name
	return Read(file, opts)
}

// goModule makes dir a Go module with a main package in each of mains.
func goModule(t testing.TB, dir string, mains ...string) {
	t.Helper()
	files := map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n"}
	for _, m := range mains {
		files[filepath.Join(m, "main.go")] = "package main\n\nfunc main() {}\n"
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// warningKeys lists "Key: Reason" of each warning, in order.
func warningKeys(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Key)
	}
	return out
}

// checkWarnings wants exactly the warnings whose keys are given, in order, each with a reason
// holding the text given with it.
func checkWarnings(t *testing.T, ws []Warning, want [][2]string) {
	t.Helper()
	var keys []string
	for _, w := range want {
		keys = append(keys, w[0])
	}
	if got := warningKeys(ws); !slices.Equal(got, keys) {
		var lines []string
		for _, w := range ws {
			lines = append(lines, w.String())
		}
		t.Fatalf("warnings are about\n  %s\nwant\n  %s\nwarnings:\n  %s", strings.Join(got, "\n  "), strings.Join(keys, "\n  "), strings.Join(lines, "\n  "))
	}
	for i, w := range ws {
		if !strings.Contains(w.Msg, want[i][1]) {
			t.Errorf("warning %s: reason %q does not contain %q", w.Key, w.Msg, want[i][1])
		}
	}
}

// TestReadSAMInit reads a template written by hand in the style of `sam init`'s Go hello-world:
// short-form tags, Globals, parameters with an override, conditions, a mapping, an Api and an
// HttpApi event, and a DynamoDB table devserver cannot emulate.
func TestReadSAMInit(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "sam"))
	if err != nil {
		t.Fatal(err)
	}
	hello := func(stage string) *project.Function {
		return &project.Function{
			Name: "HelloWorldFunction", Source: "./hello-world", Dir: filepath.Join(dir, "hello-world"),
			ModuleDir: filepath.Join(dir, "hello-world"), MemoryMB: 128, TimeoutSec: 5, Architecture: "x86_64",
			Environment: map[string]string{"LOG_LEVEL": "info", "STAGE": stage, "PARAM1": "VALUE", "GREETING": "hello from eu-central-1 in " + stage},
		}
	}
	users := &project.Function{
		Name: "UsersFunction", Source: "./users", Dir: filepath.Join(dir, "users"), ModuleDir: dir,
		MemoryMB: 128, TimeoutSec: 10, Architecture: "arm64", ReservedConcurrency: 5,
		Environment: map[string]string{
			"LOG_LEVEL": "info", "STAGE": "dev", "TABLE": "UsersTable", "TABLE_ARN": "UsersTable.Arn", "DEBUG": "true",
			"HELLO_ARN": "arn:aws:lambda:eu-central-1:111122223333:function:HelloWorldFunction",
			"ENDPOINT":  "https://eu-central-1.amazonaws.com",
		},
	}
	usersProd := *users
	usersProd.MemoryMB, usersProd.TimeoutSec = 1024, 30
	usersProd.Environment = map[string]string{
		"LOG_LEVEL": "info", "STAGE": "prod", "TABLE": "UsersTable", "TABLE_ARN": "UsersTable.Arn",
		"HELLO_ARN": "arn:aws:lambda:eu-central-1:111122223333:function:HelloWorldFunction",
		"ENDPOINT":  "https://eu-central-1.amazonaws.com",
	}
	warnings := [][2]string{
		{"Globals.Function.Tracing", "X-Ray tracing is not emulated"},
		{"Resources.UsersFunction.Properties.Policies", "IAM is not emulated"},
		{"Resources.UsersFunction.Properties.Environment.Variables.TABLE", `Ref UsersTable: the name of UsersTable (AWS::DynamoDB::Table) is only known once deployed; locally it is "UsersTable"`},
		{"Resources.UsersFunction.Properties.Environment.Variables.TABLE_ARN", `locally it is "UsersTable.Arn"`},
		{"Resources.UsersFunction.Properties.Events.GetUser", "not served: devserver serves one kind of API at a time"},
		{"Resources.UsersFunction.Properties.Events.Changes", "event type DynamoDB is not emulated"},
		{"Resources.NodeFunction.Properties.Runtime", "runtime nodejs20.x is not one Go functions use"},
		{"Resources.NodeFunction.Properties.Events.Get", "function NodeFunction is not served"},
		{"Resources.UsersTable", "AWS::DynamoDB::Table is not emulated"},
	}
	tests := []struct {
		name      string
		overrides map[string]string
		functions []*project.Function
		warnings  [][2]string
	}{
		{"defaults", nil, []*project.Function{hello("dev"), users}, warnings},
		{"Stage=prod", map[string]string{"Stage": "prod"}, []*project.Function{hello("prod"), &usersProd},
			append(slices.Clone(warnings), [2]string{"Resources.ProdBucket", "AWS::S3::Bucket is not emulated"})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ws, err := Read(filepath.Join(dir, "template.yaml"), ReadOptions{
				ParameterOverrides: tc.overrides, Region: "eu-central-1", AccountID: "111122223333",
				UnpackDir: t.TempDir(), DisplayName: "template.yaml",
			})
			if err != nil {
				t.Fatal(err)
			}
			checkWarnings(t, ws, tc.warnings)
			// The model carries them too: the commands print Project.Warnings.
			if len(p.Warnings) != len(ws) {
				t.Fatalf("Project.Warnings has %d, Read returned %d", len(p.Warnings), len(ws))
			}
			for i, w := range ws {
				if p.Warnings[i] != w.Problem {
					t.Errorf("Project.Warnings[%d] = %s, want %s", i, p.Warnings[i], w.Problem)
				}
			}
			if ws[0].String() != "template.yaml:33:5: Globals.Function.Tracing: X-Ray tracing is not emulated" || ws[0].Resource != "Globals" || ws[0].Property != "Function.Tracing" {
				t.Errorf("first warning = %s (%q, %q), want it at template.yaml:33:5 about Globals, Function.Tracing", ws[0], ws[0].Resource, ws[0].Property)
			}
			if w := ws[2]; w.Resource != "UsersFunction" || w.Property != "Environment.Variables.TABLE" || w.Line != 81 || w.Col != 11 {
				t.Errorf("TABLE warning = %+v, want Resource UsersFunction, Property Environment.Variables.TABLE at 81:11", w)
			}
			if p.Dir != dir || p.ConfigFile != filepath.Join(dir, "template.yaml") || p.AppName != "sam" {
				t.Errorf("Dir, ConfigFile, AppName = %s, %s, %s", p.Dir, p.ConfigFile, p.AppName)
			}
			// SAM creates the REST API for the CatchAll event, so that is where the kind is decided.
			wantAPI := project.API{Kind: project.KindREST, KindPos: project.Position{File: "template.yaml", Line: 54, Col: 9},
				Stage: "Prod", TimeoutMS: 29000, BinaryMediaTypes: []string{"image/png"}}
			if !reflect.DeepEqual(p.API, wantAPI) {
				t.Errorf("API = %+v, want %+v", p.API, wantAPI)
			}
			if want := []project.Route{{Method: "GET", Path: "/hello", Function: "HelloWorldFunction", PayloadFormat: project.Payload10}}; !reflect.DeepEqual(p.Routes, want) {
				t.Errorf("Routes = %+v, want %+v", p.Routes, want)
			}
			if len(p.Functions) != len(tc.functions) {
				t.Fatalf("%d functions, want %d", len(p.Functions), len(tc.functions))
			}
			for i, f := range p.Functions {
				if !reflect.DeepEqual(f, tc.functions[i]) {
					t.Errorf("function %d =\n  %+v\nwant\n  %+v", i, *f, *tc.functions[i])
				}
			}
		})
	}
}

// TestReadProblems: what stops a function from being served as in the cloud fails Read, every
// problem at once, each pointing into the file.
func TestReadProblems(t *testing.T) {
	otherMachine, otherSAM := machineOf(otherArch())
	tests := []struct {
		name     string
		template string
		zips     map[string][]testEntry
		want     []string
	}{
		{"settings out of range", `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn
      MemorySize: 99999
      Timeout: !Ref Big
Parameters:
  Big: {Type: Number, Default: 901}
`, nil, []string{
			"template.yaml:7:19: Resources.Fn.Properties.MemorySize: 99999 MB is outside 128–10240",
			"template.yaml:8:16: Resources.Fn.Properties.Timeout: 901 s is outside 1–900",
		}},
		{"code that is not there", `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, CodeUri: ./missing}
  Lib:
    Type: AWS::Serverless::Function
    Properties: {Runtime: go1.x, Handler: lib, CodeUri: ./lib}
  NoCode:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2}
`, nil, []string{
			"template.yaml:4:53: Resources.Fn.Properties.CodeUri: ./missing does not exist (CodeUri is relative to the template's folder)",
			"template.yaml:7:57: Resources.Lib.Properties.CodeUri: ./lib is package lib, not a main package, and it holds no lib executable either",
			"template.yaml:10:5: Resources.NoCode.Properties.CodeUri: missing",
		}},
		{"routes", `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn
      Events:
        A: {Type: Api, Properties: {Path: pets, Method: get}}
        B: {Type: Api, Properties: {Path: /pets, Method: fetch}}
        C: {Type: Api, Properties: {Path: "/pets/{id}", Method: get}}
        D: {Type: Api, Properties: {Path: "/pets/{petId}/", Method: GET}}
        E: {Type: Api, Properties: {Path: /x, Method: get, RestApiId: !Ref Nope}}
        F: {Type: Api, Properties: {Method: get}}
`, nil, []string{
			`template.yaml:8:43: Resources.Fn.Properties.Events.A.Properties.Path: "pets" must start with /`,
			`template.yaml:9:58: Resources.Fn.Properties.Events.B.Properties.Method: unknown method "fetch"`,
			"template.yaml:11:12: Resources.Fn.Properties.Events.D: duplicate route GET /pets/{petId}: Resources.Fn.Properties.Events.C already routes it to Fn",
			"template.yaml:12:71: Resources.Fn.Properties.Events.E.Properties.RestApiId: no resource Nope in the template",
			"template.yaml:13:24: Resources.Fn.Properties.Events.F.Properties.Path: missing",
		}},
		{"an override outside AllowedValues", `Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, CodeUri: ./fn}
`, nil, []string{`template.yaml:2:3: Parameters.Stage: value "staging" is not one of its AllowedValues`}},
		{"environment Lambda refuses", `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn
      Environment:
        Variables:
          AWS_REGION: eu-west-1
          X: short
          LIST: [a, b]
`, nil, []string{
			"template.yaml:9:11: Resources.Fn.Properties.Environment.Variables.AWS_REGION: Lambda reserves AWS_REGION",
			"template.yaml:10:11: Resources.Fn.Properties.Environment.Variables.X: Lambda takes variable names of two or more",
			"template.yaml:11:17: Resources.Fn.Properties.Environment.Variables.LIST: must be a string, not a list",
		}},
		{"a malformed function call", `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn
      MemorySize: !Select [3, [128, 256]]
`, nil, []string{"template.yaml:7:19: Resources.Fn.Properties.MemorySize: Fn::Select: index 3 is outside a list of 2"}},
		{"a REST API without a stage", `Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, CodeUri: ./fn}
`, nil, []string{"template.yaml:4:5: Resources.Api.Properties.StageName: missing"}},
		{"a zip built for another machine", fmt.Sprintf(`Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn.zip
      Architectures: [%s]
`, otherSAM), map[string][]testEntry{"fn.zip": {{name: "bootstrap", body: string(fakeELF(otherMachine, 0)), mode: 0o755}}},
			[]string{"template.yaml:6:16: Resources.Fn.Properties.CodeUri: bootstrap is a linux/" + otherArch() + " executable; this machine (" + runtime.GOOS + "/" + runtime.GOARCH + ") cannot run it"}},
		{"a zip whose Architectures is wrong", `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn.zip
      Architectures: [` + otherSAM + `]
`, map[string][]testEntry{"fn.zip": {{name: "bootstrap", body: string(hostELF()), mode: 0o755}}},
			[]string{"bootstrap is built for linux/" + runtime.GOARCH + " but the function's Architectures is " + otherSAM}},
		{"an unsafe zip", `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, CodeUri: fn.zip}
`, map[string][]testEntry{"fn.zip": {{name: "bootstrap", body: "x"}, {name: "../../evil", body: "x"}}},
			[]string{`template.yaml:4:53: Resources.Fn.Properties.CodeUri: fn.zip: refuse zip: entry "../../evil" leaves the folder it is unpacked into`}},
		{"a zip without bootstrap", `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, CodeUri: fn.zip}
`, map[string][]testEntry{"fn.zip": {{name: "main", body: "x"}, {name: "lib/bootstrap", body: "x"}}},
			[]string{"Resources.Fn.Properties.CodeUri: fn.zip holds no bootstrap at its root (it holds lib/bootstrap, main)"}},
		{"no Resources", "Description: nothing\n", nil, []string{"template.yaml:1:1: Resources: missing"}},
		{"invalid YAML", "Resources:\n  Fn: [\n", nil, []string{"read template: template.yaml:2:7: invalid YAML"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			goModule(t, dir, "fn")
			if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "lib", "lib.go"), []byte("package lib\n"), 0o644)
			for name, entries := range tc.zips {
				if err := os.Rename(makeZip(t, entries...), filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			p, _, err := readTemplate(t, dir, "template.yaml", tc.template, ReadOptions{ParameterOverrides: map[string]string{"Stage": "staging"}})
			if err == nil {
				t.Fatalf("Read succeeded with %+v, want an error", p)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("Read error has %d lines, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d of the error is\n  %s\nwant it to contain\n  %s", i+1, lines[i], w)
				}
			}
			if strings.HasPrefix(tc.want[0], "template.yaml:") {
				var ce *project.ConfigError
				if !errors.As(err, &ce) {
					t.Errorf("error is a %T, want a *project.ConfigError", err)
				}
			}
		})
	}
}

func TestReadWarnings(t *testing.T) {
	tests := []struct {
		name     string
		template string
		want     [][2]string
		check    func(t *testing.T, p *project.Project)
	}{
		{"what is not served", `Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn
      Layers: [arn:aws:lambda:us-east-1:123456789012:layer:x:1]
      VpcConfig: {SubnetIds: [a], SecurityGroupIds: [b]}
      FunctionName: my-fn
      Description: ignored, changes nothing
      Events:
        Queue: {Type: SQS, Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:q}}
  InS3:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, CodeUri: s3://bucket/key.zip}
  InS3Map:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, CodeUri: {Bucket: b, Key: k}}
  Image:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image, ImageUri: repo:tag}
  Rust:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: rust-cargolambda}
    Properties: {Runtime: provided.al2023, CodeUri: ./fn}
  Raw:
    Type: AWS::Lambda::Function
    Properties: {}
`, [][2]string{
			{"Resources", "no Api or HttpApi route is served; every request answers 403 Missing Authentication Token"},
			{"Resources.Fn.Properties.Layers", "layers are not emulated"},
			{"Resources.Fn.Properties.VpcConfig", "VPC networking is not emulated"},
			{"Resources.Fn.Properties.FunctionName", "locally the function is named Fn"},
			{"Resources.Fn.Properties.Events.Queue", "event type SQS is not emulated"},
			{"Resources.InS3.Properties.CodeUri", "not served: the code is in S3 (s3://bucket/key.zip)"},
			{"Resources.InS3Map.Properties.CodeUri", "not served: the code is in S3"},
			{"Resources.Image", "not served: a container image function"},
			{"Resources.Rust.Metadata.BuildMethod", "not served: BuildMethod rust-cargolambda does not build Go"},
			{"Resources.Raw", "write this function as one"},
		}, func(t *testing.T, p *project.Project) {
			if len(p.Functions) != 1 || p.Functions[0].Name != "Fn" {
				t.Errorf("functions = %v, want Fn alone", p.Functions)
			}
		}},
		{"HTTP API with more routes wins", `Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn
      Events:
        Rest: {Type: Api, Properties: {Path: /r, Method: get}}
        A: {Type: HttpApi, Properties: {Path: /a, Method: get, TimeoutInMillis: 5000}}
        B: {Type: HttpApi, Properties: {Path: /b, Method: post, TimeoutInMillis: 5000, PayloadFormatVersion: "1.0"}}
`, [][2]string{
			{"Resources.Fn.Properties.Events.Rest", "here the HTTP API (HttpApi events) with 2 routes, not the REST API (Api events) with 1 route"},
		}, func(t *testing.T, p *project.Project) {
			// SAM creates the HTTP API for event A, the first of its kind.
			want := project.API{Kind: project.KindHTTP, KindPos: project.Position{File: "template.yaml", Line: 10, Col: 9}, Stage: "$default", TimeoutMS: 5000}
			if !reflect.DeepEqual(p.API, want) {
				t.Errorf("API = %+v, want %+v", p.API, want)
			}
			if len(p.Routes) != 2 || p.Routes[0].Key() != "GET /a" || p.Routes[1].Key() != "POST /b" ||
				p.Routes[0].PayloadFormat != project.Payload20 || p.Routes[1].PayloadFormat != project.Payload10 {
				t.Errorf("Routes = %v, want GET /a (payload 2.0) and POST /b (payload 1.0)", p.Routes)
			}
		}},
		{"two REST APIs", `Transform: AWS::Serverless-2016-10-31
Resources:
  Main:
    Type: AWS::Serverless::Api
    Properties: {StageName: v1, BinaryMediaTypes: [image~1png]}
  Admin:
    Type: AWS::Serverless::Api
    Properties: {StageName: admin, BinaryMediaTypes: ['application~1pdf'], Cors: "'*'", Auth: {DefaultAuthorizer: AWS_IAM}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn
      Events:
        A: {Type: Api, Properties: {Path: /a, Method: get, RestApiId: !Ref Main}}
        B: {Type: Api, Properties: {Path: /b, Method: get, RestApiId: !Ref Main, TimeoutInMillis: 3000}}
        C: {Type: Api, Properties: {Path: /c, Method: get, RestApiId: !Ref Admin, Auth: {Authorizer: NONE}}}
        D: {Type: Api, Properties: {Path: /a, Method: get, RestApiId: !Ref Admin}}
`, [][2]string{
			{"Resources.Admin", "its routes are served together with those of Main, under stage v1 instead of admin"},
			{"Resources.Admin.Properties.Cors", "CORS is not emulated"},
			{"Resources.Admin.Properties.Auth", "authorization is not emulated"},
			{"Resources.Fn.Properties.Events.B", "integration timeout 3000 ms is not emulated: devserver applies one timeout to all routes, the longest (29000 ms)"},
			{"Resources.Fn.Properties.Events.D", "not served: GET /a is already routed to Fn by API Main"},
		}, func(t *testing.T, p *project.Project) {
			want := project.API{Kind: project.KindREST, KindPos: project.Position{File: "template.yaml", Line: 3, Col: 3}, Stage: "v1", TimeoutMS: 29000, BinaryMediaTypes: []string{"image/png", "application/pdf"}}
			if !reflect.DeepEqual(p.API, want) {
				t.Errorf("API = %+v, want %+v", p.API, want)
			}
			if len(p.Routes) != 3 {
				t.Errorf("Routes = %v, want /a, /b, /c", p.Routes)
			}
		}},
		{"inline OpenAPI definitions", `Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      DefinitionBody:
        openapi: "3.0.1"
        x-amazon-apigateway-binary-media-types: ["image/*"]
        paths:
          /pets/{id}:
            parameters: []
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Pets.Arn}/invocations"
                timeoutInMillis: 12000
            x-amazon-apigateway-any-method:
              x-amazon-apigateway-integration:
                type: AWS_PROXY
                uri: {Fn::Join: ["", ["arn:aws:apigateway:", {Ref: AWS::Region}, ":lambda:path/2015-03-31/functions/", {Fn::GetAtt: [Pets, Arn]}, "/invocations"]]}
                timeoutInMillis: 12000
          /users:
            post:
              x-amazon-apigateway-integration:
                type: aws_proxy
                uri: !Sub ["arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Target}/invocations", {Target: !GetAtt Users.Arn}]
                timeoutInMillis: 12000
            options:
              x-amazon-apigateway-integration: {type: mock}
          /node:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Node.Arn}/invocations"
  Pets:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn
      Events:
        Get: {Type: Api, Properties: {Path: "/pets/{id}", Method: get, RestApiId: !Ref Api}}
  Users:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, CodeUri: ./fn}
  Node:
    Type: AWS::Serverless::Function
    Properties: {Runtime: nodejs20.x, CodeUri: ./node, Handler: index.handler}
`, [][2]string{
			{"Resources.Api.Properties.DefinitionBody.paths./users.options.x-amazon-apigateway-integration", `integration type "mock" is not emulated`},
			{"Resources.Api.Properties.DefinitionBody.paths./node.get", "function Node is not served"},
			{"Resources.Node.Properties.Runtime", "runtime nodejs20.x is not one"},
		}, func(t *testing.T, p *project.Project) {
			want := project.API{Kind: project.KindREST, KindPos: project.Position{File: "template.yaml", Line: 3, Col: 3}, Stage: "live", TimeoutMS: 12000, BinaryMediaTypes: []string{"image/*"}}
			if !reflect.DeepEqual(p.API, want) {
				t.Errorf("API = %+v, want %+v", p.API, want)
			}
			var got []string
			for _, r := range p.Routes {
				got = append(got, r.Key()+" "+r.Function)
			}
			// The event and the definition both route GET /pets/{id}: one route.
			if want := []string{"GET /pets/{id} Pets", "ANY /pets/{id} Pets", "POST /users Users"}; !slices.Equal(got, want) {
				t.Errorf("Routes = %q, want %q", got, want)
			}
		}},
		{"HTTP API default route and definition", `Transform: AWS::Serverless-2016-10-31
Resources:
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionBody:
        openapi: "3.0.1"
        paths:
          /items:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                payloadFormatVersion: "2.0"
                uri: !GetAtt Items.Arn
  Items:
    Type: AWS::Serverless::Function
    Properties: {Runtime: provided.al2023, CodeUri: ./fn}
  Fallback:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn
      Events:
        All: {Type: HttpApi, Properties: {ApiId: !Ref Http}}
`, nil, func(t *testing.T, p *project.Project) {
			var got []string
			for _, r := range p.Routes {
				got = append(got, r.Key()+" "+r.Function)
			}
			if want := []string{"GET /items Items", "$default Fallback"}; !slices.Equal(got, want) {
				t.Errorf("Routes = %q, want %q", got, want)
			}
			if p.API.Kind != project.KindHTTP || p.API.Stage != "$default" {
				t.Errorf("API = %+v, want http, $default", p.API)
			}
		}},
		{"values only the cloud knows", `Transform: AWS::Serverless-2016-10-31
Parameters:
  Secret: {Type: String}
  Vpc: {Type: "AWS::SSM::Parameter::Value<String>", Default: /shared/vpc}
  Unused: {Type: String, Default: x}
Conditions:
  HasSecret: !Not [!Equals [!Ref Secret, ""]]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ./fn
      Environment:
        Variables:
          SECRET: !Ref Secret
          VPC: !Ref Vpc
          QUEUE_URL: !Sub "https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/${Queue.QueueName}"
          MAYBE: !If [HasSecret, a, b]
          SHARED: !ImportValue shared-bucket
  Queue:
    Type: AWS::SQS::Queue
`, [][2]string{
			{"Parameters", "the override for Other is not used"},
			{"Resources", "no Api or HttpApi route is served; every request answers 403 Missing Authentication Token"},
			{"Resources.Fn.Properties.Environment.Variables.SECRET", "parameter Secret has no Default and no override"},
			{"Resources.Fn.Properties.Environment.Variables.VPC", `parameter Vpc is the SSM parameter "/shared/vpc", read at deploy time`},
			{"Resources.Fn.Properties.Environment.Variables.QUEUE_URL", `locally it is "https://sqs.us-east-1.amazonaws.com/123456789012/Queue.QueueName"`},
			{"Resources.Fn.Properties.Environment.Variables.MAYBE", "parameter Secret has no Default"},
			{"Resources.Fn.Properties.Environment.Variables.SHARED", "Fn::ImportValue is evaluated by CloudFormation at deploy time"},
			{"Resources.Queue", "AWS::SQS::Queue is not emulated"},
		}, nil},
		{"conditions and IgnoreGlobals", `Transform: AWS::Serverless-2016-10-31
Parameters:
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [prod, !Ref Env]
Globals:
  Function:
    Runtime: provided.al2023
    MemorySize: 256
    Layers: [layer-a]
    Environment: {Variables: {AA: global, BB: global}}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./fn
      Environment: {Variables: {BB: local}}
  Plain:
    Type: AWS::Serverless::Function
    IgnoreGlobals: [MemorySize, Layers]
    Properties: {CodeUri: ./fn}
  None:
    Type: AWS::Serverless::Function
    IgnoreGlobals: "*"
    Properties: {CodeUri: ./fn}
  ProdOnly:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties: {CodeUri: ./nowhere}
`, [][2]string{
			{"Globals.Function.Layers", "layers are not emulated"},
			{"Resources", "no Api or HttpApi route is served; every request answers 403 Missing Authentication Token"},
			{"Resources.None", "not served: no Runtime"},
		}, func(t *testing.T, p *project.Project) {
			fn, plain := p.Function("Fn"), p.Function("Plain")
			if fn == nil || plain == nil || p.Function("None") != nil || p.Function("ProdOnly") != nil {
				t.Fatalf("functions = %v, want Fn and Plain", p.Functions)
			}
			if fn.MemoryMB != 256 || !reflect.DeepEqual(fn.Environment, map[string]string{"AA": "global", "BB": "local"}) {
				t.Errorf("Fn = %+v, want Globals merged: 256 MB, AA from Globals, BB its own", *fn)
			}
			if plain.MemoryMB != 128 {
				t.Errorf("Plain has %d MB, want the default 128 (IgnoreGlobals: MemorySize)", plain.MemoryMB)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			goModule(t, dir, "fn")
			p, ws, err := readTemplate(t, dir, "template.yaml", tc.template, ReadOptions{ParameterOverrides: map[string]string{"Other": "x"}})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if tc.name != "values only the cloud knows" {
				want = append([][2]string{{"Parameters", "the override for Other is not used"}}, want...)
			}
			checkWarnings(t, ws, want)
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

// TestReadPrebuilt serves the bootstrap of a zip (one zip per function, or one shared zip, as
// the packager writes them) and of a folder `sam build` wrote.
func TestReadPrebuilt(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux runs the Linux executables in deployment zips")
	}
	_, arch := machineOf(runtime.GOARCH)
	dir := t.TempDir()
	for name, mode := range map[string]int{"Pets.zip": 0o755, "deployment.zip": 0o644} {
		if err := os.Rename(makeZip(t, testEntry{name: "bootstrap", body: string(hostELF()), mode: os.FileMode(mode)}), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	built := filepath.Join(dir, ".aws-sam", "build", "Built")
	if err := os.MkdirAll(built, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(built, "bootstrap"), hostELF(), 0o755); err != nil {
		t.Fatal(err)
	}
	unpack := filepath.Join(t.TempDir(), "code")
	p, ws, err := readTemplate(t, dir, "sam.yaml", fmt.Sprintf(`Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: provided.al2023, Architectures: [%s]}
Resources:
  Pets:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ./Pets.zip}
  A:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ./deployment.zip}
  B:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: deployment.zip}
  Built:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: .aws-sam/build/Built}
`, arch), ReadOptions{UnpackDir: unpack})
	if err != nil {
		t.Fatal(err)
	}
	checkWarnings(t, ws, [][2]string{
		{"Resources", "no Api or HttpApi route is served; every request answers 403 Missing Authentication Token"},
		{"Resources.A.Properties.CodeUri", "bootstrap in ./deployment.zip is not executable (mode -rw-r--r--): Lambda would fail to start it"},
		{"Resources.B.Properties.CodeUri", "bootstrap in deployment.zip is not executable"},
	})
	for _, f := range p.Functions {
		from := filepath.Join(dir, map[string]string{"Pets": "Pets.zip", "A": "deployment.zip", "B": "deployment.zip", "Built": ".aws-sam/build/Built"}[f.Name])
		if f.PrebuiltFrom != from || f.Source != "" || f.Dir != "" {
			t.Errorf("%s: PrebuiltFrom %s, Source %q, Dir %q; want %s and no source", f.Name, f.PrebuiltFrom, f.Source, f.Dir, from)
		}
		st, err := os.Stat(f.Prebuilt)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if st.Mode().Perm() != 0o755 {
			t.Errorf("%s: %s has mode %v, want it executable", f.Name, f.Prebuilt, st.Mode())
		}
		if f.Name == "Built" {
			if f.Prebuilt != filepath.Join(built, "bootstrap") {
				t.Errorf("Built runs %s, want the bootstrap sam build wrote", f.Prebuilt)
			}
		} else if !strings.HasPrefix(f.Prebuilt, unpack+string(filepath.Separator)+f.Name+"-") {
			t.Errorf("%s runs %s, want a bootstrap unpacked into %s", f.Name, f.Prebuilt, unpack)
		}
	}
}

func TestReadServesNothing(t *testing.T) {
	_, ws, err := readTemplate(t, t.TempDir(), "template.yaml", `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      CodeUri: ./src
      Handler: app.handler
      # Not served at all: its settings and events get no warnings of their own.
      Policies: [AWSLambdaBasicExecutionRole]
      Events:
        Queue: {Type: SQS, Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:q}}
`, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "template.yaml has no Go function devserver can serve") {
		t.Fatalf("Read error = %v, want one saying nothing can be served", err)
	}
	checkWarnings(t, ws, [][2]string{
		{"Transform", "no Transform"},
		{"Resources.Fn.Properties.Runtime", "runtime python3.12"},
	})
}

// TestReadRoundTrip: a config, generated into a template (JSON and YAML) and read back, gives
// back the same routes, functions and API.
func TestReadRoundTrip(t *testing.T) {
	cases := []struct{ dir, config, stage string }{
		{"..", "config.yaml", ""},
		{"testdata", "config/three.yaml", ""},
		{"testdata", "config/three.yaml", "prod"},
		{"testdata", "config/http.yaml", ""},
	}
	for _, c := range cases {
		for _, format := range []string{FormatJSON, FormatYAML} {
			t.Run(c.config+"."+c.stage+"."+format, func(t *testing.T) {
				want := load(t, c.dir, c.config, c.stage)
				// Absolute CodeUris, so that the template can be written anywhere and still name the sources.
				uris := map[string]string{}
				for _, f := range want.Functions {
					uris[f.Name] = f.Dir
				}
				doc, err := Generate(want, uris)
				if err != nil {
					t.Fatal(err)
				}
				b, err := Marshal(doc, format)
				if err != nil {
					t.Fatal(err)
				}
				got, ws, err := readTemplate(t, t.TempDir(), "sam."+format, string(b), ReadOptions{Dir: want.Dir})
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range ws {
					t.Errorf("warning: %s", w)
				}
				wantAPI := want.API
				if wantAPI.Kind == project.KindHTTP {
					// The generated HTTP API uses the $default stage (see httpStage).
					wantAPI.Stage = "$default"
				}
				// KindPos points into the template, where the API is declared.
				if pos := got.API.KindPos; pos.File != "sam."+format || pos.Line < 1 {
					t.Errorf("API.KindPos = %s, want a place in sam.%s", pos, format)
				}
				wantAPI.KindPos = got.API.KindPos
				if !reflect.DeepEqual(got.API, wantAPI) {
					t.Errorf("API = %+v, want %+v", got.API, wantAPI)
				}
				// The template lists events by function and name, the config in its own order.
				sortRoutes := func(rs []project.Route) []project.Route {
					rs = slices.Clone(rs)
					slices.SortFunc(rs, func(a, b project.Route) int { return strings.Compare(a.Key()+a.Function, b.Key()+b.Function) })
					return rs
				}
				if !reflect.DeepEqual(sortRoutes(got.Routes), sortRoutes(want.Routes)) {
					t.Errorf("Routes =\n  %v\nwant\n  %v", sortRoutes(got.Routes), sortRoutes(want.Routes))
				}
				if len(got.Functions) != len(want.Functions) {
					t.Fatalf("%d functions, want %d", len(got.Functions), len(want.Functions))
				}
				for i, g := range got.Functions {
					w := *want.Functions[i]
					// The template knows the module of the sources; config.yaml leaves it to the project root.
					w.ModuleDir = g.ModuleDir
					if !reflect.DeepEqual(*g, w) {
						t.Errorf("function %s =\n  %+v\nwant\n  %+v", g.Name, *g, w)
					}
				}
			})
		}
	}
}
