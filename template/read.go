package template

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/devserver/devserver/project"
)

// ReadOptions say how to read a SAM template into the route model.
type ReadOptions struct {
	// Dir is the project root recorded in the model; "" means the template's folder. CodeUri is
	// resolved against the template's folder either way, as SAM does.
	Dir string
	// DisplayName is how problems and warnings name the template; "" derives it from the path.
	DisplayName string
	// ParameterOverrides give parameters values, as `sam deploy --parameter-overrides` does;
	// they win over each parameter's Default.
	ParameterOverrides map[string]string
	// Region and AccountID are AWS::Region and AWS::AccountId; "" means us-east-1 and
	// 123456789012, what the emulator puts in events and ARNs.
	Region, AccountID string
	// StackName is AWS::StackName and the model's AppName; "" derives it from the name of the
	// template's folder, which is what `sam init` names both after.
	StackName string
	// UnpackDir is where zips named by CodeUri are unpacked, one folder per function and zip
	// content; "" means .devserver/code inside Dir.
	UnpackDir string
}

// Defaults of ReadOptions. The region and account match the emulator's, so that an ARN built
// here equals the one a function is invoked with.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
	// unpackFolder is inside the emulator's cache folder (.devserver), which git ignores.
	unpackFolder = ".devserver/code"
	// implicit API logical ids, as SAM names the APIs it creates for events without one.
	implicitRestAPI = "ServerlessRestApi"
	implicitHTTPAPI = "ServerlessHttpApi"
	// implicitRestStage is the stage SAM gives its implicit REST API.
	implicitRestStage = "Prod"
)

// Warning is something in a template that devserver does not emulate, or emulates only in part:
// a resource it has no local counterpart for, a property or event it ignores, a value only the
// cloud knows. The rest of the template is served without it; nothing is dropped silently.
// Its Problem says where (File, Line, Col), about what (Key, the dotted path: "Resources.Table",
// "Resources.Fn.Properties.Layers", "Globals.Function.Tracing") and why (Msg); the model carries
// the same problems as Project.Warnings, which the commands print.
type Warning struct {
	project.Problem
	// Resource is the logical id the warning is about, or for anything outside Resources the
	// template section ("Globals", "Parameters").
	Resource string
	// Property is the rest of Key below the resource, "Properties." left out ("Layers",
	// "Events.Upload", "Metadata.BuildMethod"), "" for the whole resource.
	Property string
}

// Read reads the SAM template in file (JSON or YAML, short-form tags allowed) into the route
// model that `devserver run` serves: every AWS::Serverless::Function with a Go runtime becomes a
// function, built from its CodeUri folder or run from the bootstrap in its CodeUri zip (unpacked
// into opts.UnpackDir), and its Api and HttpApi events, and the aws_proxy integrations of inline
// OpenAPI definitions, become routes. Intrinsic functions are resolved from parameters,
// conditions, mappings and pseudo parameters.
//
// Whatever the model cannot hold comes back as warnings, sorted by position. Problems that stop
// a function from being served as it would be in the cloud (a missing folder, an unsafe zip, an
// executable this machine cannot run, a bad path) make a *project.ConfigError listing all of
// them, each pointing into the file. The warnings are returned with any error.
func Read(file string, opts ReadOptions) (*project.Project, []Warning, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, nil, fmt.Errorf("read template: %w", err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, nil, fmt.Errorf("read template: %w", err)
	}
	r := &reader{
		opts:   opts,
		file:   abs,
		name:   cmp.Or(opts.DisplayName, displayName(abs)),
		tplDir: filepath.Dir(abs),
	}
	if r.dir, err = filepath.Abs(cmp.Or(opts.Dir, r.tplDir)); err != nil {
		return nil, nil, fmt.Errorf("read template: %w", err)
	}
	r.unpackDir = cmp.Or(opts.UnpackDir, filepath.Join(r.dir, filepath.FromSlash(unpackFolder)))
	if r.unpackDir, err = filepath.Abs(r.unpackDir); err != nil {
		return nil, nil, fmt.Errorf("read template: %w", err)
	}
	p, err := r.read(data)
	ws := r.sortedWarnings()
	if p != nil {
		for _, w := range ws {
			p.Warnings = append(p.Warnings, w.Problem)
		}
	}
	return p, ws, err
}

// displayName is file relative to the working directory when it is below it.
func displayName(file string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, file); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return file
}

