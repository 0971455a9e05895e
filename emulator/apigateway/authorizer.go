package apigateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/project"
)

// authResult is what an authorizer let through: who the caller is and the context the
// authorizer attached, for the route function's event.
type authResult struct {
	principalID string
	context     map[string]any
	// iam is a function URL's AWS_IAM caller; nil for a Lambda authorizer.
	iam *events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription
}

// restContext is requestContext.authorizer of a REST API's event: principalId beside the context.
func (a *authResult) restContext() map[string]any {
	out := make(map[string]any, len(a.context)+1)
	for k, v := range a.context {
		out[k] = v
	}
	out["principalId"] = a.principalID
	return out
}

// httpContext10 is requestContext.authorizer of an HTTP API's payload 1.0 event.
func (a *authResult) httpContext10() map[string]any {
	out := map[string]any{"lambda": a.lambdaContext()}
	if a.principalID != "" {
		out["principalId"] = a.principalID
	}
	return out
}

// httpContext20 is requestContext.authorizer of a payload 2.0 event: the Lambda authorizer's
// context under "lambda", or a function URL's IAM caller under "iam".
func (a *authResult) httpContext20() *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
	if a.iam != nil {
		return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{IAM: a.iam}
	}
	return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: a.lambdaContext()}
}

func (a *authResult) lambdaContext() map[string]any {
	if a.context == nil {
		return map[string]any{}
	}
	return a.context
}

// authCache holds authorizer answers by authorizer and identity until their TTL runs out.
type authCache struct {
	mu      sync.Mutex
	entries map[string]authEntry
}

// authEntry is one authorizer answer. A policy is kept whole and matched against each request's
// ARN, as API Gateway does: a cached policy that names only one method denies the others.
type authEntry struct {
	expires time.Time
	answer  *authAnswer
}

func newAuthCache() *authCache { return &authCache{entries: map[string]authEntry{}} }

func (c *authCache) get(key string, now time.Time) *authAnswer {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) {
		delete(c.entries, key)
		return nil
	}
	return e.answer
}

func (c *authCache) put(key string, a *authAnswer, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = authEntry{expires: expires, answer: a}
}

// authAnswer is an authorizer's answer: a simple yes or no, or an IAM policy.
type authAnswer struct {
	PrincipalID    string          `json:"principalId"`
	PolicyDocument *policyDocument `json:"policyDocument"`
	Context        map[string]any  `json:"context"`
	IsAuthorized   *bool           `json:"isAuthorized"`
}

type policyDocument struct {
	Version   string     `json:"Version"`
	Statement statements `json:"Statement"`
}

type statement struct {
	Effect   string     `json:"Effect"`
	Action   stringList `json:"Action"`
	Resource stringList `json:"Resource"`
}

// statements reads IAM's Statement: a list, or a single statement.
type statements []statement

func (s *statements) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '{' {
		var one statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = statements{one}
		return nil
	}
	return json.Unmarshal(b, (*[]statement)(s))
}

// stringList reads IAM's Action and Resource: a list of strings, or one string.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stringList{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(s))
}

