package template

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/devserver/devserver/project"
)

// authReason is the warning for any authorizer, API key or resource policy.
const authReason = "authorization is not emulated: every request reaches the function as if no authorizer, API key or resource policy were set"

// apiProperty says why a property of an AWS::Serverless::Api (kind rest) or ::HttpApi (kind
// http) is not emulated, or "" when it is read or changes nothing locally.
func apiProperty(kind, name string) string {
	switch name {
	case "StageName", "DefinitionBody", "Name", "Description", "Tags", "PropagateTags", "OpenApiVersion",
		"AlwaysDeploy", "FailOnWarnings", "MergeDefinitions":
		return ""
	case "BinaryMediaTypes":
		if kind == project.KindREST {
			return ""
		}
	case "Auth":
		return authReason
	case "Cors", "CorsConfiguration":
		return "CORS is not emulated from a template: responses carry only the headers the function sets"
	case "DefinitionUri":
		return "the OpenAPI file it names is not read: its routes are not served (inline it as DefinitionBody)"
	case "Variables", "StageVariables":
		return "stage variables are not emulated: events carry none"
	case "GatewayResponses":
		return "custom gateway responses are not emulated: errors have API Gateway's default bodies"
	case "MethodSettings", "DefaultRouteSettings", "RouteSettings":
		return "throttling, caching and logging settings are not emulated"
	case "CacheClusterEnabled", "CacheClusterSize":
		return "response caching is not emulated"
	case "AccessLogSetting", "AccessLogSettings":
		return "access logs are not written in this format: devserver prints its own access lines"
	case "Domain":
		return "custom domains are not emulated: the API is served on devserver's address"
	case "MinimumCompressionSize":
		return "response compression is not emulated"
	case "EndpointConfiguration", "DisableExecuteApiEndpoint", "Mode", "ApiKeySourceType", "CanarySetting", "TracingEnabled":
		return fmt.Sprintf("%s is not emulated", name)
	}
	return fmt.Sprintf("%s is not emulated", name)
}

// eventProperty is apiProperty for the properties of an Api or HttpApi event.
func eventProperty(kind, name string) string {
	switch name {
	case "Path", "Method", "RestApiId", "ApiId", "TimeoutInMillis", "PayloadFormatVersion", "Auth":
		return ""
	case "RequestParameters", "RequestModel":
		return "request validation is not emulated: every request reaches the function"
	case "RouteSettings":
		return "route settings (throttling, logging) are not emulated"
	}
	return fmt.Sprintf("%s is not emulated", name)
}

// api is one API the template declares (or SAM would create for events that name none).
type api struct {
	id   string
	kind string
	// stage is the stage name: a REST API's first path segment, "$default" for most HTTP APIs.
	stage  string
	binary []string
	// path is where the API is declared, or for an implicit API where its first event is.
	path     string
	body     any
	bodyPath string
}

// route is one route found in the template, with where it was found.
type route struct {
	project.Route
	api  string
	kind string
	// path is where the route is written (an event, an operation), pathAt and methodAt where its
	// path and method are, for problems with either.
	path, pathAt, methodAt string
	// pathIsKey says the path is written as a key (in an OpenAPI document), not as a value.
	pathIsKey bool
	timeout   int // TimeoutInMillis; 0 for the API's default
}

// routesReader collects APIs and routes across the resources of one Read.
type routesReader struct {
	*reader
	apis   map[string]*api
	routes []route
}

// declare reads an AWS::Serverless::Api or ::HttpApi; its DefinitionBody waits until every
// function is known.
func (rd *routesReader) declare(res *resource) {
	a := &api{id: res.id, kind: project.KindREST, path: res.path}
	if res.typ == "AWS::Serverless::HttpApi" {
		a.kind = project.KindHTTP
	}
	rd.apiSettings(a, res, true)
	rd.apis[res.id] = a
}

