package template

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/devserver/devserver/project"
)

// restCORS is SAM's Cors of a REST API. SAM writes each value into the OPTIONS mock's response
// mapping, where a literal must be single-quoted.
func restCORS(c *project.CORS) map[string]any {
	out := map[string]any{"AllowOrigin": quote(c.AllowOrigins[0])}
	if len(c.AllowMethods) > 0 {
		out["AllowMethods"] = quote(strings.Join(c.AllowMethods, ","))
	}
	if len(c.AllowHeaders) > 0 {
		out["AllowHeaders"] = quote(strings.Join(c.AllowHeaders, ","))
	}
	if c.MaxAgeSec > 0 {
		out["MaxAge"] = quote(strconv.Itoa(c.MaxAgeSec))
	}
	if c.AllowCredentials {
		out["AllowCredentials"] = true
	}
	return out
}

func quote(s string) string { return "'" + s + "'" }

// httpCORS is the CorsConfiguration of an HTTP API, and the Cors of a function URL: the same
// lists under the same names.
func httpCORS(c *project.CORS) map[string]any {
	out := map[string]any{"AllowOrigins": strs(c.AllowOrigins)}
	if len(c.AllowMethods) > 0 {
		out["AllowMethods"] = strs(c.AllowMethods)
	}
	if len(c.AllowHeaders) > 0 {
		out["AllowHeaders"] = strs(c.AllowHeaders)
	}
	if len(c.ExposeHeaders) > 0 {
		out["ExposeHeaders"] = strs(c.ExposeHeaders)
	}
	if c.MaxAgeSec > 0 {
		out["MaxAge"] = json.Number(strconv.Itoa(c.MaxAgeSec))
	}
	if c.AllowCredentials {
		out["AllowCredentials"] = true
	}
	return out
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// authorizers is the Authorizers map of the API's Auth: each a Lambda authorizer whose
// FunctionArn is the app's own function. SAM then creates the AWS::Lambda::Permission that lets
// API Gateway invoke it: by itself on a REST API, and with EnableFunctionDefaultPermissions on
// an HTTP API.
func authorizers(p *project.Project) map[string]any {
	if len(p.API.Authorizers) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, z := range p.API.Authorizers {
		identity := map[string]any{"ReauthorizeEvery": json.Number(strconv.Itoa(z.TTLSec))}
		a := map[string]any{"FunctionArn": getAtt(z.Function, "Arn"), "Identity": identity}
		if z.Type == project.AuthToken {
			a["FunctionPayloadType"] = "TOKEN"
			identity["Header"] = z.Identity[0].Name
			if z.Validation != "" {
				identity["ValidationExpression"] = z.Validation
			}
			out[z.Name] = a
			continue
		}
		lists := map[string][]any{}
		names := map[string]string{project.IdentityHeader: "Headers", project.IdentityQuery: "QueryStrings", project.IdentityStage: "StageVariables"}
		for _, s := range z.Identity {
			lists[names[s.Kind]] = append(lists[names[s.Kind]], s.Name)
		}
		for k, v := range lists {
			identity[k] = v
		}
		if p.API.Kind == project.KindREST {
			a["FunctionPayloadType"] = "REQUEST"
		} else {
			a["AuthorizerPayloadFormatVersion"] = z.PayloadFormat
			a["EnableFunctionDefaultPermissions"] = true
			if z.SimpleResponses {
				a["EnableSimpleResponses"] = true
			}
		}
		out[z.Name] = a
	}
	return out
}

// routeAuthorizer is the Auth.Authorizer of a route's event: none (false) when the route has the
// API's default, NONE when it is open on an API that has one, else its authorizer's name.
func routeAuthorizer(p *project.Project, r project.Route) (string, bool) {
	switch {
	case r.Authorizer == p.API.DefaultAuthorizer:
		return "", false
	case r.Authorizer == "":
		return project.AuthNone, true
	}
	return r.Authorizer, true
}

// apiAuth is the Auth of the API, or nil when it has no authorizers.
func apiAuth(p *project.Project) map[string]any {
	auth := map[string]any{}
	if p.API.DefaultAuthorizer != "" {
		auth["DefaultAuthorizer"] = p.API.DefaultAuthorizer
	}
	if a := authorizers(p); a != nil {
		auth["Authorizers"] = a
		if p.API.Kind == project.KindREST && p.API.CORS != nil {
			// SAM would put the default authorizer on the CORS preflight too, which a browser
			// never sends credentials to; locally the preflight is never authorized either.
			auth["AddDefaultAuthorizerToCorsPreflight"] = false
		}
	}
	if len(auth) == 0 {
		return nil
	}
	return auth
}