// reader holds one Read: the document, where things are in it, and what was found.
type reader struct {
	opts      ReadOptions
	file      string // absolute path
	name      string // how messages name it
	tplDir    string // CodeUri is relative to it
	dir       string // Project.Dir
	unpackDir string

	doc     Document
	at      positions
	ev      *evaluator
	globals map[string]map[string]any // "Function", "Api", "HttpApi"

	warnings    []Warning
	warned      map[string]bool
	problems    []project.Problem
	seenProblem map[string]bool
}

// where is the position of the key (or else the value) at path, or of the nearest enclosing
// thing the file has a position for.
func (r *reader) where(path string) pos {
	for {
		if pl := r.at[path]; pl != nil {
			if pl.key.line > 0 {
				return pl.key
			}
			if pl.value.line > 0 {
				return pl.value
			}
		}
		if path == "" {
			return pos{1, 1}
		}
		i := strings.LastIndex(path, pathSep)
		if i < 0 {
			path = ""
		} else {
			path = path[:i]
		}
	}
}

// whereValue is like where, preferring the value: a bad value is pointed at, not its key.
func (r *reader) whereValue(path string) pos {
	if pl := r.at[path]; pl != nil && pl.value.line > 0 {
		return pl.value
	}
	return r.where(path)
}

func (r *reader) has(path string) bool { return r.at[path] != nil }

// problem records something that stops the template from being served as the cloud would,
// pointing at the value at path.
func (r *reader) problem(path string, format string, args ...any) {
	r.addProblem(path, r.whereValue(path), fmt.Sprintf(format, args...))
}

// problemKey is problem pointing at the key: for what is wrong with a name.
func (r *reader) problemKey(path string, format string, args ...any) {
	r.addProblem(path, r.where(path), fmt.Sprintf(format, args...))
}

func (r *reader) addProblem(path string, p pos, msg string) {
	// A Globals value is read once per function it applies to; its problem is reported once.
	key := fmt.Sprintf("%d:%d:%s", p.line, p.col, msg)
	if r.seenProblem[key] {
		return
	}
	if r.seenProblem == nil {
		r.seenProblem = map[string]bool{}
	}
	r.seenProblem[key] = true
	r.problems = append(r.problems, project.Problem{Position: project.Position{File: r.name, Line: p.line, Col: p.col}, Key: dotted(path), Msg: msg})
}

// warn records something devserver does not emulate; the same thing said twice (a Globals
// property shared by several functions) is recorded once.
func (r *reader) warn(path string, format string, args ...any) {
	reason := fmt.Sprintf(format, args...)
	if r.warned == nil {
		r.warned = map[string]bool{}
	}
	if r.warned[path+pathSep+reason] {
		return
	}
	r.warned[path+pathSep+reason] = true
	p := r.where(path)
	w := Warning{Problem: project.Problem{Position: project.Position{File: r.name, Line: p.line, Col: p.col}, Key: dotted(path), Msg: reason}}
	keys := strings.Split(path, pathSep)
	switch {
	case len(keys) >= 2 && keys[0] == "Resources":
		w.Resource = keys[1]
		rest := keys[2:]
		if len(rest) > 0 && rest[0] == "Properties" {
			rest = rest[1:]
		}
		w.Property = strings.Join(rest, ".")
	default:
		w.Resource = keys[0]
		w.Property = strings.Join(keys[1:], ".")
	}
	r.warnings = append(r.warnings, w)
}

func (r *reader) sortedWarnings() []Warning {
	slices.SortStableFunc(r.warnings, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Msg, b.Msg))
	})
	return r.warnings
}

func (r *reader) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	slices.SortStableFunc(r.problems, func(a, b project.Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return &project.ConfigError{Problems: r.problems}
}

// ordered returns the keys of the map at path in the order the file writes them (then by
// name), so that warnings, routes and the first-of-several choices follow the file.
func (r *reader) ordered(m map[string]any, path string) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		pa, pb := r.where(pathKey(path, a)), r.where(pathKey(path, b))
		return cmp.Or(cmp.Compare(pa.line, pb.line), cmp.Compare(pa.col, pb.col), cmp.Compare(a, b))
	})
	return keys
}

// resource is one entry of Resources.
type resource struct {
	id    string
	typ   string
	props map[string]any // Properties, with Globals merged for SAM types
	meta  map[string]any // Metadata
	path  string         // "Resources.<id>"
}