// apiSettings reads the stage, binary media types and definition of a, and warns about what
// is not emulated; declared is false for the implicit APIs SAM creates.
func (rd *routesReader) apiSettings(a *api, res *resource, declared bool) {
	for _, k := range rd.orderedProps(res) {
		if reason := apiProperty(a.kind, k); reason != "" {
			rd.warn(rd.propPath(res, k), "%s", reason)
		}
	}
	switch {
	case a.kind == project.KindHTTP:
		a.stage = "$default"
	case !declared:
		a.stage = implicitRestStage
	}
	if raw := res.props["StageName"]; raw != nil && declared {
		p := rd.propPath(res, "StageName")
		if s, ok := rd.str(raw, p); ok {
			if !validStage(s) && !(a.kind == project.KindHTTP && s == "$default") {
				rd.problem(p, "%q must be letters, digits, - and _", s)
			}
			a.stage = s
		}
	} else if a.kind == project.KindREST && declared {
		rd.problem(pathOf(res.path, "Properties", "StageName"), "missing: SAM needs the stage of an AWS::Serverless::Api")
	}
	if raw := res.props["BinaryMediaTypes"]; raw != nil && a.kind == project.KindREST {
		p := rd.propPath(res, "BinaryMediaTypes")
		if v, ok := rd.eval(raw, p); ok {
			list, _ := v.([]any)
			if list == nil {
				rd.problem(p, "want a list of media types")
			}
			for i, x := range list {
				s, ok := scalar(x)
				if !ok {
					rd.problem(pathIndex(p, i), "want a media type like image~1png, not %s", describe(x))
					continue
				}
				a.binary = append(a.binary, unescapeMediaType(s))
			}
		}
	}
	if raw := res.props["DefinitionBody"]; raw != nil {
		a.body, a.bodyPath = raw, rd.propPath(res, "DefinitionBody")
	}
}

