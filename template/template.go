// Package template owns the SAM template that `devserver package` writes: generating it from the
// route model, merging a user's overlay template into it, and writing it as JSON or YAML. It also
// reads a SAM template (ours, or a SAM project's own) back into the route model, for
// `devserver run --template` (Read).
//
// The template is built directly as a Document, a plain JSON tree with CloudFormation intrinsics
// spelled out, because that is the form merging and marshalling work on.
package template

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/devserver/devserver/project"
)

// Logical ids of the API resources, and the SAM facts the template is built on.
const (
	RestAPI = project.RestAPILogicalID
	HTTPAPI = project.HTTPAPILogicalID

	// Runtime and Handler of every Go function: a `bootstrap` executable on Amazon Linux 2023.
	Runtime = "provided.al2023"
	Handler = "bootstrap"

	transform = "AWS::Serverless-2016-10-31"
	// openAPIVersion is set on AWS::Serverless::Api only because any value stops SAM from also
	// creating a stage literally named "Stage" (aws/serverless-application-model#191), which the
	// local server would not serve.
	openAPIVersion = "3.0.1"
)

// Generate builds the SAM template of p. codeURIs maps each function name to its CodeUri, the zip
// the packager wrote (a path relative to the template's folder, like "./deployment.zip").
// The result depends only on its arguments: no clock, no map order.
func Generate(p *project.Project, codeURIs map[string]string) (Document, error) {
	if err := checkLogicalIDs(p); err != nil {
		return nil, err
	}
	resources, outputs := map[string]any{}, map[string]any{}
	output := func(name string, value any) { outputs[name] = map[string]any{"Value": value} }

	apiID, eventType := RestAPI, "Api"
	switch p.API.Kind {
	case project.KindREST:
		props := map[string]any{"StageName": p.API.Stage, "OpenApiVersion": openAPIVersion}
		if len(p.API.BinaryMediaTypes) > 0 {
			types := make([]any, len(p.API.BinaryMediaTypes))
			for i, m := range p.API.BinaryMediaTypes {
				// SAM writes binary media types into the OpenAPI document, where "/" must be "~1".
				types[i] = strings.ReplaceAll(m, "/", "~1")
			}
			props["BinaryMediaTypes"] = types
		}
		if p.API.CORS != nil {
			props["Cors"] = restCORS(p.API.CORS)
		}
		if len(p.API.StageVariables) > 0 {
			props["Variables"] = stringMap(p.API.StageVariables)
		}
		if auth := apiAuth(p); auth != nil {
			props["Auth"] = auth
		}
		resources[RestAPI] = newResource("AWS::Serverless::Api", props)
		output("RestAPIId", ref(RestAPI))
		output("EndpointURL", sub("https://${"+RestAPI+"}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"+p.API.Stage+"/"))
	case project.KindHTTP:
		apiID, eventType = HTTPAPI, "HttpApi"
		// $default keeps the stage out of invoke URLs and out of the event's rawPath; a named
		// stage prefixes both, locally as in the cloud.
		props := map[string]any{"StageName": p.API.Stage}
		if len(p.API.StageVariables) > 0 {
			props["StageVariables"] = stringMap(p.API.StageVariables)
		}
		if auth := apiAuth(p); auth != nil {
			props["Auth"] = auth
		}
		if p.API.CORS != nil {
			props["CorsConfiguration"] = httpCORS(p.API.CORS)
		}
		resources[HTTPAPI] = newResource("AWS::Serverless::HttpApi", props)
		output("HttpApiId", ref(HTTPAPI))
		endpoint := "https://${" + HTTPAPI + "}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
		if p.API.Stage != project.DefaultHTTPStage {
			endpoint += p.API.Stage + "/"
		}
		output("EndpointURL", sub(endpoint))
	default:
		return nil, fmt.Errorf("generate template: unknown API kind %q", p.API.Kind)
	}

	for _, f := range p.Functions {
		uri, ok := codeURIs[f.Name]
		if !ok {
			return nil, fmt.Errorf("generate template: no CodeUri for function %s", f.Name)
		}
		props := map[string]any{
			"Runtime":       Runtime,
			"Handler":       Handler,
			"CodeUri":       uri,
			"Architectures": []any{cmp.Or(f.Architecture, project.DefaultArchitecture)},
			"MemorySize":    number(f.MemoryMB),
			"Timeout":       number(f.TimeoutSec),
		}
		if len(f.Environment) > 0 {
			// The user's own strings, written as they are: a variable named "Ref" is no intrinsic.
			props["Environment"] = map[string]any{"Variables": stringMap(f.Environment)}
		}
		if f.ReservedConcurrency > 0 {
			props["ReservedConcurrentExecutions"] = number(f.ReservedConcurrency)
		}
		if evs := events(p, f.Name, apiID, eventType); len(evs) > 0 {
			props["Events"] = evs
		}
		if f.URL != nil {
			// SAM makes the AWS::Lambda::Url as <Function>Url, and for AuthType NONE the
			// permission that lets anyone call it.
			url := map[string]any{"AuthType": f.URL.Auth}
			if f.URL.CORS != nil {
				url["Cors"] = httpCORS(f.URL.CORS)
			}
			props["FunctionUrlConfig"] = url
			output(f.Name+"Url", getAtt(f.Name+"Url", "FunctionUrl"))
		}
		resources[f.Name] = newResource("AWS::Serverless::Function", props)
		output(f.Name+"Name", ref(f.Name))
		output(f.Name+"Arn", getAtt(f.Name, "Arn"))
	}

	return Document{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Transform":                transform,
		"Resources":                resources,
		"Outputs":                  outputs,
	}, nil
}

