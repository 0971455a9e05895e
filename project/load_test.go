package project

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func parse(t *testing.T, config, stage string) (*Project, error) {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return Parse([]byte(config), "config.yaml", dir, filepath.Join(dir, "config.yaml"), stage)
}

func TestLoadValid(t *testing.T) {
	p, err := parse(t, `
app_name: shop
api:
  kind: rest
  stage: v1
  binary_media_types: [image/png]
functions:
  Orders:
    source: ./fn
    memory: 256
    timeout: 10
    architecture: arm64
    concurrency: 5
    environment: {TABLE: orders, DEBUG: true}
  Users: {source: fn}
routes:
  - {method: get, path: "/orders/{id}/", function: Orders}
  - {method: ANY, path: "/users/{proxy+}", function: Users}
stages:
  prod:
    api: {stage: prod}
    functions:
      Orders: {memory: 1024, environment: {DEBUG: "false"}}
`, "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	o := p.Function("Orders")
	if p.AppName != "shop" || p.API.Stage != "v1" || p.API.TimeoutMS != 29000 || o.MemoryMB != 256 || o.TimeoutSec != 10 ||
		o.Architecture != ArchARM || o.ReservedConcurrency != 5 || o.Environment["DEBUG"] != "true" {
		t.Errorf("model = %+v, Orders = %+v", p, o)
	}
	if u := p.Function("Users"); u.MemoryMB != 128 || u.TimeoutSec != 3 || u.Architecture != ArchX86 {
		t.Errorf("defaults not applied: %+v", u)
	}
	if got := p.Routes[0]; got.Method != "GET" || got.Path != "/orders/{id}" {
		t.Errorf("route 0 = %+v, want GET /orders/{id}", got)
	}

}

const stagedConfig = `
functions:
  Orders:
    source: ./fn
    memory: 256
    environment: {TABLE: orders, DEBUG: "true"}
routes:
  - {method: GET, path: /, function: Orders}
stages:
  prod:
    api: {stage: prod}
    functions:
      Orders: {memory: 1024, timeout: 30, environment: {DEBUG: "false"}}
`

func TestStageOverrides(t *testing.T) {
	p, err := parse(t, stagedConfig, "prod")
	if err != nil {
		t.Fatal(err)
	}
	o := p.Function("Orders")
	if p.API.Stage != "prod" || p.StageName != "prod" || o.MemoryMB != 1024 || o.TimeoutSec != 30 ||
		o.Environment["DEBUG"] != "false" || o.Environment["TABLE"] != "orders" {
		t.Errorf("prod stage not applied: api %+v, Orders %+v", p.API, o)
	}
	base, err := parse(t, stagedConfig, "")
	if err != nil {
		t.Fatal(err)
	}
	if b := base.Function("Orders"); base.API.Stage != "api" || b.MemoryMB != 256 || b.Environment["DEBUG"] != "true" {
		t.Errorf("defaults changed by a stage: %+v %+v", base.API, b)
	}
	if _, err := parse(t, stagedConfig, "staging"); err == nil || !strings.Contains(err.Error(), `apply stage "staging"`) || !strings.Contains(err.Error(), "prod") {
		t.Errorf("unknown stage error = %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, config string
		want         []string
	}{
		{"bad yaml", "functions:\n  A: [\n", []string{"config.yaml:2:6: invalid YAML: did not find expected node content"}},
		{"app_name points at its value", "app_name: my_shop\nfunctions:\n  A: {source: ./fn}\n", []string{
			`config.yaml:1:11: app_name: "my_shop" must be letters, digits and -`,
		}},
		{"unknown keys", `
functions:
  A: {source: ./fn, memroy: 256}
routes: []
colour: blue
`, []string{
			"config.yaml:3:21: functions.A.memroy: unknown key (want one of source, memory, timeout, architecture, environment, concurrency, payload_format, url)",
			"config.yaml:5:1: colour: unknown key (want one of app_name, api, functions, routes, stages)",
		}},
		{"every route problem at once", `
functions:
  A: {source: ./fn}
routes:
  - {method: GET, path: /a, function: B}
  - {method: GET, path: /a, function: A}
  - {method: GET, path: /a/, function: A}
  - {method: FETCH, path: /b, function: A}
  - {method: GET, path: "/{proxy+}/x", function: A}
  - {method: GET, path: nope, function: A}
  - {method: GET, path: "/p/{id}", function: A}
  - {method: GET, path: "/p/{other}", function: A}
  - {path: /c, function: A}
`, []string{
			`config.yaml:5:39: routes[0].function: no function "B"`,
			"config.yaml:6:5: routes[1]: duplicate route GET /a (same as routes[0])",
			`config.yaml:8:14: routes[3].method: unknown method "FETCH" (want one of ANY, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT)`,
			"config.yaml:9:25: routes[4].path: greedy {proxy+} must be the last segment",
			`config.yaml:10:25: routes[5].path: "nope" must start with /`,
			"config.yaml:12:5: routes[7]: duplicate route GET /p/{other} (same as routes[6])",
			"config.yaml:13:5: routes[8].method: missing",
		}},
		{"empty segments", `
functions:
  A: {source: ./fn}
routes:
  - {method: GET, path: "//a", function: A}
  - {method: GET, path: "/a//", function: A}
  - {method: GET, path: "//", function: A}
  - {method: GET, path: "/a/", function: A}
  - {method: GET, path: "/", function: A}
`, []string{
			`config.yaml:5:25: routes[0].path: "//a" has an empty segment`,
			`config.yaml:6:25: routes[1].path: "/a//" has an empty segment`,
			`config.yaml:7:25: routes[2].path: "//" has an empty segment`,
		}},
		{"function limits", `
functions:
  A: {source: ./fn, memory: 64, timeout: 901, concurrency: 0, architecture: sparc}
  B: {source: ./notmain}
  C: {source: ./missing}
  D: {memory: lots}
routes: []
`, []string{
			`config.yaml:3:60: functions.A.concurrency: must be 1 or more (leave it out for unreserved)`,
			`config.yaml:3:77: functions.A.architecture: "sparc" is not one of x86_64, arm64`,
			"config.yaml:3:29: functions.A.memory: 64 MB is outside 128–10240",
			"config.yaml:3:42: functions.A.timeout: 901 s is outside 1–900",
			"config.yaml:4:15: functions.B.source: ./notmain is package notmain, not a main package",
			"config.yaml:5:15: functions.C.source: folder ./missing does not exist",
			`config.yaml:6:15: functions.D.memory: "lots" must be a whole number`,
			"config.yaml:6:3: functions.D.source: missing",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.config, "")
			var cerr *ConfigError
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q; got:\n%s", w, msg)
				}
			}
			for i := 1; i < len(cerr.Problems); i++ {
				if a, b := cerr.Problems[i-1], cerr.Problems[i]; a.Line > b.Line || (a.Line == b.Line && a.Col > b.Col) {
					t.Errorf("problems not sorted by position:\n%s", msg)
				}
			}
		})
	}
}

