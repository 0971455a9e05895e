package project

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks the YAML node tree by hand so that every problem keeps its line and column
// and function names keep their case (viper would lower-case map keys).
type decoder struct {
	file     string
	problems []Problem
	warnings []Problem
}

func (d *decoder) position(line, col int) Position {
	return Position{File: d.file, Line: line, Col: col}
}

func (d *decoder) problem(line, col int, key, msg string) {
	d.problems = append(d.problems, Problem{Position: d.position(line, col), Key: key, Msg: msg})
}

func (d *decoder) warn(line, col int, key, msg string) {
	d.warnings = append(d.warnings, Problem{Position: d.position(line, col), Key: key, Msg: msg})
}

func (d *decoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	sortProblems(d.problems)
	return &ConfigError{Problems: d.problems}
}

func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

type pos struct{ line, col int }

type str struct {
	pos
	v string
	// bad says a problem was reported for the value, so "missing" would say it twice.
	bad bool
}

type num struct {
	pos
	v   int
	set bool
}

func (n num) or(def int) int {
	if n.set {
		return n.v
	}
	return def
}

type rawConfig struct {
	appName   str
	api       rawAPI
	functions map[string]*rawFunction
	// functionsAt is where the functions value is, or the top of the file without one.
	functionsAt pos
	// functionsBad says the functions section (or the whole file) was not a map, so which functions
	// exist is unknown: "no functions defined" and "no function X" would only repeat that problem.
	functionsBad bool
	routes       []rawRoute
	// routesAt is where the routes value is, or the top of the file without one.
	routesAt pos
	stages   map[string]rawStage
}

type rawAPI struct {
	kind, stage str
	timeoutMS   num
	binary      []string
	binaryPos   pos
	cors        *rawCORS
	stageVars   map[string]string
	authorizers map[string]*rawAuthorizer
	defaultAuth str
}

func (a *rawAPI) merge(o rawAPI) {
	if o.kind.v != "" {
		a.kind = o.kind
	}
	if o.stage.v != "" {
		a.stage = o.stage
	}
	if o.timeoutMS.set {
		a.timeoutMS = o.timeoutMS
	}
	if o.binary != nil {
		a.binary, a.binaryPos = o.binary, o.binaryPos
	}
	if o.cors != nil {
		a.cors = o.cors
	}
	if len(o.stageVars) > 0 {
		vars := maps.Clone(a.stageVars)
		if vars == nil {
			vars = map[string]string{}
		}
		maps.Copy(vars, o.stageVars)
		a.stageVars = vars
	}
	if o.authorizers != nil {
		a.authorizers = o.authorizers
	}
	if o.defaultAuth.v != "" {
		a.defaultAuth = o.defaultAuth
	}
}

type rawFunction struct {
	pos
	// bad says the settings were not a map, a problem already reported.
	bad                       bool
	source, arch              str
	memory, timeout, reserved num
	env                       map[string]string
	payload                   str
	url                       *rawURL
}

func (f *rawFunction) merge(o *rawFunction) {
	if o.source.v != "" {
		f.source = o.source
	}
	if o.arch.v != "" {
		f.arch = o.arch
	}
	if o.payload.v != "" {
		f.payload = o.payload
	}
	if o.url != nil {
		f.url = o.url
	}
	for _, p := range []struct{ dst, src *num }{{&f.memory, &o.memory}, {&f.timeout, &o.timeout}, {&f.reserved, &o.reserved}} {
		if p.src.set {
			*p.dst = *p.src
		}
	}
	if len(o.env) > 0 {
		env := make(map[string]string, len(f.env)+len(o.env))
		for k, v := range f.env {
			env[k] = v
		}
		for k, v := range o.env {
			env[k] = v
		}
		f.env = env
	}
}

type rawRoute struct {
	pos
	// bad says the route was not a map, a problem already reported.
	bad                    bool
	method, path, function str
	payload, authorizer    str
}

type rawStage struct {
	api       rawAPI
	functions map[string]*rawFunction
}