// allows evaluates the policy for arn as IAM does: an explicit Deny wins, then an Allow; with
// neither the request is denied.
func (p *policyDocument) allows(arn string) bool {
	allowed := false
	for _, st := range p.Statement {
		if !anyMatch(st.Action, "execute-api:Invoke", true) || !anyMatch(st.Resource, arn, false) {
			continue
		}
		switch strings.ToLower(st.Effect) {
		case "deny":
			return false
		case "allow":
			allowed = true
		}
	}
	return allowed
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against an IAM pattern, where * is any run of characters (slashes
// included) and ? is any one character.
func wildcardMatch(pattern, s string) bool {
	// Iterative glob matching with one backtrack point: linear for IAM's patterns.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// authorize runs the route's authorizer (or a function URL's IAM check). It returns what the
// event should carry, or the error to answer with.
func (g *Gateway) authorize(r *http.Request, t *table, d door, m match, path string, rec *record) (*authResult, *apiError) {
	if d.kind == kindURL {
		if d.url.URL.Auth != project.URLAuthIAM {
			return nil, nil
		}
		return g.authorizeIAM(r, d)
	}
	if m.route.Authorizer == "" {
		return nil, nil
	}
	z := t.proj.API.Authorizer(m.route.Authorizer)
	if z == nil {
		return nil, &d.errs.authFailed
	}
	identity, ok := identityOf(z, r, t)
	if !ok {
		return nil, &d.errs.unauthorized
	}
	if re := t.validations[z.Name]; re != nil && !re.MatchString(identity[0]) {
		// A token that fails the validation expression is refused without calling the authorizer.
		return nil, &d.errs.unauthorized
	}
	arn := "arn:aws:execute-api:" + g.cfg.Region + ":" + g.cfg.AccountID + ":" + t.apiID + "/" + d.stage + "/" + r.Method + path
	key := z.Name + "\x00" + strings.Join(identity, "\x00")
	var answer *authAnswer
	if z.TTLSec > 0 {
		answer = t.auth.get(key, g.cfg.Now())
	}
	if answer == nil {
		var failure *apiError
		answer, failure = g.callAuthorizer(r, t, d, m, path, z, identity, arn, rec)
		if failure != nil {
			return nil, failure
		}
		if z.TTLSec > 0 {
			t.auth.put(key, answer, g.cfg.Now().Add(time.Duration(z.TTLSec)*time.Second))
		}
	}
	allowed := false
	if answer.IsAuthorized != nil && z.SimpleResponses {
		allowed = *answer.IsAuthorized
	} else if answer.PolicyDocument != nil {
		allowed = answer.PolicyDocument.allows(arn)
	}
	if !allowed {
		return nil, &d.errs.forbidden
	}
	return &authResult{principalID: answer.PrincipalID, context: answer.Context}, nil
}

// identityOf reads the authorizer's identity sources from the request; ok is false when one is
// missing or empty, which API Gateway answers 401 without calling the authorizer.
func identityOf(z *project.Authorizer, r *http.Request, t *table) ([]string, bool) {
	var query url.Values
	vals := make([]string, 0, len(z.Identity))
	for _, s := range z.Identity {
		var v string
		switch s.Kind {
		case project.IdentityHeader:
			v = strings.Join(r.Header.Values(s.Name), ",")
		case project.IdentityQuery:
			if query == nil {
				query = r.URL.Query()
			}
			v = strings.Join(query[s.Name], ",")
		case project.IdentityStage:
			v = t.proj.API.StageVariables[s.Name]
		}
		if v == "" {
			return nil, false
		}
		vals = append(vals, v)
	}
	return vals, true
}

// Authorizer events API Gateway sends that aws-lambda-go's types would add empty fields to.
type (
	restRequestAuthEvent struct {
		Type                            string              `json:"type"`
		MethodArn                       string              `json:"methodArn"`
		Resource                        string              `json:"resource"`
		Path                            string              `json:"path"`
		HTTPMethod                      string              `json:"httpMethod"`
		Headers                         map[string]string   `json:"headers"`
		MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
		QueryStringParameters           map[string]string   `json:"queryStringParameters"`
		MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
		PathParameters                  map[string]string   `json:"pathParameters"`
		StageVariables                  map[string]string   `json:"stageVariables"`
		RequestContext                  restAuthContext     `json:"requestContext"`
	}
	restAuthContext struct {
		Path         string            `json:"path"`
		AccountID    string            `json:"accountId"`
		ResourceID   string            `json:"resourceId"`
		Stage        string            `json:"stage"`
		RequestID    string            `json:"requestId"`
		Identity     map[string]string `json:"identity"`
		ResourcePath string            `json:"resourcePath"`
		HTTPMethod   string            `json:"httpMethod"`
		APIID        string            `json:"apiId"`
	}
	httpAuthEvent20 struct {
		Version               string            `json:"version"`
		Type                  string            `json:"type"`
		RouteArn              string            `json:"routeArn"`
		IdentitySource        []string          `json:"identitySource"`
		RouteKey              string            `json:"routeKey"`
		RawPath               string            `json:"rawPath"`
		RawQueryString        string            `json:"rawQueryString"`
		Cookies               []string          `json:"cookies,omitempty"`
		Headers               map[string]string `json:"headers"`
		QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
		RequestContext        httpContext       `json:"requestContext"`
		PathParameters        map[string]string `json:"pathParameters,omitempty"`
		StageVariables        map[string]string `json:"stageVariables,omitempty"`
	}
	httpAuthEvent10 struct {
		Version               string            `json:"version"`
		Type                  string            `json:"type"`
		MethodArn             string            `json:"methodArn"`
		IdentitySource        string            `json:"identitySource"`
		AuthorizationToken    string            `json:"authorizationToken"`
		Resource              string            `json:"resource"`
		Path                  string            `json:"path"`
		HTTPMethod            string            `json:"httpMethod"`
		Headers               map[string]string `json:"headers"`
		QueryStringParameters map[string]string `json:"queryStringParameters"`
		PathParameters        map[string]string `json:"pathParameters"`
		StageVariables        map[string]string `json:"stageVariables"`
		RequestContext        restAuthContext   `json:"requestContext"`
	}
)

// authEvent builds the event the authorizer z receives for the request.
func (g *Gateway) authEvent(r *http.Request, t *table, d door, m match, path string, z *project.Authorizer, identity []string, arn string, rec *record) any {
	if z.Type == project.AuthToken {
		return events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: identity[0], MethodArn: arn}
	}
	if d.kind == project.KindHTTP && z.PayloadFormat != project.Payload10 {
		ev := g.httpEvent(r, t, d, m, path, nil, rec)
		return httpAuthEvent20{Version: project.Payload20, Type: "REQUEST", RouteArn: arn, IdentitySource: identity,
			RouteKey: ev.RouteKey, RawPath: ev.RawPath, RawQueryString: ev.RawQueryString, Cookies: ev.Cookies,
			Headers: ev.Headers, QueryStringParameters: ev.QueryStringParameters, RequestContext: ev.RequestContext,
			PathParameters: ev.PathParameters, StageVariables: ev.StageVariables}
	}
	ev := g.restEvent(r, t, d, m, path, nil, rec)
	rc := restAuthContext{Path: ev.RequestContext.Path, AccountID: ev.RequestContext.AccountID, ResourceID: ev.RequestContext.ResourceID,
		Stage: ev.RequestContext.Stage, RequestID: ev.RequestContext.RequestID, Identity: map[string]string{"sourceIp": ev.RequestContext.Identity.SourceIP},
		ResourcePath: ev.RequestContext.ResourcePath, HTTPMethod: ev.RequestContext.HTTPMethod, APIID: ev.RequestContext.APIID}
	if d.kind == project.KindHTTP {
		return httpAuthEvent10{Version: project.Payload10, Type: "REQUEST", MethodArn: arn, IdentitySource: strings.Join(identity, ","),
			AuthorizationToken: r.Header.Get("Authorization"), Resource: ev.Resource, Path: ev.Path, HTTPMethod: ev.HTTPMethod,
			Headers: ev.Headers, QueryStringParameters: ev.QueryStringParameters, PathParameters: ev.PathParameters,
			StageVariables: ev.StageVariables, RequestContext: rc}
	}
	return restRequestAuthEvent{Type: "REQUEST", MethodArn: arn, Resource: ev.Resource, Path: ev.Path, HTTPMethod: ev.HTTPMethod,
		Headers: ev.Headers, MultiValueHeaders: ev.MultiValueHeaders, QueryStringParameters: ev.QueryStringParameters,
		MultiValueQueryStringParameters: ev.MultiValueQueryStringParameters, PathParameters: ev.PathParameters,
		StageVariables: ev.StageVariables, RequestContext: rc}
}

// callAuthorizer invokes the authorizer through the same Invoker as any function (so it is
// logged and recorded on the Exchange) and reads its answer.
func (g *Gateway) callAuthorizer(r *http.Request, t *table, d door, m match, path string, z *project.Authorizer, identity []string, arn string, rec *record) (*authAnswer, *apiError) {
	payload, err := json.Marshal(g.authEvent(r, t, d, m, path, z, identity, arn, rec))
	if err != nil {
		return nil, &d.errs.authFailed
	}
	resp, _, err := g.invoke(r, z.Function, invocation.Request{Payload: payload, TraceID: rec.traceID + ";Sampled=0"}, d.timeout)
	if err != nil {
		g.cfg.Log.Warn("authorizer failed", "authorizer", z.Name, "function", z.Function, "err", err)
		return nil, &d.errs.authFailed
	}
	if resp.FunctionError != "" {
		// A REST API turns an authorizer's error "Unauthorized" into 401: the usual way a TOKEN
		// authorizer says the token is bad.
		var doc struct{ ErrorMessage string }
		if json.Unmarshal(resp.Payload, &doc) == nil && doc.ErrorMessage == "Unauthorized" && d.kind == project.KindREST {
			return nil, &d.errs.unauthorized
		}
		return nil, &d.errs.authFailed
	}
	var a authAnswer
	if err := json.Unmarshal(resp.Payload, &a); err != nil || !a.valid(z, d.kind) {
		g.cfg.Log.Warn("malformed authorizer response", "authorizer", z.Name, "response", truncate(resp.Payload, 200))
		return nil, &d.errs.authFailed
	}
	return &a, nil
}

// valid checks the answer has the shape its authorizer must give.
func (a *authAnswer) valid(z *project.Authorizer, kind string) bool {
	if z.SimpleResponses {
		return a.IsAuthorized != nil
	}
	if a.PolicyDocument == nil || len(a.PolicyDocument.Statement) == 0 {
		return false
	}
	if kind == project.KindREST {
		if a.PrincipalID == "" {
			return false
		}
		// A REST API takes only strings, numbers and booleans as context values.
		for _, v := range a.Context {
			switch v.(type) {
			case string, float64, bool:
			default:
				return false
			}
		}
	}
	return true
}

// sigV4 reads the access key of a SigV4 Authorization header.
var sigV4 = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)/`)

// authorizeIAM checks a function URL's AWS_IAM auth as far as devserver can: the request must be
// signed with SigV4. The signature itself is not verified: there are no credentials to check
// it against locally.
func (g *Gateway) authorizeIAM(r *http.Request, d door) (*authResult, *apiError) {
	m := sigV4.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return nil, &d.errs.forbidden
	}
	return &authResult{iam: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
		AccessKey: m[1], AccountID: g.cfg.AccountID, CallerID: m[1],
		UserARN: "arn:aws:iam::" + g.cfg.AccountID + ":user/local", UserID: m[1],
	}}, nil
}