func (r *reader) read(data []byte) (*project.Project, error) {
	doc, at, err := parseAt(data, r.name, true)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	r.doc, r.at = doc, at

	resourcesMap, ok := doc["Resources"].(map[string]any)
	if !ok || len(resourcesMap) == 0 {
		if _, present := doc["Resources"]; present {
			r.problem("Resources", "must be a map of logical ids to resources")
		} else {
			r.problem("", "Resources: missing: a SAM template declares its functions under Resources")
		}
		return nil, r.err()
	}
	r.checkTransform()
	r.setUpEvaluator(resourcesMap)
	r.readGlobals()

	var resources []*resource
	for _, id := range r.ordered(resourcesMap, "Resources") {
		res := r.resource(id, resourcesMap[id])
		if res != nil {
			resources = append(resources, res)
		}
	}

	rd := &routesReader{reader: r, apis: map[string]*api{}}
	var functions []*project.Function
	for _, res := range resources {
		switch res.typ {
		case "AWS::Serverless::Function":
			f := r.function(res)
			if f != nil {
				functions = append(functions, f)
			}
			rd.events(res, f != nil)
		case "AWS::Serverless::Api", "AWS::Serverless::HttpApi":
			rd.declare(res)
		default:
			r.warn(res.path, "%s", otherResource(res.typ))
		}
	}
	served := map[string]bool{}
	for _, f := range functions {
		served[f.Name] = true
	}
	rd.definitionBodies(served)

	p := &project.Project{
		Dir:        r.dir,
		ConfigFile: r.file,
		AppName:    r.appName(),
		Functions:  functions,
	}
	slices.SortFunc(p.Functions, func(a, b *project.Function) int { return cmp.Compare(a.Name, b.Name) })
	rd.model(p)

	if err := r.err(); err != nil {
		return nil, err
	}
	if len(p.Functions) == 0 {
		return nil, fmt.Errorf("read template: %s has no Go function devserver can serve (runtime %s; see the warnings)", r.name, goRuntimeNames)
	}
	return p, nil
}

// checkTransform warns about transforms other than SAM's: their effects are not applied.
func (r *reader) checkTransform() {
	var names []any
	switch t := r.doc["Transform"].(type) {
	case nil:
		r.warn("Transform", "no Transform: AWS::Serverless-2016-10-31; CloudFormation would reject the AWS::Serverless resources, devserver reads them anyway")
		return
	case string:
		names = []any{t}
	case []any:
		names = t
	default:
		r.warn("Transform", "a Transform that is not a name is not applied")
		return
	}
	sam := false
	for i, n := range names {
		switch n {
		case transform:
			sam = true
		case "AWS::LanguageExtensions":
			// Fn::Length, Fn::ToJsonString and FindInMap defaults are evaluated; Fn::ForEach is not.
		default:
			r.warn(pathIndex("Transform", i), "transform %v is not applied locally", n)
		}
	}
	if !sam {
		r.warn("Transform", "no %s transform; CloudFormation would reject the AWS::Serverless resources, devserver reads them anyway", transform)
	}
}

// appName is the stack name given, else the template folder's name, in the letters, digits and
// dashes an app name (and a stack name) may hold.
func (r *reader) appName() string {
	name := r.opts.StackName
	if name == "" {
		name = filepath.Base(r.tplDir)
	}
	var b strings.Builder
	for _, c := range name {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return cmp.Or(strings.TrimSuffix(b.String(), "-"), "app")
}

// setUpEvaluator gathers what intrinsics can be resolved from: parameters (overrides first),
// pseudo parameters, mappings, conditions, and which resources exist.
func (r *reader) setUpEvaluator(resources map[string]any) {
	region := cmp.Or(r.opts.Region, DefaultRegion)
	account := cmp.Or(r.opts.AccountID, DefaultAccountID)
	partition, suffix := "aws", "amazonaws.com"
	switch {
	case strings.HasPrefix(region, "cn-"):
		partition, suffix = "aws-cn", "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-gov-"):
		partition = "aws-us-gov"
	}
	stack := r.appName()
	e := &evaluator{
		params: map[string]paramValue{},
		pseudo: map[string]any{
			"AWS::Region":    region,
			"AWS::AccountId": account,
			"AWS::StackName": stack,
			// A fixed id: nothing local has a real one, and the model must not change between reads.
			"AWS::StackId":          fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000", partition, region, account, stack),
			"AWS::Partition":        partition,
			"AWS::URLSuffix":        suffix,
			"AWS::NotificationARNs": []any{},
		},
		resources: map[string]string{},
		functionARN: func(name string) string {
			return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", partition, region, account, name)
		},
		condValue: map[string]bool{},
		condBusy:  map[string]bool{},
	}
	r.ev = e
	if m, ok := r.doc["Mappings"].(map[string]any); ok {
		e.mappings = m
	} else if r.doc["Mappings"] != nil {
		r.problem("Mappings", "must be a map")
	}
	if m, ok := r.doc["Conditions"].(map[string]any); ok {
		e.conditions = m
	} else if r.doc["Conditions"] != nil {
		r.problem("Conditions", "must be a map")
	}
	r.readParameters()
	for id, v := range resources {
		m, _ := v.(map[string]any)
		t, _ := m["Type"].(string)
		e.resources[id] = cmp.Or(t, "a resource")
	}
}