// unescapeMediaType undoes the JSON-pointer escape SAM asks for in BinaryMediaTypes
// ("image~1png" is image/png).
func unescapeMediaType(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func validStage(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// events reads the events of a function; served says whether the function itself is served.
func (rd *routesReader) events(res *resource, served bool) {
	raw, present := res.props["Events"]
	if !present {
		return
	}
	evsPath := rd.propPath(res, "Events")
	evs, ok := raw.(map[string]any)
	if !ok {
		rd.problem(evsPath, "want a map of event names to events")
		return
	}
	for _, name := range rd.ordered(evs, evsPath) {
		p := pathKey(evsPath, name)
		ev, ok := evs[name].(map[string]any)
		if !ok {
			rd.problem(p, "want an event with a Type")
			continue
		}
		typ, _ := ev["Type"].(string)
		switch {
		case !served && (typ == "Api" || typ == "HttpApi"):
			rd.warn(p, "not served: function %s is not served", res.id)
			continue
		case !served:
			// The function's own warning says it is not served, events and all.
			continue
		case typ == "":
			rd.problem(pathKey(p, "Type"), "missing: the event's Type")
			continue
		case typ != "Api" && typ != "HttpApi":
			rd.warn(p, "event type %s is not emulated: only Api and HttpApi events are served", typ)
			continue
		}
		props, ok := ev["Properties"].(map[string]any)
		if !ok {
			if ev["Properties"] != nil {
				rd.problem(pathKey(p, "Properties"), "must be a map")
				continue
			}
			props = map[string]any{}
		}
		rd.apiEvent(res.id, typ, props, p)
	}
}

// apiEvent reads one Api or HttpApi event of function fn, written at p.
func (rd *routesReader) apiEvent(fn, typ string, props map[string]any, p string) {
	pp := pathKey(p, "Properties")
	kind, apiID, idKey, apiType := project.KindREST, implicitRestAPI, "RestApiId", "AWS::Serverless::Api"
	if typ == "HttpApi" {
		kind, apiID, idKey, apiType = project.KindHTTP, implicitHTTPAPI, "ApiId", "AWS::Serverless::HttpApi"
	}
	for _, k := range rd.ordered(props, pp) {
		if reason := eventProperty(kind, k); reason != "" {
			rd.warn(pathKey(pp, k), "%s", reason)
		}
	}
	if raw := props[idKey]; raw != nil {
		idPath := pathKey(pp, idKey)
		id, ok := refName(raw)
		if !ok {
			rd.problem(idPath, "want !Ref to an %s of this template", apiType)
			return
		}
		t, exists := rd.ev.resources[id]
		switch {
		case !exists:
			rd.problem(idPath, "no resource %s in the template", id)
			return
		case t == "":
			rd.warn(p, "not served: API %s is not created (its Condition is false)", id)
			return
		case t == "AWS::ApiGateway::RestApi" || t == "AWS::ApiGatewayV2::Api":
			rd.warn(p, "not served: devserver serves AWS::Serverless::Api and ::HttpApi APIs, and %s is a %s", id, t)
			return
		case t != apiType:
			rd.problem(idPath, "%s is a %s, not an %s", id, t, apiType)
			return
		}
		apiID = id
	}
	var timeout int
	if raw := props["TimeoutInMillis"]; raw != nil {
		timeout, _ = rd.num(raw, pathKey(pp, "TimeoutInMillis"))
	}
	var payload string
	if raw := props["PayloadFormatVersion"]; raw != nil && kind == project.KindHTTP {
		payload = rd.payloadFormat(raw, pathKey(pp, "PayloadFormatVersion"))
	}
	if raw := props["Auth"]; raw != nil {
		rd.auth(raw, pathKey(pp, "Auth"))
	}
	_, hasPath := props["Path"]
	_, hasMethod := props["Method"]
	if kind == project.KindHTTP && !hasPath && !hasMethod {
		rd.addDefault(apiID, fn, p, timeout, payload)
		return
	}
	path, okPath := rd.str(props["Path"], pathKey(pp, "Path"))
	method, okMethod := rd.str(props["Method"], pathKey(pp, "Method"))
	if !hasPath {
		rd.problem(pathKey(pp, "Path"), "missing: the route's path")
	}
	if !hasMethod {
		rd.problem(pathKey(pp, "Method"), "missing: the route's method (or any)")
	}
	if !okPath || !okMethod {
		return
	}
	if kind == project.KindHTTP && path == "$default" {
		rd.addDefault(apiID, fn, p, timeout, payload)
		return
	}
	rd.addRoute(route{Route: project.Route{Method: method, Path: path, Function: fn, PayloadFormat: payload}, api: apiID, kind: kind,
		path: p, pathAt: pathKey(pp, "Path"), methodAt: pathKey(pp, "Method"), timeout: timeout})
}

// auth warns about an Auth setting unless it only says there is none.
func (rd *routesReader) auth(raw any, p string) {
	if m, ok := raw.(map[string]any); ok {
		none := true
		for k, v := range m {
			switch {
			case k == "Authorizer" && v == "NONE":
			case k == "ApiKeyRequired" && v == false:
			default:
				none = false
			}
		}
		if none {
			return
		}
	}
	rd.warn(p, "%s", authReason)
}

// refName is X of "!Ref X", or of a plain "X".
func refName(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, s != ""
	}
	if name, arg, ok := call(v); ok && name == "Ref" {
		s, ok := arg.(string)
		return s, ok && s != ""
	}
	return "", false
}

// addDefault adds an HTTP API's $default route, which catches every request no other route
// takes, whatever its method.
func (rd *routesReader) addDefault(apiID, fn, p string, timeout int, payload string) {
	rd.addRoute(route{Route: project.Route{Method: "ANY", Path: project.DefaultRoute, Function: fn, PayloadFormat: payload},
		api: apiID, kind: project.KindHTTP, path: p, timeout: timeout})
}

// payloadFormat reads an HTTP API integration's payload format version: 1.0 or 2.0.
func (rd *routesReader) payloadFormat(raw any, p string) string {
	v, ok := rd.str(raw, p)
	if !ok {
		return ""
	}
	if v != project.Payload10 && v != project.Payload20 {
		rd.warn(p, "payload format %s is not emulated: the function gets 2.0 events", v)
		return ""
	}
	return v
}

// addRoute checks a route's method and path and keeps it.
func (rd *routesReader) addRoute(rt route) {
	m := strings.ToUpper(rt.Method)
	if m == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
		m = "ANY"
	}
	if !slices.Contains(project.Methods, m) {
		rd.problem(cmp.Or(rt.methodAt, rt.path), "unknown method %q (want one of %s)", rt.Method, strings.ToLower(strings.Join(project.Methods, ", ")))
		return
	}
	if msg := project.CheckPath(rt.Path); msg != "" {
		if rt.pathIsKey {
			rd.problemKey(rt.pathAt, "%s", msg)
		} else {
			rd.problem(cmp.Or(rt.pathAt, rt.path), "%s", msg)
		}
		return
	}
	rt.Method, rt.Path = m, project.CleanPath(rt.Path)
	if rt.PayloadFormat == "" {
		// The kind's own: SAM's default PayloadFormatVersion of an HttpApi event is 2.0.
		rt.PayloadFormat = project.Payload10
		if rt.kind == project.KindHTTP {
			rt.PayloadFormat = project.Payload20
		}
	}
	rd.routes = append(rd.routes, rt)
}

// definitionBodies reads the routes of the APIs' inline OpenAPI definitions: each operation
// with an aws_proxy integration whose uri names one function of the template.
func (rd *routesReader) definitionBodies(served map[string]bool) {
	for _, a := range rd.orderedAPIs() {
		if a.body != nil {
			rd.definitionBody(a, served)
		}
	}
}