func (d *decoder) config(n *yaml.Node) rawConfig {
	var c rawConfig
	c.functions = map[string]*rawFunction{}
	c.functionsAt = pos{n.Line, n.Column}
	c.functionsBad = !isMap(n)
	c.routesAt = pos{n.Line, n.Column}
	c.stages = map[string]rawStage{}
	for k, v := range d.fields(n, "", "app_name", "api", "functions", "routes", "stages") {
		switch k {
		case "app_name":
			c.appName = d.str(v, k, nil)
		case "api":
			c.api = d.api(v, k)
		case "functions":
			c.functions = d.functions(v, k, false)
			c.functionsAt = pos{v.Line, v.Column}
			c.functionsBad = !isMap(v)
		case "routes":
			c.routes = d.routes(v, k)
			c.routesAt = pos{v.Line, v.Column}
		case "stages":
			c.stages = d.stages(v, k, c.functions)
		}
	}
	if c.appName.v == "" {
		c.appName.v = "app"
	} else if !appName.MatchString(c.appName.v) {
		d.problem(c.appName.line, c.appName.col, "app_name", fmt.Sprintf("%q must be letters, digits and -", c.appName.v))
	}
	return c
}

func (d *decoder) api(n *yaml.Node, path string) rawAPI {
	var a rawAPI
	for k, v := range d.fields(n, path, "kind", "stage", "timeout_ms", "binary_media_types", "cors", "stage_variables", "authorizers", "default_authorizer") {
		key := path + "." + k
		switch k {
		case "kind":
			a.kind = d.str(v, key, []string{KindREST, KindHTTP})
		case "stage":
			a.stage = d.str(v, key, nil)
			if a.stage.v != "" && a.stage.v != DefaultHTTPStage && !stageName.MatchString(a.stage.v) {
				d.problem(v.Line, v.Column, key, fmt.Sprintf("%q must be letters, digits, - and _", a.stage.v))
			}
		case "timeout_ms":
			a.timeoutMS = d.num(v, key)
			if a.timeoutMS.set && a.timeoutMS.v < 50 {
				d.problem(v.Line, v.Column, key, "must be 50 or more")
			}
		case "cors":
			a.cors = d.cors(v, key)
		case "stage_variables":
			a.stageVars = d.stageVariables(v, key)
		case "authorizers":
			a.authorizers = d.authorizers(v, key)
		case "default_authorizer":
			a.defaultAuth = d.str(v, key, nil)
		case "binary_media_types":
			a.binary = []string{}
			a.binaryPos = pos{v.Line, v.Column}
			if v.Kind != yaml.SequenceNode {
				d.problem(v.Line, v.Column, key, "must be a list of media types")
				continue
			}
			for i, e := range v.Content {
				s := d.str(e, fmt.Sprintf("%s[%d]", key, i), nil)
				if s.v != "" && !strings.Contains(s.v, "/") {
					d.problem(e.Line, e.Column, fmt.Sprintf("%s[%d]", key, i), fmt.Sprintf("%q is not a media type like image/png", s.v))
				}
				a.binary = append(a.binary, s.v)
			}
		}
	}
	return a
}

// functions decodes the functions map; in a stage (override) the source may be left out.
func (d *decoder) functions(n *yaml.Node, path string, override bool) map[string]*rawFunction {
	out := map[string]*rawFunction{}
	if !isMap(n) {
		d.problem(n.Line, n.Column, path, "must be a map of function name to settings")
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		name := kn.Value
		key := path + "." + name
		if !functionName.MatchString(name) {
			d.problem(kn.Line, kn.Column, key, "a function name must be letters and digits, starting with a letter (it becomes a CloudFormation logical id)")
		}
		f := &rawFunction{pos: pos{kn.Line, kn.Column}, bad: !isMap(v)}
		for k, fv := range d.fields(v, key, "source", "memory", "timeout", "architecture", "environment", "concurrency", "payload_format", "url") {
			fkey := key + "." + k
			switch k {
			case "source":
				f.source = d.str(fv, fkey, nil)
			case "memory":
				f.memory = d.num(fv, fkey)
			case "timeout":
				f.timeout = d.num(fv, fkey)
			case "architecture":
				f.arch = d.str(fv, fkey, []string{ArchX86, ArchARM})
			case "concurrency":
				f.reserved = d.num(fv, fkey)
			case "environment":
				f.env = d.env(fv, fkey)
			case "payload_format":
				f.payload = d.str(fv, fkey, []string{Payload10, Payload20})
			case "url":
				f.url = d.url(fv, fkey)
			}
		}
		out[name] = f
	}
	return out
}