func (r *reader) readParameters() {
	params, _ := r.doc["Parameters"].(map[string]any)
	if params == nil && r.doc["Parameters"] != nil {
		r.problem("Parameters", "must be a map")
	}
	for _, name := range r.ordered(params, "Parameters") {
		path := pathOf("Parameters", name)
		def, ok := params[name].(map[string]any)
		if !ok {
			r.problemKey(path, "must be a map with a Type")
			continue
		}
		typ, _ := def["Type"].(string)
		typ = cmp.Or(typ, "String")
		var raw any
		if ov, ok := r.opts.ParameterOverrides[name]; ok {
			raw = ov
		} else if d, ok := def["Default"]; ok {
			raw = d
		} else {
			r.ev.params[name] = paramValue{missing: &unresolved{reason: fmt.Sprintf("parameter %s has no Default and no override", name)}}
			continue
		}
		if strings.HasPrefix(typ, "AWS::SSM::Parameter::Value<") {
			s, _ := scalar(raw)
			r.ev.params[name] = paramValue{missing: &unresolved{reason: fmt.Sprintf("parameter %s is the SSM parameter %q, read at deploy time", name, s)}}
			continue
		}
		list := typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
		var value any
		switch v := raw.(type) {
		case []any:
			if !list {
				r.problem(pathKey(path, "Default"), "a %s parameter takes a single value, not a list", typ)
				continue
			}
			value = v
		default:
			s, ok := scalar(v)
			if !ok {
				r.problem(pathKey(path, "Default"), "must be a string or number, not %s", describe(v))
				continue
			}
			value = s
			if list {
				var items []any
				for _, it := range strings.Split(s, ",") {
					items = append(items, strings.TrimSpace(it))
				}
				value = items
			}
		}
		if allowed, ok := def["AllowedValues"].([]any); ok {
			if s, isScalar := value.(string); isScalar && !slices.ContainsFunc(allowed, func(a any) bool { return equalValues(a, s) }) {
				r.problemKey(path, "value %q is not one of its AllowedValues", s)
			}
		}
		r.ev.params[name] = paramValue{value: value}
	}
	for _, name := range slices.Sorted(maps.Keys(r.opts.ParameterOverrides)) {
		if _, ok := params[name]; !ok {
			r.warn("Parameters", "the override for %s is not used: the template has no parameter %s", name, name)
		}
	}
}

// readGlobals keeps the Globals sections that apply to what devserver serves.
func (r *reader) readGlobals() {
	r.globals = map[string]map[string]any{}
	g, ok := r.doc["Globals"].(map[string]any)
	if !ok {
		if r.doc["Globals"] != nil {
			r.problem("Globals", "must be a map of resource kinds (Function, Api, HttpApi) to properties")
		}
		return
	}
	for _, section := range r.ordered(g, "Globals") {
		path := pathOf("Globals", section)
		m, ok := g[section].(map[string]any)
		if !ok {
			r.problem(path, "must be a map of properties")
			continue
		}
		switch section {
		case "Function", "Api", "HttpApi":
			r.globals[section] = m
		case "SimpleTable", "StateMachine", "LayerVersion":
			// They apply to resources that get their own warning.
		default:
			r.warn(path, "unknown Globals section %s (SAM knows Function, Api, HttpApi, SimpleTable, StateMachine, LayerVersion)", section)
		}
	}
}

// resource reads the resource id, nil when it does not exist (its Condition is false) or is
// not a resource at all. SAM resources get their Globals merged in.
func (r *reader) resource(id string, v any) *resource {
	path := pathOf("Resources", id)
	m, ok := v.(map[string]any)
	if !ok {
		r.problem(path, "must be a map with a Type")
		return nil
	}
	typ, ok := m["Type"].(string)
	if !ok || typ == "" {
		r.problem(pathKey(path, "Type"), "missing: every resource has a Type")
		return nil
	}
	if c, present := m["Condition"]; present {
		name, ok := c.(string)
		if !ok {
			r.problem(pathKey(path, "Condition"), "must be the name of a condition")
			return nil
		}
		exists, err := r.ev.condition(name)
		var und *undecided
		if errors.As(err, &und) {
			r.warn(pathKey(path, "Condition"), "not served: whether it exists depends on a value only the cloud knows (%s)", und.u.reason)
			r.ev.resources[id] = ""
			return nil
		}
		if err != nil {
			r.problem(pathKey(path, "Condition"), "%v", err)
			return nil
		}
		if !exists {
			// Not created in the cloud either: nothing to warn about.
			r.ev.resources[id] = ""
			return nil
		}
	}
	props, ok := m["Properties"].(map[string]any)
	if !ok {
		if m["Properties"] != nil {
			r.problem(pathKey(path, "Properties"), "must be a map")
			return nil
		}
		props = map[string]any{}
	}
	meta, _ := m["Metadata"].(map[string]any)
	res := &resource{id: id, typ: typ, props: props, meta: meta, path: path}
	if section, ok := strings.CutPrefix(typ, "AWS::Serverless::"); ok && r.globals[section] != nil {
		res.props = r.mergeGlobals(r.globals[section], props, m["IgnoreGlobals"], path)
	}
	return res
}