func (rd *routesReader) orderedAPIs() []*api {
	apis := slices.Collect(maps.Values(rd.apis))
	slices.SortFunc(apis, func(a, b *api) int {
		pa, pb := rd.where(a.path), rd.where(b.path)
		return cmp.Or(cmp.Compare(pa.line, pb.line), cmp.Compare(pa.col, pb.col), cmp.Compare(a.id, b.id))
	})
	return apis
}

func (rd *routesReader) definitionBody(a *api, served map[string]bool) {
	if name, _, ok := call(a.body); ok {
		rd.warn(a.bodyPath, "a DefinitionBody made by %s is not read: its routes are not served", name)
		return
	}
	body, ok := a.body.(map[string]any)
	if !ok {
		rd.problem(a.bodyPath, "want an OpenAPI document")
		return
	}
	if raw, ok := body["x-amazon-apigateway-binary-media-types"]; ok && a.kind == project.KindREST {
		p := pathKey(a.bodyPath, "x-amazon-apigateway-binary-media-types")
		list, _ := raw.([]any)
		for i, x := range list {
			if s, ok := rd.str(x, pathIndex(p, i)); ok {
				a.binary = append(a.binary, s)
			}
		}
	}
	for _, k := range rd.ordered(body, a.bodyPath) {
		switch k {
		case "x-amazon-apigateway-cors":
			rd.warn(pathKey(a.bodyPath, k), "CORS is not emulated from a template: responses carry only the headers the function sets")
		case "x-amazon-apigateway-gateway-responses":
			rd.warn(pathKey(a.bodyPath, k), "custom gateway responses are not emulated: errors have API Gateway's default bodies")
		case "x-amazon-apigateway-policy", "security":
			rd.warn(pathKey(a.bodyPath, k), "%s", authReason)
		case "x-amazon-apigateway-request-validators", "x-amazon-apigateway-request-validator":
			rd.warn(pathKey(a.bodyPath, k), "request validation is not emulated: every request reaches the function")
		}
	}
	pathsPath := pathKey(a.bodyPath, "paths")
	paths, _ := body["paths"].(map[string]any)
	for _, p := range rd.ordered(paths, pathsPath) {
		item, _ := paths[p].(map[string]any)
		for _, method := range rd.ordered(item, pathKey(pathsPath, p)) {
			m := strings.ToUpper(method)
			switch {
			case m == "X-AMAZON-APIGATEWAY-ANY-METHOD":
				m = "ANY"
			case m == "ANY" || !slices.Contains(project.Methods, m):
				continue // "parameters", "summary", "servers": not operations
			}
			op, _ := item[method].(map[string]any)
			rd.operation(a, p, m, op, pathKey(pathKey(pathsPath, p), method), served)
		}
	}
}

// operation reads one OpenAPI operation of a's DefinitionBody, written at at.
func (rd *routesReader) operation(a *api, path, method string, op map[string]any, at string, served map[string]bool) {
	if sec, ok := op["security"].([]any); ok && len(sec) > 0 {
		rd.warn(pathKey(at, "security"), "%s", authReason)
	}
	integ, ok := op["x-amazon-apigateway-integration"].(map[string]any)
	if !ok {
		rd.warn(at, "not served: the operation has no x-amazon-apigateway-integration")
		return
	}
	ip := pathKey(at, "x-amazon-apigateway-integration")
	if typ, _ := integ["type"].(string); !strings.EqualFold(typ, "aws_proxy") {
		rd.warn(ip, "not served: integration type %q is not emulated; only aws_proxy (Lambda proxy) integrations are", typ)
		return
	}
	fns := rd.integrationFunctions(integ["uri"])
	switch {
	case len(fns) == 0:
		rd.warn(pathKey(ip, "uri"), "not served: the integration uri names no function of this template")
		return
	case len(fns) > 1:
		rd.warn(pathKey(ip, "uri"), "not served: the integration uri names several functions (%s)", strings.Join(fns, ", "))
		return
	case !served[fns[0]]:
		rd.warn(at, "not served: function %s is not served", fns[0])
		return
	}
	var timeout int
	if raw := integ["timeoutInMillis"]; raw != nil {
		timeout, _ = rd.num(raw, pathKey(ip, "timeoutInMillis"))
	}
	var payload string
	if raw := integ["payloadFormatVersion"]; raw != nil && a.kind == project.KindHTTP {
		payload = rd.payloadFormat(raw, pathKey(ip, "payloadFormatVersion"))
	}
	if a.kind == project.KindHTTP && (path == "/$default" || path == "$default") {
		rd.addDefault(a.id, fns[0], at, timeout, payload)
		return
	}
	rd.addRoute(route{Route: project.Route{Method: method, Path: path, Function: fns[0], PayloadFormat: payload}, api: a.id, kind: a.kind,
		path: at, pathAt: pathKey(pathKey(a.bodyPath, "paths"), path), pathIsKey: true, timeout: timeout})
}

