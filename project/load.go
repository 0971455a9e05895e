package project

import (
	"cmp"
	"errors"
	"fmt"
	"go/build"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultConfig is the config file name inside a project.
const DefaultConfig = "config.yaml"

// Defaults for fields the config leaves out.
const (
	DefaultStage      = "api"
	DefaultMemoryMB   = 128
	DefaultTimeoutSec = 3
	// DefaultArchitecture is Lambda's own default.
	DefaultArchitecture = ArchX86
	// DefaultRESTTimeoutMS and DefaultHTTPTimeoutMS are the integration timeouts API Gateway
	// applies when none is set. A REST API allows none longer than its default.
	DefaultRESTTimeoutMS = 29000
	DefaultHTTPTimeoutMS = 30000
)

// Options says where the config is and which stage to apply.
type Options struct {
	// Dir is the project root; "" means the current directory.
	Dir string
	// Config is the config file, relative to Dir unless absolute; "" means config.yaml.
	Config string
	// Stage is the named stage to apply; "" applies none.
	Stage string
	// DisplayName is how errors name the file; "" derives it from the path.
	DisplayName string
}

// Load reads and validates the config and returns the model with opts.Stage applied.
// A *ConfigError reports every problem at once.
func Load(opts Options) (*Project, error) {
	dir, err := filepath.Abs(cmp.Or(opts.Dir, "."))
	if err != nil {
		return nil, fmt.Errorf("resolve project dir: %w", err)
	}
	file := cmp.Or(opts.Config, DefaultConfig)
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	name := cmp.Or(opts.DisplayName, displayName(file))
	return Parse(data, name, dir, file, opts.Stage)
}

func displayName(file string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, file); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return file
}