// mergeGlobals merges a Globals section into a resource's properties as SAM does: the resource
// wins on values (an intrinsic counts as one value), maps merge key by key, lists are joined
// (globals first). IgnoreGlobals ("*" or a list of names) leaves some or all out.
func (r *reader) mergeGlobals(global, local map[string]any, ignore any, path string) map[string]any {
	global = maps.Clone(global)
	switch ig := ignore.(type) {
	case nil:
	case string:
		if ig == "*" {
			return local
		}
		r.problem(pathKey(path, "IgnoreGlobals"), `must be "*" or a list of property names`)
	case []any:
		for _, k := range ig {
			if s, ok := k.(string); ok {
				delete(global, s)
			}
		}
	default:
		r.problem(pathKey(path, "IgnoreGlobals"), `must be "*" or a list of property names`)
	}
	return mergeSAM(global, local).(map[string]any)
}

func mergeSAM(global, local any) any {
	gm, gok := global.(map[string]any)
	lm, lok := local.(map[string]any)
	if gok && lok {
		if _, _, gi := call(gm); !gi {
			if _, _, li := call(lm); !li {
				out := maps.Clone(gm)
				for k, v := range lm {
					if g, ok := out[k]; ok {
						out[k] = mergeSAM(g, v)
					} else {
						out[k] = v
					}
				}
				return out
			}
		}
		return local
	}
	gl, gok := global.([]any)
	ll, lok := local.([]any)
	if gok && lok {
		return append(slices.Clone(gl), ll...)
	}
	return local
}

// propPath is where property keys of res are written: in the resource, or else in the Globals
// section it inherited them from.
func (r *reader) propPath(res *resource, keys ...string) string {
	local := pathOf(append([]string{"Resources", res.id, "Properties"}, keys...)...)
	if r.has(local) {
		return local
	}
	if section, ok := strings.CutPrefix(res.typ, "AWS::Serverless::"); ok {
		global := pathOf(append([]string{"Globals", section}, keys...)...)
		if r.has(global) {
			return global
		}
	}
	return local
}

// eval resolves the value v found at path; a malformed function is a problem there.
func (r *reader) eval(v any, path string) (any, bool) {
	out, err := r.ev.eval(v)
	if err != nil {
		r.problem(path, "%v", err)
		return nil, false
	}
	return out, true
}

// str resolves a property that must be a known string. Absent (or AWS::NoValue) gives ok false
// and no problem; an unresolved value or another type is a problem.
func (r *reader) str(v any, path string) (string, bool) {
	if v == nil {
		return "", false
	}
	out, ok := r.eval(v, path)
	if !ok {
		return "", false
	}
	switch out := out.(type) {
	case noValue:
		return "", false
	case unresolved:
		r.problem(path, "must be known locally: %s", out.reason)
		return "", false
	}
	s, ok := scalar(out)
	if !ok {
		r.problem(path, "must be a string, not %s", describe(out))
		return "", false
	}
	return s, true
}

// num resolves a property that must be a whole number; CloudFormation takes "128" for 128.
func (r *reader) num(v any, path string) (int, bool) {
	s, ok := r.str(v, path)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		r.problem(path, "%q must be a whole number", s)
		return 0, false
	}
	return n, true
}

// otherResource says why a resource type is not served.
func otherResource(typ string) string {
	switch typ {
	case "AWS::Lambda::Function":
		return "not served: devserver serves AWS::Serverless::Function resources; write this function as one to run it locally"
	case "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api":
		return "not served: devserver serves the APIs of AWS::Serverless::Api and AWS::Serverless::HttpApi resources and function events"
	}
	return fmt.Sprintf("%s is not emulated: it has no local counterpart, and references to it resolve to placeholders", typ)
}