func (d *decoder) env(n *yaml.Node, path string) map[string]string {
	env := map[string]string{}
	if n.Kind != yaml.MappingNode {
		d.problem(n.Line, n.Column, path, "must be a map of NAME: value")
		return env
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		key := path + "." + kn.Value
		if !envName.MatchString(kn.Value) {
			d.problem(kn.Line, kn.Column, key, "an environment variable name must be letters, digits and _, starting with a letter")
		}
		if v.Kind != yaml.ScalarNode {
			d.problem(v.Line, v.Column, key, "must be a string, number or boolean")
			continue
		}
		env[kn.Value] = v.Value
	}
	return env
}

func (d *decoder) routes(n *yaml.Node, path string) []rawRoute {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// "routes:" left empty is a config being written: no routes, said as a warning.
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.problem(n.Line, n.Column, path, "must be a list of {method, path, function}")
		return nil
	}
	var out []rawRoute
	for i, e := range n.Content {
		key := fmt.Sprintf("%s[%d]", path, i)
		r := rawRoute{pos: pos{e.Line, e.Column}, bad: !isMap(e)}
		for k, v := range d.fields(e, key, "method", "path", "function", "payload_format", "authorizer") {
			switch k {
			case "method":
				r.method = d.str(v, key+"."+k, nil)
			case "path":
				r.path = d.str(v, key+"."+k, nil)
			case "function":
				r.function = d.str(v, key+"."+k, nil)
			case "payload_format":
				r.payload = d.str(v, key+"."+k, []string{Payload10, Payload20})
			case "authorizer":
				r.authorizer = d.str(v, key+"."+k, nil)
			}
		}
		if r.path.v == DefaultRoute && r.method.v == "" {
			// The $default route takes every method; it needs none written.
			r.method = str{pos: r.pos, v: "ANY"}
		}
		out = append(out, r)
	}
	return out
}

func (d *decoder) stages(n *yaml.Node, path string, functions map[string]*rawFunction) map[string]rawStage {
	out := map[string]rawStage{}
	if n.Kind != yaml.MappingNode {
		d.problem(n.Line, n.Column, path, "must be a map of stage name to overrides")
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		key := path + "." + kn.Value
		var st rawStage
		for k, sv := range d.fields(v, key, "api", "functions") {
			switch k {
			case "api":
				st.api = d.api(sv, key+".api")
			case "functions":
				st.functions = d.functions(sv, key+".functions", true)
				for name, f := range st.functions {
					if _, ok := functions[name]; !ok {
						d.problem(f.line, f.col, key+".functions."+name, fmt.Sprintf("no function %q to override", name))
						delete(st.functions, name)
					}
				}
			}
		}
		out[kn.Value] = st
	}
	return out
}

// isMap says whether n is a mapping; an empty value ("key:" alone) counts as an empty one.
func isMap(n *yaml.Node) bool {
	return n.Kind == yaml.MappingNode || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// fields checks that n is a mapping with only allowed keys and yields key, value pairs.
func (d *decoder) fields(n *yaml.Node, path string, allowed ...string) func(func(string, *yaml.Node) bool) {
	return func(yield func(string, *yaml.Node) bool) {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.problem(n.Line, n.Column, cmp.Or(path, "(top level)"), "must be a map")
			return
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, v := n.Content[i], n.Content[i+1]
			key := kn.Value
			if path != "" {
				key = path + "." + kn.Value
			}
			if !slices.Contains(allowed, kn.Value) {
				d.problem(kn.Line, kn.Column, key, fmt.Sprintf("unknown key (want one of %s)", strings.Join(allowed, ", ")))
				continue
			}
			if seen[kn.Value] {
				d.problem(kn.Line, kn.Column, key, "given twice")
				continue
			}
			seen[kn.Value] = true
			if !yield(kn.Value, v) {
				return
			}
		}
	}
}

func (d *decoder) str(n *yaml.Node, key string, oneOf []string) str {
	s := str{pos: pos{n.Line, n.Column}}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.problem(n.Line, n.Column, key, "must be a string")
		s.bad = true
		return s
	}
	s.v = n.Value
	if oneOf != nil && !slices.Contains(oneOf, s.v) {
		d.problem(n.Line, n.Column, key, fmt.Sprintf("%q is not one of %s", s.v, strings.Join(oneOf, ", ")))
	}
	return s
}

func (d *decoder) num(n *yaml.Node, key string) num {
	v := num{pos: pos{n.Line, n.Column}}
	i, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
		d.problem(n.Line, n.Column, key, fmt.Sprintf("%q must be a whole number", n.Value))
		return v
	}
	v.v, v.set = i, true
	return v
}
