package apigateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/devserver/devserver/project"
)

// httpEvent is the payload 2.0 event of an HTTP API and of a function URL. It mirrors
// events.APIGatewayV2HTTPRequest, whose context would add an empty "authentication" object
// that API Gateway sends only with mutual TLS.
type httpEvent struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	StageVariables        map[string]string `json:"stageVariables,omitempty"`
	RequestContext        httpContext       `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type httpContext struct {
	AccountID    string                                                      `json:"accountId"`
	APIID        string                                                      `json:"apiId"`
	Authorizer   *events.APIGatewayV2HTTPRequestContextAuthorizerDescription `json:"authorizer,omitempty"`
	DomainName   string                                                      `json:"domainName"`
	DomainPrefix string                                                      `json:"domainPrefix"`
	HTTP         events.APIGatewayV2HTTPRequestContextHTTPDescription        `json:"http"`
	RequestID    string                                                      `json:"requestId"`
	RouteKey     string                                                      `json:"routeKey"`
	Stage        string                                                      `json:"stage"`
	Time         string                                                      `json:"time"`
	TimeEpoch    int64                                                       `json:"timeEpoch"`
}

// httpRequestID is the HTTP API's request id (also its apigw-requestid header): 16 characters,
// shaped like "JKJaXmPLvHcESHA=".
func httpRequestID(requestID string) string { return extendedID(requestID) }

// stagedPath is the path an HTTP API event shows: a named stage prefixes it, $default does not.
func stagedPath(stage, path string) string {
	if stage == project.DefaultHTTPStage || stage == "" {
		return path
	}
	if path == "/" {
		return "/" + stage
	}
	return "/" + stage + path
}

// decodedParams URL-decodes path parameters, as an HTTP API passes them (a REST API does not).
func decodedParams(raw map[string]string) map[string]string {
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if dec, err := url.PathUnescape(v); err == nil {
			v = dec
		}
		out[k] = v
	}
	return out
}

// httpEvent builds the payload 2.0 event: header names lower-cased and repeated headers and
// query parameters joined with commas; cookies taken out of the headers into their own list.
func (g *Gateway) httpEvent(r *http.Request, t *table, d door, m match, path string, body []byte, rec *record) *httpEvent {
	headers := make(map[string]string, len(r.Header)+6)
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		if prev, ok := headers[lk]; ok {
			vs = append([]string{prev}, vs...)
		}
		headers[lk] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	_, localPort, _ := net.SplitHostPort(r.Host)
	if localPort == "" {
		localPort = "80"
	}
	for k, v := range map[string]string{"x-forwarded-for": ip, "x-forwarded-port": localPort, "x-forwarded-proto": "http", "x-amzn-trace-id": rec.traceID} {
		if _, ok := headers[k]; !ok {
			headers[k] = v
		}
	}
	// An HTTP API always tells the function the body's length, 0 without one.
	headers["content-length"] = strconv.Itoa(len(body))
	var query map[string]string
	if r.URL.RawQuery != "" {
		values, _ := url.ParseQuery(r.URL.RawQuery)
		if len(values) > 0 {
			query = make(map[string]string, len(values))
			for k, vs := range values {
				query[k] = strings.Join(vs, ",")
			}
		}
	}
	var params map[string]string
	if len(m.params) > 0 {
		params = decodedParams(m.params)
	}
	requestID := httpRequestID(rec.requestID)
	stage := d.stage
	apiID, stageVars := t.apiID, t.proj.API.StageVariables
	if d.kind == kindURL {
		requestID, stage, apiID, stageVars = rec.requestID, project.DefaultHTTPStage, urlID(d.url.Name), nil
	}
	rawPath := stagedPath(stage, path)
	ev := &httpEvent{
		Version:               project.Payload20,
		RouteKey:              m.route.Key(),
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		StageVariables:        stageVars,
		RequestContext: httpContext{
			AccountID:    g.cfg.AccountID,
			APIID:        apiID,
			DomainName:   r.Host,
			DomainPrefix: apiID,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      rawPath,
				Protocol:  rec.proto,
				SourceIP:  ip,
				UserAgent: r.UserAgent(),
			},
			RequestID: requestID,
			RouteKey:  m.route.Key(),
			Stage:     stage,
			Time:      rec.start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch: rec.start.UnixMilli(),
		},
	}
	if rec.auth != nil {
		ev.RequestContext.Authorizer = rec.auth.httpContext20()
	}
	if len(body) > 0 {
		ev.Body = string(body)
		if !isText(r.Header.Get("Content-Type")) {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isText says whether an HTTP API passes a body of this Content-Type as text; any other body,
// one without a Content-Type included, reaches the function base64-encoded.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript":
		return true
	}
	return false
}

// httpResponse is the structured payload 2.0 response; other keys are ignored.
type httpResponse struct {
	StatusCode      json.RawMessage   `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            json.RawMessage   `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Cookies         []string          `json:"cookies"`
}

// writeHTTPResponse writes a payload 2.0 answer, or reports false if it cannot be read. JSON
// without a statusCode is the body itself (200, application/json); a JSON string is the body's
// text. With dropCORS (CORS configured on the API) the function's Access-Control-* headers give
// way to the gateway's.
func writeHTTPResponse(w http.ResponseWriter, payload []byte, dropCORS bool) bool {
	// JSON's own whitespace only: "0\f" is no JSON, whatever unicode.IsSpace says.
	payload = bytes.Trim(payload, " \t\r\n")
	if !json.Valid(payload) {
		return false
	}
	var probe map[string]json.RawMessage
	if payload[0] != '{' || json.Unmarshal(payload, &probe) != nil || probe["statusCode"] == nil {
		body := payload
		var s string
		if payload[0] == '"' && json.Unmarshal(payload, &s) == nil {
			body = []byte(s)
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body) //nolint:errcheck // client gone.
		return true
	}
	var resp httpResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return false
	}
	status, ok := statusOf(resp.StatusCode)
	if !ok {
		return false
	}
	var body []byte
	if len(resp.Body) > 0 && string(resp.Body) != "null" {
		var s string
		if err := json.Unmarshal(resp.Body, &s); err == nil {
			body = []byte(s)
		} else {
			// A body that is not a string goes out as its JSON text.
			body = resp.Body
		}
	}
	if resp.IsBase64Encoded && len(body) > 0 {
		dec, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil {
			return false
		}
		body = dec
	}
	out := w.Header()
	// Sorted, so that a name spelled two ways (X-A, x-a) always ends with the same value.
	for _, k := range slices.Sorted(maps.Keys(resp.Headers)) {
		if dropCORS && isCORSHeader(k) {
			continue
		}
		out.Set(k, resp.Headers[k])
	}
	for _, c := range resp.Cookies {
		out.Add("Set-Cookie", c)
	}
	if out.Get("Content-Type") == "" {
		out.Set("Content-Type", "application/json")
	}
	out.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // client gone.
	return true
}

// statusOf reads a statusCode given as a number or a numeric string.
func statusOf(raw json.RawMessage) (int, bool) {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		if n, err = strconv.Atoi(s); err != nil {
			return 0, false
		}
	}
	// 1xx would make net/http send an interim response and then an implicit 200.
	return n, n >= 200 && n <= 599
}