// integrationFunctions lists the functions an integration uri refers to, however it is spelled:
// !Sub "...${Fn.Arn}/invocations", !GetAtt Fn.Arn, !Join of either, a Sub variable holding one.
func (rd *routesReader) integrationFunctions(uri any) []string {
	found := map[string]bool{}
	isFn := func(id string) bool { return isFunctionType(rd.ev.resources[id]) }
	var walk func(v any, vars map[string]any)
	walk = func(v any, vars map[string]any) {
		name, arg, isCall := call(v)
		switch {
		case isCall && name == "Fn::GetAtt":
			switch a := arg.(type) {
			case string:
				if res, _, ok := strings.Cut(a, "."); ok && isFn(res) {
					found[res] = true
				}
			case []any:
				if len(a) > 0 {
					if res, ok := a[0].(string); ok && isFn(res) {
						found[res] = true
					}
				}
			}
		case isCall && name == "Ref":
			if res, ok := arg.(string); ok && isFn(res) {
				found[res] = true
			}
		case isCall && name == "Fn::Sub":
			text, _ := arg.(string)
			var subVars map[string]any
			if a, ok := arg.([]any); ok && len(a) == 2 {
				text, _ = a[0].(string)
				subVars, _ = a[1].(map[string]any)
			}
			for _, n := range subNames(text) {
				if x, ok := subVars[n]; ok {
					walk(x, nil)
					continue
				}
				res, _, _ := strings.Cut(n, ".")
				if isFn(res) {
					found[res] = true
				}
			}
		case isCall:
			walk(arg, vars)
		default:
			switch v := v.(type) {
			case []any:
				for _, x := range v {
					walk(x, vars)
				}
			case map[string]any:
				for _, k := range slices.Sorted(maps.Keys(v)) {
					walk(v[k], vars)
				}
			}
		}
	}
	walk(uri, nil)
	return slices.Sorted(maps.Keys(found))
}

// subNames lists the ${Name} references of a Fn::Sub string, leaving out ${!Literal}.
func subNames(text string) []string {
	var names []string
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			return names
		}
		text = text[i+2:]
		j := strings.IndexByte(text, '}')
		if j < 0 {
			return names
		}
		if !strings.HasPrefix(text, "!") {
			names = append(names, text[:j])
		}
		text = text[j+1:]
	}
}

