package eventgen

import (
	"cmp"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Fixed sample ids, shaped like the ones API Gateway sends.
const (
	apiID             = "a1b2c3d4e5"
	resourceID        = "2gxmpl"
	restRequestID     = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
	extendedRequestID = "BQGojGkFoAMF6ig="
	httpRequestID     = "JKJaXmPLvHcESHA="
	sourceIP          = "203.0.113.10"
	userAgent         = "curl/8.5.0"
	traceSuffix       = "5759e988bd862e3fe1be46a9" // the random part of an X-Ray trace id
)

// request is what the API Gateway kinds share: the HTTP request the event describes.
type request struct {
	where
	method, path, rawQuery, body, stage string
	query                               url.Values
	now                                 time.Time
}

// newRequest applies the defaults: GET (POST with a body) on /, stage defaultStage.
func newRequest(o Options, now time.Time, defaultStage string) request {
	r := request{where: locate(o), body: o.Body, stage: cmp.Or(o.Stage, defaultStage), now: now}
	r.method = strings.ToUpper(o.Method)
	if r.method == "" {
		r.method = "GET"
		if o.Body != "" {
			r.method = "POST"
		}
	}
	r.path, r.rawQuery, _ = strings.Cut(cmp.Or(o.Path, "/"), "?")
	r.query, _ = url.ParseQuery(r.rawQuery) // validate has refused a query that does not parse
	return r
}

func (r request) host() string {
	return apiID + ".execute-api." + r.region + "." + r.domain
}

// traceID is an X-Ray root id: the request's time in hex, then random-looking digits.
func (r request) traceID() string {
	return "Root=1-" + strconv.FormatInt(r.now.Unix(), 16) + "-" + traceSuffix
}

// contentType is what a client would send with the body: JSON when it parses as JSON.
func (r request) contentType() string {
	if json.Valid([]byte(r.body)) {
		return "application/json"
	}
	return "text/plain"
}

// headers are those of a curl request to the API's regional endpoint, as the function sees them.
func (r request) headers() map[string]string {
	h := map[string]string{
		"Accept":            "*/*",
		"Host":              r.host(),
		"User-Agent":        userAgent,
		"X-Amzn-Trace-Id":   r.traceID(),
		"X-Forwarded-For":   sourceIP,
		"X-Forwarded-Port":  "443",
		"X-Forwarded-Proto": "https",
	}
	if r.body != "" {
		h["Content-Length"] = strconv.Itoa(len(r.body))
		h["Content-Type"] = r.contentType()
	}
	return h
}

// restQuery is the query as payload 1.0 gives it: the last value of each name, and all of them;
// both null without a query.
func (r request) restQuery() (map[string]string, map[string][]string) {
	if len(r.query) == 0 {
		return nil, nil
	}
	last := make(map[string]string, len(r.query))
	for k, vs := range r.query {
		last[k] = vs[len(vs)-1]
	}
	return last, r.query
}

// methodArn names the method being called, as authorizers and IAM policies see it.
func (r request) methodArn() string {
	return r.arn("execute-api", apiID+"/"+r.stage+"/"+r.method+r.path)
}

func multi(h map[string]string) map[string][]string {
	m := make(map[string][]string, len(h))
	for k, v := range h {
		m[k] = []string{v}
	}
	return m
}

// restStage is the stage of a REST API when none is given: the same as devserver run's default
// (project.DefaultStage), so that a generated event matches the ones run builds.
const restStage = "api"

// proxy is the payload 1.0 event (events.APIGatewayProxyRequest), keys in AWS's order.
type proxy struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  proxyContext        `json:"requestContext"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

type proxyContext struct {
	ResourceID        string        `json:"resourceId"`
	ResourcePath      string        `json:"resourcePath"`
	HTTPMethod        string        `json:"httpMethod"`
	ExtendedRequestID string        `json:"extendedRequestId"`
	RequestTime       string        `json:"requestTime"`
	Path              string        `json:"path"`
	AccountID         string        `json:"accountId"`
	Protocol          string        `json:"protocol"`
	Stage             string        `json:"stage"`
	DomainPrefix      string        `json:"domainPrefix"`
	RequestTimeEpoch  int64         `json:"requestTimeEpoch"`
	RequestID         string        `json:"requestId"`
	Identity          proxyIdentity `json:"identity"`
	DomainName        string        `json:"domainName"`
	APIID             string        `json:"apiId"`
}

// proxyIdentity holds the caller's identity; without IAM or Cognito authorization AWS sends the
// fields as null, and a handler must cope with that.
type proxyIdentity struct {
	CognitoIdentityPoolID         *string `json:"cognitoIdentityPoolId"`
	AccountID                     *string `json:"accountId"`
	CognitoIdentityID             *string `json:"cognitoIdentityId"`
	Caller                        *string `json:"caller"`
	SourceIP                      string  `json:"sourceIp"`
	AccessKey                     *string `json:"accessKey"`
	CognitoAuthenticationType     *string `json:"cognitoAuthenticationType"`
	CognitoAuthenticationProvider *string `json:"cognitoAuthenticationProvider"`
	UserArn                       *string `json:"userArn"`
	UserAgent                     string  `json:"userAgent"`
	User                          *string `json:"user"`
}

// proxyEvent is a REST API request through a Lambda proxy integration. The resource is the path
// itself (no {parameters}), so pathParameters is null.
func proxyEvent(o Options, now time.Time) (any, error) {
	r := newRequest(o, now, restStage)
	h := r.headers()
	q, mq := r.restQuery()
	ev := proxy{
		Resource:                        r.path,
		Path:                            r.path,
		HTTPMethod:                      r.method,
		Headers:                         h,
		MultiValueHeaders:               multi(h),
		QueryStringParameters:           q,
		MultiValueQueryStringParameters: mq,
		RequestContext: proxyContext{
			ResourceID:        resourceID,
			ResourcePath:      r.path,
			HTTPMethod:        r.method,
			ExtendedRequestID: extendedRequestID,
			RequestTime:       now.Format(apigwTime),
			Path:              "/" + r.stage + r.path,
			AccountID:         r.account,
			Protocol:          "HTTP/1.1",
			Stage:             r.stage,
			DomainPrefix:      apiID,
			RequestTimeEpoch:  now.UnixMilli(),
			RequestID:         restRequestID,
			Identity:          proxyIdentity{SourceIP: sourceIP, UserAgent: userAgent},
			DomainName:        r.host(),
			APIID:             apiID,
		},
	}
	if r.body != "" {
		ev.Body = &r.body
	}
	return ev, nil
}

// httpAPI is the payload 2.0 event (events.APIGatewayV2HTTPRequest), keys in AWS's order.
type httpAPI struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        httpAPIContext    `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type httpAPIContext struct {
	AccountID    string      `json:"accountId"`
	APIID        string      `json:"apiId"`
	DomainName   string      `json:"domainName"`
	DomainPrefix string      `json:"domainPrefix"`
	HTTP         httpAPIHTTP `json:"http"`
	RequestID    string      `json:"requestId"`
	RouteKey     string      `json:"routeKey"`
	Stage        string      `json:"stage"`
	Time         string      `json:"time"`
	TimeEpoch    int64       `json:"timeEpoch"`
}

type httpAPIHTTP struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// httpAPIEvent is an HTTP API request on the route "METHOD path". Header names are lower case and
// repeated query names are joined with commas, as payload 2.0 has them.
func httpAPIEvent(o Options, now time.Time) (any, error) {
	r := newRequest(o, now, "$default")
	h := make(map[string]string)
	for k, v := range r.headers() {
		h[strings.ToLower(k)] = v
	}
	// HTTP APIs always pass content-length, 0 for a request without a body.
	h["content-length"] = strconv.Itoa(len(r.body))
	var q map[string]string
	if len(r.query) > 0 {
		q = make(map[string]string, len(r.query))
		for k, vs := range r.query {
			q[k] = strings.Join(vs, ",")
		}
	}
	// On a named stage (not $default) the stage is part of the path the function sees.
	path := r.path
	if r.stage != "$default" {
		path = "/" + r.stage + r.path
	}
	routeKey := r.method + " " + r.path
	return httpAPI{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               path,
		RawQueryString:        r.rawQuery,
		Headers:               h,
		QueryStringParameters: q,
		RequestContext: httpAPIContext{
			AccountID:    r.account,
			APIID:        apiID,
			DomainName:   r.host(),
			DomainPrefix: apiID,
			HTTP: httpAPIHTTP{
				Method:    r.method,
				Path:      path,
				Protocol:  "HTTP/1.1",
				SourceIP:  sourceIP,
				UserAgent: userAgent,
			},
			RequestID: httpRequestID,
			RouteKey:  routeKey,
			Stage:     r.stage,
			Time:      now.Format(apigwTime),
			TimeEpoch: now.UnixMilli(),
		},
		Body: r.body,
	}, nil
}

// tokenAuthorizer is the TOKEN authorizer's input (events.APIGatewayCustomAuthorizerRequest).
type tokenAuthorizer struct {
	Type               string `json:"type"`
	AuthorizationToken string `json:"authorizationToken"`
	MethodArn          string `json:"methodArn"`
}

// requestAuthorizer is the REQUEST authorizer's input
// (events.APIGatewayCustomAuthorizerRequestTypeRequest), keys in AWS's order.
type requestAuthorizer struct {
	Type                            string                   `json:"type"`
	MethodArn                       string                   `json:"methodArn"`
	Resource                        string                   `json:"resource"`
	Path                            string                   `json:"path"`
	HTTPMethod                      string                   `json:"httpMethod"`
	Headers                         map[string]string        `json:"headers"`
	MultiValueHeaders               map[string][]string      `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string        `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string      `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string        `json:"pathParameters"`
	StageVariables                  map[string]string        `json:"stageVariables"`
	RequestContext                  requestAuthorizerContext `json:"requestContext"`
}

type requestAuthorizerContext struct {
	Path         string                    `json:"path"`
	AccountID    string                    `json:"accountId"`
	ResourceID   string                    `json:"resourceId"`
	Stage        string                    `json:"stage"`
	RequestID    string                    `json:"requestId"`
	Identity     requestAuthorizerIdentity `json:"identity"`
	ResourcePath string                    `json:"resourcePath"`
	HTTPMethod   string                    `json:"httpMethod"`
	APIID        string                    `json:"apiId"`
}

type requestAuthorizerIdentity struct {
	SourceIP string `json:"sourceIp"`
}

// authorizerEvent is what a REST API's Lambda authorizer receives before the method runs. The
// default token, allow, is the one the AWS documentation's sample authorizer lets through.
func authorizerEvent(o Options, now time.Time) (any, error) {
	r := newRequest(o, now, restStage)
	token := cmp.Or(o.Token, "allow")
	if strings.ToLower(o.Type) != "request" {
		return tokenAuthorizer{Type: "TOKEN", AuthorizationToken: token, MethodArn: r.methodArn()}, nil
	}
	// A REQUEST authorizer sees the request's headers; the token is the Authorization header,
	// the usual identity source.
	h := r.headers()
	h["Authorization"] = token
	q, mq := r.restQuery()
	return requestAuthorizer{
		Type:                            "REQUEST",
		MethodArn:                       r.methodArn(),
		Resource:                        r.path,
		Path:                            r.path,
		HTTPMethod:                      r.method,
		Headers:                         h,
		MultiValueHeaders:               multi(h),
		QueryStringParameters:           q,
		MultiValueQueryStringParameters: mq,
		RequestContext: requestAuthorizerContext{
			Path:         "/" + r.stage + r.path,
			AccountID:    r.account,
			ResourceID:   resourceID,
			Stage:        r.stage,
			RequestID:    restRequestID,
			Identity:     requestAuthorizerIdentity{SourceIP: sourceIP},
			ResourcePath: r.path,
			HTTPMethod:   r.method,
			APIID:        apiID,
		},
	}, nil
}