// TestYAMLErrorPosition checks broken configs are reported where the mistake is: yaml.v3's own
// line is the one above the enclosing block, or missing on the first line.
func TestYAMLErrorPosition(t *testing.T) {
	tests := []struct {
		name, config string
		want         string
	}{
		{"key indented too little", "functions:\n  A:\n    source: ./fn\n   memory: 256\n", "config.yaml:4:4: invalid YAML: did not find expected key"},
		{"key indented too far", "functions:\n  A:\n    source: ./fn\n      memory: 256\n", "config.yaml:4:7: invalid YAML: mapping values are not allowed in this context"},
		{"top-level key indented", "app_name: x\n  api: {}\n", "config.yaml:2:3: invalid YAML: mapping values are not allowed in this context"},
		{"api key out of line", "app_name: x\napi:\n  kind: rest\n stage: v1\nfunctions: {}\n", "config.yaml:4:2: invalid YAML: did not find expected key"},
		{"route key out of line", "routes:\n  - method: GET\n   path: /\n", "config.yaml:3:4: invalid YAML: did not find expected '-' indicator"},
		{"list item in a map", "functions:\n  A: {source: ./fn}\n  - B\n", "config.yaml:3:3: invalid YAML: did not find expected key"},
		{"tab indent", "app_name: x\n\tapi: {}\n", "config.yaml:2:1: invalid YAML: found a tab character that violates indentation"},
		{"missing colon", "functions:\n  A:\n    source: ./fn\n    memory 256\n", "config.yaml:4:5: invalid YAML: could not find expected ':'"},
		{"unclosed flow map", "app_name: x\napi: {kind: rest\nfunctions: {}\n", "config.yaml:2:6: invalid YAML: did not find expected ',' or '}'"},
		{"unclosed flow list", "functions:\n  A: [\n", "config.yaml:2:6: invalid YAML: did not find expected node content"},
		{"unclosed quote", "app_name: \"x\napi: {}\n", "config.yaml:1:11: invalid YAML: found unexpected end of stream"},
		{"second colon on the first line", "app_name: a: b\n", "config.yaml:1:12: invalid YAML: mapping values are not allowed in this context"},
		{"reserved character", "app_name: x\napi: @rest\n", "config.yaml:2:6: invalid YAML: found character that cannot start any token"},
		{"unknown alias", "app_name: x\napi: *base\n", "config.yaml:2:6: invalid YAML: unknown anchor 'base' referenced"},
		{"after a multi-line flow list", "api: {binary_media_types: [image/png,\n  image/gif]}\nfunctions:\n  A: {source: ./fn}\n x: 1\n", "config.yaml:5:2: invalid YAML: did not find expected key"},
		{"after a long multi-line flow list", "app_name: x\napi: {binary_media_types: [\n  image/png,\n  image/gif,\n  image/jpeg,\n  image/webp,\n  image/bmp,\n  image/tiff,\n  image/avif]}\nfunctions:\n  A: {source: ./fn}\n B: {source: ./fn}\n", "config.yaml:12:2: invalid YAML: did not find expected key"},
		{"after a flow map on the same line", "api: {kind: rest, stage: v1} @x\n", "config.yaml:1:30: invalid YAML: found character that cannot start any token"},
		{"after a quoted string on the same line", "app_name: \"a long quoted name\" x\n", "config.yaml:1:32: invalid YAML: did not find expected key"},
		{"columns count characters", "app_name: héllo: x\n", "config.yaml:1:16: invalid YAML: mapping values are not allowed in this context"},
		{"CRLF line ends", "app_name: x\r\napi:\r\n  kind: rest\r\n stage: v1\r\n", "config.yaml:4:2: invalid YAML: did not find expected key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.config, "")
			var cerr *ConfigError
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestOneProblemPerMistake checks that a bad value is reported once, not again by the checks
// that run on the default or empty value it leaves behind.
func TestOneProblemPerMistake(t *testing.T) {
	tests := []struct {
		name, config string
		want         []string
	}{
		{"timeout_ms not a number", "api:\n  timeout_ms: \"fast\"\nfunctions:\n  A: {source: ./fn}\n", []string{
			`config.yaml:2:15: api.timeout_ms: "fast" must be a whole number`,
		}},
		{"stage timeout_ms not a number", "functions:\n  A: {source: ./fn}\nstages:\n  prod:\n    api: {timeout_ms: fast}\n", []string{
			`config.yaml:5:23: stages.prod.api.timeout_ms: "fast" must be a whole number`,
		}},
		{"functions as a list", "functions:\n  - A\nroutes:\n  - {method: GET, path: /, function: A}\n", []string{
			"config.yaml:2:3: functions: must be a map of function name to settings",
		}},
		{"functions left empty", "app_name: shop\nfunctions:\nroutes: []\n", []string{
			"config.yaml:2:11: functions: no functions defined",
		}},
		{"functions an empty map", "functions: {}\n", []string{
			"config.yaml:1:12: functions: no functions defined",
		}},
		{"no functions key", "app_name: shop\n", []string{
			"config.yaml:1:1: functions: no functions defined",
		}},
		{"top level a list", "- functions\n", []string{
			"config.yaml:1:1: (top level): must be a map",
		}},
		{"function settings not a map", "functions:\n  A: ./fn\n", []string{
			"config.yaml:2:6: functions.A: must be a map",
		}},
		{"source not a string", "functions:\n  A: {source: [./fn]}\n", []string{
			"config.yaml:2:15: functions.A.source: must be a string",
		}},
		{"route not a map", "functions:\n  A: {source: ./fn}\nroutes:\n  - GET / A\n", []string{
			"config.yaml:4:5: routes[0]: must be a map",
		}},
		{"route values not strings", "functions:\n  A: {source: ./fn}\nroutes:\n  - {method: [GET], path: {p: /}, function: [A]}\n", []string{
			"config.yaml:4:14: routes[0].method: must be a string",
			"config.yaml:4:27: routes[0].path: must be a string",
			"config.yaml:4:45: routes[0].function: must be a string",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.config, "")
			var cerr *ConfigError
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	const fn = "functions:\n  A: {source: ./fn}\n"
	tests := []struct {
		name, config, stage string
		want                []string
	}{
		{"routes", fn + "routes:\n  - {method: GET, path: /, function: A}\n", "", nil},
		{"empty routes", fn + "routes: []\n", "", []string{
			"config.yaml:3:9: routes: no routes defined; every request answers 403 Missing Authentication Token",
		}},
		{"routes left empty", fn + "routes:\n", "", []string{
			"config.yaml:3:8: routes: no routes defined; every request answers 403 Missing Authentication Token",
		}},
		{"no routes key", fn, "", []string{
			"config.yaml:1:1: routes: no routes defined; every request answers 403 Missing Authentication Token",
		}},
		{"no routes on an HTTP API", "api: {kind: http}\n" + fn + "routes: []\n", "", []string{
			"config.yaml:4:9: routes: no routes defined; every request answers 404 Not Found",
		}},
		{"no routes on a stage's HTTP API", fn + "routes: []\nstages:\n  dev: {api: {kind: http}}\n", "dev", []string{
			"config.yaml:3:9: routes: no routes defined; every request answers 404 Not Found",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parse(t, tt.config, tt.stage)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []string
			for _, w := range p.Warnings {
				got = append(got, w.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Warnings = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestKindPos checks a caller can point at api.kind, e.g. to say it does not serve that kind yet.
func TestKindPos(t *testing.T) {
	const rest = "functions:\n  A: {source: ./fn}\nroutes:\n  - {method: GET, path: /, function: A}\n"
	tests := []struct {
		name, config, stage string
		want                string
	}{
		{"set", "app_name: shop\napi:\n  kind: http\n" + rest, "", "config.yaml:3:9"},
		{"set by the stage applied", "api: {kind: rest}\n" + rest + "stages:\n  dev:\n    api: {kind: http}\n", "dev", "config.yaml:8:17"},
		{"not overridden by the stage applied", "api: {kind: http}\n" + rest + "stages:\n  dev:\n    api: {stage: dev}\n", "dev", "config.yaml:1:13"},
		{"left out", "\n# comment\n" + rest, "", "config.yaml:3:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parse(t, tt.config, tt.stage)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := p.API.KindPos.String(); got != tt.want {
				t.Errorf("KindPos = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestLogicalIDCollisions checks a function name that `package` would refuse is refused by the
// config already, where the name is written.
func TestLogicalIDCollisions(t *testing.T) {
	tests := []struct {
		name, functions string
		want            string // "" for no problem
	}{
		{"REST API", "  RestAPI: {source: ./fn}\n", "config.yaml:3:3: functions.RestAPI: name collides with the logical id of the API in the packaged SAM template"},
		{"HTTP API on a REST config", "  HttpAPI: {source: ./fn}\n", "config.yaml:3:3: functions.HttpAPI: name collides with the logical id of the API in the packaged SAM template"},
		{"another function's role", "  Pets: {source: ./fn}\n  PetsRole: {source: ./fn}\n", "config.yaml:4:3: functions.PetsRole: name collides with the logical id of the role SAM creates for Pets in the packaged SAM template"},
		{"a role of no function", "  PetsRole: {source: ./fn}\n", ""},
		{"another function's URL", "  Pets: {source: ./fn}\n  PetsUrl: {source: ./fn}\n", "config.yaml:4:3: functions.PetsUrl: name collides with the logical id of the function URL SAM creates for Pets in the packaged SAM template"},
		{"like the API but not it", "  RestAPIs: {source: ./fn}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, "api: {kind: rest}\nfunctions:\n"+tt.functions+"routes: []\n", "")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}
