// Package template owns the SAM template that `devserver package` writes: generating it from the
// route model, merging a user's overlay template into it, and writing it as JSON or YAML. It also
// reads a SAM template (ours, or a SAM project's own) back into the route model, for
// `devserver run --template` (Read).
//
// Resources are built with goformation's typed SAM resources and then turned into a Document, a
// plain JSON tree with CloudFormation intrinsics spelled out, because that is the form that merging,
// marshalling and the one property goformation lacks (TimeoutInMillis on Api events) all need.
package template

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"

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
	t := cloudformation.NewTemplate()
	t.Transform = &cloudformation.Transform{String: cloudformation.String(transform)}

	apiID, eventType := RestAPI, "Api"
	switch p.API.Kind {
	case project.KindREST:
		api := &serverless.Api{StageName: p.API.Stage, OpenApiVersion: cloudformation.String(openAPIVersion)}
		for _, m := range p.API.BinaryMediaTypes {
			// SAM writes binary media types into the OpenAPI document, where "/" must be "~1".
			api.BinaryMediaTypes = append(api.BinaryMediaTypes, strings.ReplaceAll(m, "/", "~1"))
		}
		api.Cors = restCORS(p.API.CORS)
		api.Variables = p.API.StageVariables
		if p.API.DefaultAuthorizer != "" {
			api.Auth = &serverless.Api_Auth{DefaultAuthorizer: cloudformation.String(p.API.DefaultAuthorizer)}
		}
		t.Resources[RestAPI] = api
		t.Outputs["RestAPIId"] = cloudformation.Output{Value: cloudformation.Ref(RestAPI)}
		t.Outputs["EndpointURL"] = cloudformation.Output{Value: cloudformation.Sub(
			"https://${" + RestAPI + "}.execute-api.${AWS::Region}.${AWS::URLSuffix}/" + p.API.Stage + "/")}
	case project.KindHTTP:
		apiID, eventType = HTTPAPI, "HttpApi"
		// $default keeps the stage out of invoke URLs and out of the event's rawPath; a named
		// stage prefixes both, locally as in the cloud.
		api := &serverless.HttpApi{StageName: cloudformation.String(p.API.Stage), StageVariables: p.API.StageVariables}
		if p.API.DefaultAuthorizer != "" {
			api.Auth = &serverless.HttpApi_HttpApiAuth{DefaultAuthorizer: cloudformation.String(p.API.DefaultAuthorizer)}
		}
		t.Resources[HTTPAPI] = api
		t.Outputs["HttpApiId"] = cloudformation.Output{Value: cloudformation.Ref(HTTPAPI)}
		endpoint := "https://${" + HTTPAPI + "}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
		if p.API.Stage != project.DefaultHTTPStage {
			endpoint += p.API.Stage + "/"
		}
		t.Outputs["EndpointURL"] = cloudformation.Output{Value: cloudformation.Sub(endpoint)}
	default:
		return nil, fmt.Errorf("generate template: unknown API kind %q", p.API.Kind)
	}

	for _, f := range p.Functions {
		uri, ok := codeURIs[f.Name]
		if !ok {
			return nil, fmt.Errorf("generate template: no CodeUri for function %s", f.Name)
		}
		fn := &serverless.Function{
			Runtime:       cloudformation.String(Runtime),
			Handler:       cloudformation.String(Handler),
			CodeUri:       &serverless.Function_CodeUri{String: cloudformation.String(uri)},
			Architectures: []string{cmp.Or(f.Architecture, project.DefaultArchitecture)},
			MemorySize:    cloudformation.Int(f.MemoryMB),
			Timeout:       cloudformation.Int(f.TimeoutSec),
		}
		if len(f.Environment) > 0 {
			fn.Environment = &serverless.Function_FunctionEnvironment{Variables: f.Environment}
		}
		if f.ReservedConcurrency > 0 {
			fn.ReservedConcurrentExecutions = cloudformation.Int(f.ReservedConcurrency)
		}
		fn.Events = events(p, f.Name, apiID, eventType)
		if f.URL != nil {
			// SAM makes the AWS::Lambda::Url as <Function>Url, and for AuthType NONE the
			// permission that lets anyone call it.
			fn.FunctionUrlConfig = &serverless.Function_FunctionUrlConfig{AuthType: f.URL.Auth}
			t.Outputs[f.Name+"Url"] = cloudformation.Output{Value: cloudformation.GetAtt(f.Name+"Url", "FunctionUrl")}
		}
		t.Resources[f.Name] = fn
		t.Outputs[f.Name+"Name"] = cloudformation.Output{Value: cloudformation.Ref(f.Name)}
		t.Outputs[f.Name+"Arn"] = cloudformation.Output{Value: cloudformation.GetAtt(f.Name, "Arn")}
	}

	doc, err := fromGoformation(t)
	if err != nil {
		return nil, fmt.Errorf("generate template: %w", err)
	}
	// API Gateway applies its default timeout by itself; the template states only lower ones.
	if p.API.Kind == project.KindREST && p.API.TimeoutMS > 0 && p.API.TimeoutMS < project.DefaultRESTTimeoutMS {
		apiEventTimeout(doc, p.API.TimeoutMS)
	}
	addAPIFeatures(doc, p)
	return doc, nil
}

// events returns the API events of one function, one per route, named after method and path.
func events(p *project.Project, function, apiID, eventType string) map[string]serverless.Function_EventSource {
	out := map[string]serverless.Function_EventSource{}
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
		props := &serverless.Function_Properties{}
		if eventType == "HttpApi" {
			ev := &serverless.Function_HttpApiEvent{
				ApiId:                cloudformation.RefPtr(apiID),
				PayloadFormatVersion: cloudformation.String(cmp.Or(r.PayloadFormat, project.Payload20)),
			}
			// The $default route is an HttpApi event without a method or path.
			if r.Path != project.DefaultRoute {
				ev.Method = cloudformation.String(method)
				ev.Path = cloudformation.String(r.Path)
			}
			if p.API.TimeoutMS > 0 && p.API.TimeoutMS < project.DefaultHTTPTimeoutMS {
				ev.TimeoutInMillis = cloudformation.Int(p.API.TimeoutMS)
			}
			if a := routeAuthorizer(p, r); a != nil {
				ev.Auth = &serverless.Function_HttpApiFunctionAuth{Authorizer: a}
			}
			props.HttpApiEvent = ev
		} else {
			props.ApiEvent = &serverless.Function_ApiEvent{
				RestApiId: cloudformation.RefPtr(apiID),
				Method:    method,
				Path:      r.Path,
			}
			if a := routeAuthorizer(p, r); a != nil {
				props.ApiEvent.Auth = &serverless.Function_Auth{Authorizer: a}
			}
		}
		out[name] = serverless.Function_EventSource{Type: eventType, Properties: props}
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

// apiEventTimeout sets TimeoutInMillis on every Api event. SAM supports it on Api events, but
// goformation v7's serverless.Function_ApiEvent has no such field, so it is added to the document.
func apiEventTimeout(doc Document, ms int) {
	resources, _ := doc["Resources"].(map[string]any)
	// Only values are set, so map order cannot reach the output.
	for _, res := range resources {
		res, _ := res.(map[string]any)
		if res["Type"] != "AWS::Serverless::Function" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		evs, _ := props["Events"].(map[string]any)
		for _, ev := range evs {
			ev, _ := ev.(map[string]any)
			if ev["Type"] != "Api" {
				continue
			}
			if ep, ok := ev["Properties"].(map[string]any); ok {
				ep["TimeoutInMillis"] = json.Number(fmt.Sprint(ms))
			}
		}
	}
}