// model puts the routes into p: one API kind, one stage, as the model holds. What does not fit
// (routes of the other kind, a second API's stage, differing timeouts) is warned about.
func (rd *routesReader) model(p *project.Project) {
	for _, rt := range rd.routes {
		if rd.apis[rt.api] == nil {
			// An implicit API: SAM creates it with the Globals of its kind.
			a := &api{id: rt.api, kind: rt.kind, path: rt.path}
			section := map[string]string{project.KindREST: "Api", project.KindHTTP: "HttpApi"}[rt.kind]
			res := &resource{id: rt.api, typ: "AWS::Serverless::" + section, props: maps.Clone(rd.globals[section]), path: pathOf("Resources", rt.api)}
			if res.props == nil {
				res.props = map[string]any{}
			}
			rd.apiSettings(a, res, false)
			rd.apis[rt.api] = a
		}
	}
	count := map[string]int{}
	for _, rt := range rd.routes {
		count[rt.kind]++
	}
	kind := project.KindREST
	switch {
	case count[project.KindHTTP] > count[project.KindREST]:
		kind = project.KindHTTP
	case len(rd.routes) == 0:
		if apis := rd.orderedAPIs(); len(apis) > 0 {
			kind = apis[0].kind
		}
	}
	other := map[string]string{project.KindREST: project.KindHTTP, project.KindHTTP: project.KindREST}[kind]
	names := map[string]string{project.KindREST: "REST API (Api events)", project.KindHTTP: "HTTP API (HttpApi events)"}
	routesN := func(n int) string {
		if n == 1 {
			return "1 route"
		}
		return fmt.Sprintf("%d routes", n)
	}

	// The API with the most routes gives the stage; the first in the file wins a tie.
	perAPI := map[string]int{}
	var kept []route
	for _, rt := range rd.routes {
		if rt.kind != kind {
			rd.warn(rt.path, "not served: devserver serves one kind of API at a time, the one with more routes: here the %s with %s, not the %s with %s (a tie goes to REST)", names[kind], routesN(count[kind]), names[other], routesN(count[other]))
			continue
		}
		perAPI[rt.api]++
		kept = append(kept, rt)
	}
	var primary *api
	for _, a := range rd.orderedAPIs() {
		if a.kind == kind && (primary == nil || perAPI[a.id] > perAPI[primary.id]) {
			primary = a
		}
	}
	// KindPos points where the kind is decided: the API's declaration, or the first event of an
	// API SAM creates; a caller that refuses the kind points there.
	p.API = project.API{Kind: kind, KindPos: project.Position{File: rd.name, Line: 1, Col: 1}, Stage: project.DefaultStage}
	if primary != nil {
		at := rd.where(primary.path)
		p.API.KindPos = project.Position{File: rd.name, Line: at.line, Col: at.col}
		p.API.Stage = primary.stage
		p.API.BinaryMediaTypes = slices.Clone(primary.binary)
	}
	for _, a := range rd.orderedAPIs() {
		if a == primary || a.kind != kind || perAPI[a.id] == 0 {
			continue
		}
		if a.stage != primary.stage {
			rd.warn(a.path, "its routes are served together with those of %s, under stage %s instead of %s: devserver serves one API", primary.id, primary.stage, a.stage)
		} else {
			rd.warn(a.path, "its routes are served together with those of %s: devserver serves one API", primary.id)
		}
		for _, b := range a.binary {
			if !slices.Contains(p.API.BinaryMediaTypes, b) {
				p.API.BinaryMediaTypes = append(p.API.BinaryMediaTypes, b)
			}
		}
	}
	if kind == project.KindHTTP {
		p.API.BinaryMediaTypes = nil
	}

	// Routes in file order; an event and the DefinitionBody may both name a route.
	slices.SortStableFunc(kept, func(a, b route) int {
		pa, pb := rd.where(a.path), rd.where(b.path)
		return cmp.Or(cmp.Compare(pa.line, pb.line), cmp.Compare(pa.col, pb.col))
	})
	seen := map[string]route{}
	var routes []route
	for _, rt := range kept {
		shape := rt.Method + " " + project.Shape(rt.Path)
		prev, dup := seen[shape]
		switch {
		case !dup:
			seen[shape] = rt
			routes = append(routes, rt)
		case prev.api == rt.api && prev.Function == rt.Function && prev.Path == rt.Path:
			// The same route declared twice (an event and its API's DefinitionBody): one route.
		case prev.api == rt.api:
			rd.problem(rt.path, "duplicate route %s: %s already routes it to %s", rt.Key(), dotted(prev.path), prev.Function)
		default:
			rd.warn(rt.path, "not served: %s is already routed to %s by API %s", rt.Key(), prev.Function, prev.api)
		}
	}

	def := project.DefaultRESTTimeoutMS
	if kind == project.KindHTTP {
		def = project.DefaultHTTPTimeoutMS
	}
	for _, rt := range routes {
		switch t := rt.timeout; {
		case t == 0:
		case t < 50:
			rd.problem(rt.path, "TimeoutInMillis %d: an integration times out after at least 50 ms", t)
		case t > def:
			rd.problem(rt.path, "TimeoutInMillis %d: an integration of this API times out after at most %d ms", t, def)
		}
		p.API.TimeoutMS = max(p.API.TimeoutMS, cmp.Or(rt.timeout, def))
	}
	if p.API.TimeoutMS == 0 {
		p.API.TimeoutMS = def
	}
	if len(routes) == 0 && len(p.Functions) > 0 {
		// As for a config without routes: served, but every request is unrouted.
		answer := "403 Missing Authentication Token"
		if kind == project.KindHTTP {
			answer = "404 Not Found"
		}
		rd.warn("Resources", "no Api or HttpApi route is served; every request answers %s", answer)
	}
	for _, rt := range routes {
		if t := cmp.Or(rt.timeout, def); t < p.API.TimeoutMS {
			rd.warn(rt.path, "integration timeout %d ms is not emulated: devserver applies one timeout to all routes, the longest (%d ms)", t, p.API.TimeoutMS)
		}
		p.Routes = append(p.Routes, rt.Route)
	}
}