// Parse validates config bytes. name labels errors; dir resolves sources; file is recorded in the model.
func Parse(data []byte, name, dir, file, stage string) (*Project, error) {
	d := &decoder{file: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, col, msg := YAMLErrorPosition(data, err)
		d.problem(line, col, "", "invalid YAML: "+msg)
		return nil, d.err()
	}
	root := &yaml.Node{Kind: yaml.MappingNode, Line: 1, Column: 1}
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	// Decoding problems do not stop validation: every problem is reported at once.
	raw := d.config(root)
	if stage != "" {
		st, ok := raw.stages[stage]
		if !ok {
			names := slices.Sorted(maps.Keys(raw.stages))
			if len(names) == 0 {
				return nil, fmt.Errorf("apply stage %q: %s defines no stages", stage, name)
			}
			return nil, fmt.Errorf("apply stage %q: %s defines only %s", stage, name, strings.Join(names, ", "))
		}
		raw.api.merge(st.api)
		for fname, o := range st.functions {
			if f := raw.functions[fname]; f != nil {
				f.merge(o)
			}
		}
	}
	p := &Project{Dir: dir, ConfigFile: file, AppName: raw.appName.v, StageName: stage}
	p.API = API{
		Kind:             cmp.Or(raw.api.kind.v, KindREST),
		KindPos:          d.position(root.Line, root.Column),
		Stage:            cmp.Or(raw.api.stage.v, DefaultStage),
		TimeoutMS:        raw.api.timeoutMS.v,
		BinaryMediaTypes: raw.api.binary,
	}
	if raw.api.kind.v != "" {
		p.API.KindPos = d.position(raw.api.kind.line, raw.api.kind.col)
	}
	if p.API.TimeoutMS == 0 {
		p.API.TimeoutMS = DefaultRESTTimeoutMS
		if p.API.Kind == KindHTTP {
			p.API.TimeoutMS = DefaultHTTPTimeoutMS
		}
	}
	if p.API.Kind == KindREST && p.API.TimeoutMS > DefaultRESTTimeoutMS {
		d.problem(raw.api.timeoutMS.line, raw.api.timeoutMS.col, "api.timeout_ms", fmt.Sprintf("a REST API integration times out after at most %d ms", DefaultRESTTimeoutMS))
	}
	isFunction := func(name string) bool { return raw.functions[name] != nil }
	for _, fname := range slices.Sorted(maps.Keys(raw.functions)) {
		rf := raw.functions[fname]
		f := &Function{
			Name:                fname,
			Source:              rf.source.v,
			MemoryMB:            rf.memory.or(DefaultMemoryMB),
			TimeoutSec:          rf.timeout.or(DefaultTimeoutSec),
			Architecture:        cmp.Or(rf.arch.v, DefaultArchitecture),
			Environment:         rf.env,
			ReservedConcurrency: rf.reserved.v,
		}
		if f.Environment == nil {
			f.Environment = map[string]string{}
		}
		key := "functions." + fname
		if owner := LogicalIDOwner(fname, isFunction); owner != "" {
			d.problem(rf.line, rf.col, key, "name collides with the logical id of "+owner+" in the packaged SAM template")
		}
		switch {
		case rf.bad || rf.source.bad:
			// Its settings were not a map, or source not a string: reported already, once.
		case f.Source == "":
			d.problem(rf.line, rf.col, key+".source", "missing: the folder of the function's Go main package")
		default:
			f.Dir = filepath.Join(dir, filepath.FromSlash(f.Source))
			if filepath.IsAbs(f.Source) {
				f.Dir = filepath.Clean(f.Source)
			}
			if msg := checkMainPackage(f.Dir, f.Source); msg != "" {
				d.problem(rf.source.line, rf.source.col, key+".source", msg)
			}
		}
		if f.MemoryMB < 128 || f.MemoryMB > 10240 {
			d.problem(rf.memory.line, rf.memory.col, key+".memory", fmt.Sprintf("%d MB is outside 128–10240", f.MemoryMB))
		}
		if f.TimeoutSec < 1 || f.TimeoutSec > 900 {
			d.problem(rf.timeout.line, rf.timeout.col, key+".timeout", fmt.Sprintf("%d s is outside 1–900", f.TimeoutSec))
		}
		if rf.reserved.set && f.ReservedConcurrency < 1 {
			d.problem(rf.reserved.line, rf.reserved.col, key+".concurrency", "must be 1 or more (leave it out for unreserved)")
		}
		d.resolveFunction(rf, f, p.API.Kind)
		p.Functions = append(p.Functions, f)
	}
	d.resolveAPI(raw, p)
	if len(p.Functions) == 0 && !raw.functionsBad {
		d.problem(raw.functionsAt.line, raw.functionsAt.col, "functions", "no functions defined")
	}
	seen := map[string]int{}
	for i, rr := range raw.routes {
		if rr.bad {
			// Not a map: that is the one problem to report, not a missing method, path and function.
			continue
		}
		key := fmt.Sprintf("routes[%d]", i)
		r := Route{Method: strings.ToUpper(rr.method.v), Path: rr.path.v, Function: rr.function.v}
		// A value that was not a string is reported already; it is not also "missing".
		ok := true
		switch {
		case rr.method.bad:
			ok = false
		case rr.method.v == "":
			d.problem(rr.line, rr.col, key+".method", "missing")
			ok = false
		case !slices.Contains(Methods, r.Method):
			d.problem(rr.method.line, rr.method.col, key+".method", fmt.Sprintf("unknown method %q (want one of %s)", rr.method.v, strings.Join(Methods, ", ")))
			ok = false
		}
		if rr.path.bad {
			ok = false
		} else if rr.path.v == "" {
			d.problem(rr.line, rr.col, key+".path", "missing")
			ok = false
		} else if msg := checkPath(r.Path); msg != "" {
			d.problem(rr.path.line, rr.path.col, key+".path", msg)
			ok = false
		} else {
			r.Path = CleanPath(r.Path)
		}
		switch {
		case rr.function.bad:
		case rr.function.v == "":
			d.problem(rr.line, rr.col, key+".function", "missing")
		case !isFunction(r.Function) && !raw.functionsBad:
			d.problem(rr.function.line, rr.function.col, key+".function", fmt.Sprintf("no function %q", r.Function))
		}
		if ok {
			shape := r.Method + " " + Shape(r.Path)
			if j, dup := seen[shape]; dup {
				d.problem(rr.line, rr.col, key, fmt.Sprintf("duplicate route %s (same as routes[%d])", r.Key(), j))
			}
			seen[shape] = i
		}
		d.resolveRoute(rr, &r, key, raw, p)
		p.Routes = append(p.Routes, r)
	}
	if len(raw.routes) == 0 {
		// Allowed, so that a config being written can be served, but said: every request is unrouted.
		answer := "403 Missing Authentication Token"
		if p.API.Kind == KindHTTP {
			answer = "404 Not Found"
		}
		d.warn(raw.routesAt.line, raw.routesAt.col, "routes", "no routes defined; every request answers "+answer)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	sortProblems(d.warnings)
	p.Warnings = d.warnings
	return p, nil
}

// checkMainPackage says what is wrong with dir as a function's source, or "".
func checkMainPackage(dir, name string) string {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Sprintf("folder %s does not exist", name)
	}
	if !st.IsDir() {
		return fmt.Sprintf("%s is not a folder", name)
	}
	pkg, err := build.ImportDir(dir, 0)
	if err != nil {
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return fmt.Sprintf("%s holds no Go files", name)
		}
		return fmt.Sprintf("read Go package in %s: %v", name, err)
	}
	if pkg.Name != "main" {
		return fmt.Sprintf("%s is package %s, not a main package", name, pkg.Name)
	}
	return ""
}

