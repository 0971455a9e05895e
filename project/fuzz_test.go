package project

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse, as the config of a project in testdata (where ./fn is
// a main package). Whatever the bytes, Parse must not panic; a config it refuses must come back
// as a *ConfigError whose every problem points into the file and says something; a model it
// accepts must route only to its own functions, with clean paths. Each input is parsed with no
// stage and with the stage "prod", so that the stage overrides are walked too. The seeds are the
// repository's config.yaml, the configs of the tests, and broken YAML; the committed corpus is in
// testdata/fuzz/FuzzParse:
//
//	go test ./project -run XXX -fuzz FuzzParse -fuzztime 1m
func FuzzParse(f *testing.F) {
	if repo, err := os.ReadFile(filepath.Join("..", DefaultConfig)); err == nil {
		f.Add(repo)
	} else {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"",
		"functions:\n  A: {source: ./fn}\nroutes:\n  - {method: GET, path: /, function: A}\n",
		stagedConfig,
		"api: {kind: http, stage: v1, timeout_ms: 100, binary_media_types: [image/png, \"*/*\"]}\n" +
			"functions:\n  Orders: {source: ./fn, memory: 256, timeout: 10, architecture: arm64, concurrency: 5, environment: {A: b}}\n" +
			"  Users: {source: fn}\nroutes:\n  - {method: get, path: \"/orders/{id}/\", function: Orders}\n" +
			"  - {method: ANY, path: \"/users/{proxy+}\", function: Users}\n",
		httpFeaturesConfig,
		restFeaturesConfig,
		"functions:\n  A: [\n",
		"app_name: x\n  api: {}\n",
		"app_name: \"x\napi: {}\n",
		"app_name: x\napi: *base\n",
		"base: &b {source: ./fn}\nfunctions:\n  A: *b\n",
		"app_name: héllo: x\r\n",
		"- functions\n",
		"functions:\n  A: {source: ./fn}\nroutes:\n  - {method: GET, path: \"/{proxy+}/x\", function: A}\n  - {method: GET, path: /a/, function: B}\n",
	} {
		f.Add([]byte(seed))
	}
	dir, err := filepath.Abs("testdata")
	if err != nil {
		f.Fatal(err)
	}
	file := filepath.Join(dir, DefaultConfig)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, stage := range []string{"", "prod"} {
			p, err := Parse(data, DefaultConfig, dir, file, stage)
			if err != nil {
				checkParseError(t, err, stage)
				continue
			}
			checkModel(t, p, dir)
		}
	})
}

func checkParseError(t *testing.T, err error, stage string) {
	t.Helper()
	var cerr *ConfigError
	if !errors.As(err, &cerr) {
		// Only a stage the config does not define is not a problem in the file.
		if stage != "" && strings.HasPrefix(err.Error(), `apply stage "`+stage+`": `) {
			return
		}
		t.Fatalf("err = %v (%T), want a *ConfigError", err, err)
	}
	if len(cerr.Problems) == 0 {
		t.Fatal("a *ConfigError with no problems")
	}
	for _, pr := range cerr.Problems {
		if pr.File != DefaultConfig || pr.Line < 1 || pr.Col < 1 || pr.Msg == "" {
			t.Errorf("problem %q: want file %s, line and column from 1, and a message", pr, DefaultConfig)
		}
	}
}

func checkModel(t *testing.T, p *Project, dir string) {
	t.Helper()
	if p.Dir != dir || p.ConfigFile != filepath.Join(dir, DefaultConfig) {
		t.Errorf("Dir %q, ConfigFile %q", p.Dir, p.ConfigFile)
	}
	if len(p.Functions) == 0 {
		t.Error("a model with no functions")
	}
	for _, fn := range p.Functions {
		if !filepath.IsAbs(fn.Dir) || filepath.Clean(fn.Dir) != fn.Dir {
			t.Errorf("function %s: Dir %q is not absolute and clean", fn.Name, fn.Dir)
		}
	}
	for i, r := range p.Routes {
		if p.Function(r.Function) == nil {
			t.Errorf("routes[%d] = %s goes to %q, not a function of the model", i, r.Key(), r.Function)
		}
		clean := strings.HasPrefix(r.Path, "/") && (r.Path == "/" || !strings.HasSuffix(r.Path, "/") && !strings.Contains(r.Path, "//"))
		if !clean && (r.Path != DefaultRoute || p.API.Kind != KindHTTP) {
			t.Errorf("routes[%d] path %q is not clean", i, r.Path)
		}
		if r.Authorizer != "" && p.API.Authorizer(r.Authorizer) == nil {
			t.Errorf("routes[%d] is guarded by %q, not an authorizer of the model", i, r.Authorizer)
		}
		if r.PayloadFormat != Payload10 && (r.PayloadFormat != Payload20 || p.API.Kind != KindHTTP) {
			t.Errorf("routes[%d] of a %s API gets payload %q", i, p.API.Kind, r.PayloadFormat)
		}
	}
}