// events returns the API events of one function, one per route, named after method and path.
func events(p *project.Project, function, apiID, eventType string) map[string]any {
	out := map[string]any{}
	for _, r := range p.Routes {
		if r.Function != function {
			continue
		}
		name := eventName(r)
		// Two paths can spell the same name ("/pets/{id}" and "/pets/id"); number the later ones,
		// in route order, so names stay stable while the config does.
		for i := 2; ; i++ {
			if _, dup := out[name]; !dup {
				break
			}
			name = fmt.Sprintf("%s%d", eventName(r), i)
		}
		// SAM wants lower-case methods, and "any" for API Gateway's ANY method.
		method := strings.ToLower(r.Method)
		var props map[string]any
		if eventType == "HttpApi" {
			props = map[string]any{"ApiId": ref(apiID), "PayloadFormatVersion": cmp.Or(r.PayloadFormat, project.Payload20)}
			// The $default route is an HttpApi event without a method or path.
			if r.Path != project.DefaultRoute {
				props["Method"] = method
				props["Path"] = r.Path
			}
			// API Gateway applies its default timeout by itself; the template states only lower ones.
			if p.API.TimeoutMS > 0 && p.API.TimeoutMS < project.DefaultHTTPTimeoutMS {
				props["TimeoutInMillis"] = number(p.API.TimeoutMS)
			}
		} else {
			props = map[string]any{"RestApiId": ref(apiID), "Method": method, "Path": r.Path}
			if p.API.TimeoutMS > 0 && p.API.TimeoutMS < project.DefaultRESTTimeoutMS {
				props["TimeoutInMillis"] = number(p.API.TimeoutMS)
			}
		}
		if a, ok := routeAuthorizer(p, r); ok {
			props["Auth"] = map[string]any{"Authorizer": a}
		}
		out[name] = map[string]any{"Type": eventType, "Properties": props}
	}
	return out
}

// eventName makes a SAM event name (letters and digits) from a route: "GET /pets/{id}" → "GetPetsId",
// "ANY /files/{proxy+}" → "AnyFilesProxy", "GET /" → "GetRoot".
func eventName(r project.Route) string {
	var b strings.Builder
	if r.Path == project.DefaultRoute {
		return "DefaultRoute"
	}
	b.WriteString(title(strings.ToLower(r.Method)))
	segs := project.Segments(r.Path)
	if len(segs) == 0 {
		b.WriteString("Root")
	}
	for _, s := range segs {
		// Every other character starts a new word: "user-profiles" → "UserProfiles".
		for _, w := range strings.FieldsFunc(s, func(c rune) bool { return c > unicode.MaxASCII || !unicode.IsLetter(c) && !unicode.IsDigit(c) }) {
			b.WriteString(title(w))
		}
	}
	return b.String()
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// checkLogicalIDs rejects function names that would collide with a logical id the template or
// SAM's expansion of it uses (project.LogicalIDOwner). project.Load refuses them already, with
// their place in config.yaml; this is for models that did not come from a config.
func checkLogicalIDs(p *project.Project) error {
	var problems []string
	isFunction := func(name string) bool { return p.Function(name) != nil }
	for _, f := range p.Functions {
		if owner := project.LogicalIDOwner(f.Name, isFunction); owner != "" {
			problems = append(problems, fmt.Sprintf("function name %s is the logical id of %s", f.Name, owner))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("generate template: %s", strings.Join(problems, "; "))
	}
	return nil
}

// newResource is a resource of the template: its type and properties.
func newResource(typ string, props map[string]any) map[string]any {
	return map[string]any{"Type": typ, "Properties": props}
}

// ref, sub and getAtt are the intrinsic functions the template uses, as CloudFormation reads them.
func ref(logicalID string) map[string]any { return map[string]any{"Ref": logicalID} }

func sub(s string) map[string]any { return map[string]any{"Fn::Sub": s} }

func getAtt(logicalID, attribute string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{logicalID, attribute}}
}

// number is n as a Document holds numbers.
func number(n int) json.Number { return json.Number(strconv.Itoa(n)) }

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