// checkPath says what is wrong with an API Gateway resource path, or "".
func checkPath(p string) string {
	if p == DefaultRoute {
		return "" // the kind decides whether it may be used
	}
	if !strings.HasPrefix(p, "/") {
		return fmt.Sprintf("%q must start with /", p)
	}
	// One trailing slash is ignored, as API Gateway ignores it; Segments would drop more than one,
	// and a leading one, so empty segments are looked for before it.
	if rest := strings.TrimSuffix(p[1:], "/"); p != "/" && (rest == "" || slices.Contains(strings.Split(rest, "/"), "")) {
		return fmt.Sprintf("%q has an empty segment", p)
	}
	segs := Segments(p)
	names := map[string]bool{}
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") && !strings.HasSuffix(s, "}") {
			if strings.ContainsAny(s, "{}") {
				return fmt.Sprintf("segment %q mixes text and a {parameter}", s)
			}
			continue
		}
		if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") || len(s) < 3 {
			return fmt.Sprintf("segment %q is not a whole {parameter}", s)
		}
		name := strings.TrimSuffix(s[1:len(s)-1], "+")
		if strings.HasSuffix(s, "+}") && i != len(segs)-1 {
			return fmt.Sprintf("greedy %s must be the last segment", s)
		}
		if !paramName.MatchString(name) {
			return fmt.Sprintf("parameter name %q must be letters, digits and _", name)
		}
		if names[name] {
			return fmt.Sprintf("parameter {%s} appears twice", name)
		}
		names[name] = true
	}
	return ""
}

var paramName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// CleanPath drops a trailing slash: API Gateway ignores it.
func CleanPath(p string) string {
	if len(p) > 1 {
		return strings.TrimSuffix(p, "/")
	}
	return p
}

// Segments splits a path into its segments; "/" has none.
func Segments(p string) []string {
	p = strings.Trim(CleanPath(p), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Shape is a path with parameter names erased, so "/pets/{id}" and "/pets/{petId}" compare equal.
func Shape(p string) string {
	segs := Segments(p)
	for i, s := range segs {
		switch {
		case strings.HasSuffix(s, "+}"):
			segs[i] = "{+}"
		case strings.HasPrefix(s, "{"):
			segs[i] = "{}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

var (
	appName      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)
	stageName    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	functionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
	envName      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)
