package apigateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/devserver/devserver/project"
)

// restEvent is the payload 1.0 event. It embeds the aws-lambda-go type and overrides the two
// fields whose JSON differs on API Gateway: body is null without a body, and isBase64Encoded is
// always present.
type restEvent struct {
	// Version is "1.0" on an HTTP API, which says so; a REST API's event has no version.
	Version string `json:"version,omitempty"`
	events.APIGatewayProxyRequest
	Body            *string `json:"body"`
	IsBase64Encoded bool    `json:"isBase64Encoded"`
}

// stampHeaders sets the headers every answer of door d carries, the gateway's own included.
func stampHeaders(w http.ResponseWriter, d door, rec *record) {
	h := w.Header()
	switch d.kind {
	case project.KindREST:
		h["x-amzn-RequestId"] = []string{rec.requestID}
		h["x-amz-apigw-id"] = []string{extendedID(rec.requestID)}
		h["X-Amzn-Trace-Id"] = []string{rec.traceID}
	case project.KindHTTP:
		h["Apigw-Requestid"] = []string{httpRequestID(rec.requestID)}
	case kindURL:
		h["X-Amzn-Requestid"] = []string{rec.requestID}
		h["X-Amzn-Trace-Id"] = []string{rec.traceID}
	}
}

// traceRoot is the X-Ray root id API Gateway gives the request.
func traceRoot(now time.Time, requestID string) string {
	return "Root=1-" + strconv.FormatInt(now.Unix(), 16) + "-" + strings.ReplaceAll(requestID, "-", "")[:24]
}

// extendedID derives a 16-character id shaped like API Gateway's extendedRequestId.
func extendedID(requestID string) string {
	s := base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(requestID, "-", "")[:11]))
	return s[:15] + "="
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// restEvent builds the payload 1.0 event, of a REST API or (with version "1.0") of an HTTP API,
// header names as the client spelled them.
func (g *Gateway) restEvent(r *http.Request, t *table, d door, m match, path string, body []byte, rec *record) *restEvent {
	p := t.proj
	requestID, traceID, now := rec.requestID, rec.traceID, rec.start
	spelled := func(k string) string {
		if s, ok := rec.names[k]; ok {
			return s
		}
		return k
	}
	headers := make(map[string]string, len(r.Header)+4)
	multi := make(map[string][]string, len(r.Header)+4)
	for k, vs := range r.Header {
		k = spelled(k)
		headers[k] = vs[len(vs)-1]
		multi[k] = vs
	}
	host := r.Host
	headers[spelled("Host")], multi[spelled("Host")] = host, []string{host}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	_, localPort, _ := net.SplitHostPort(host)
	if localPort == "" {
		localPort = "80"
	}
	for k, v := range map[string]string{"X-Forwarded-For": ip, "X-Forwarded-Port": localPort, "X-Forwarded-Proto": "http", "X-Amzn-Trace-Id": traceID} {
		if _, sent := r.Header[k]; !sent {
			headers[k], multi[k] = v, []string{v}
		}
	}
	var query map[string]string
	var multiQuery map[string][]string
	if r.URL.RawQuery != "" {
		values, _ := url.ParseQuery(r.URL.RawQuery)
		if len(values) > 0 {
			query = make(map[string]string, len(values))
			multiQuery = map[string][]string(values)
			for k, vs := range values {
				query[k] = vs[len(vs)-1]
			}
		}
	}
	var params map[string]string
	if len(m.params) > 0 {
		params = m.params
		if d.kind == project.KindHTTP {
			params = decodedParams(m.params)
		}
	}
	ev := &restEvent{APIGatewayProxyRequest: events.APIGatewayProxyRequest{
		Resource:                        m.route.Path,
		Path:                            path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multi,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  params,
		StageVariables:                  p.API.StageVariables,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         g.cfg.AccountID,
			ResourceID:        resourceID(m.route.Path),
			Stage:             p.API.Stage,
			DomainName:        host,
			DomainPrefix:      t.apiID,
			RequestID:         requestID,
			ExtendedRequestID: extendedID(requestID),
			Protocol:          rec.proto,
			Identity:          events.APIGatewayRequestIdentity{SourceIP: ip, UserAgent: r.UserAgent()},
			ResourcePath:      m.route.Path,
			Path:              "/" + p.API.Stage + strings.TrimSuffix(path, "/"),
			HTTPMethod:        r.Method,
			RequestTime:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch:  now.UnixMilli(),
			APIID:             t.apiID,
		},
	}}
	if path == "/" {
		ev.RequestContext.Path = "/" + p.API.Stage + "/"
	}
	if rec.auth != nil {
		ev.RequestContext.Authorizer = rec.auth.restContext()
	}
	binary := matchesMedia(r.Header.Get("Content-Type"), p.API.BinaryMediaTypes)
	if d.kind == project.KindHTTP {
		// An HTTP API's 1.0 event: versioned, its own request id, the HTTP API's base64 rule.
		ev.Version = project.Payload10
		ev.RequestContext.RequestID = httpRequestID(requestID)
		ev.RequestContext.ExtendedRequestID = httpRequestID(requestID)
		ev.RequestContext.Path = stagedPath(d.stage, path)
		ev.Path = stagedPath(d.stage, path)
		if rec.auth != nil {
			ev.RequestContext.Authorizer = rec.auth.httpContext10()
		}
		binary = !isText(r.Header.Get("Content-Type"))
	}
	if len(body) > 0 {
		s := string(body)
		if binary {
			s = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
		ev.Body = &s
	}
	return ev
}

// resourceID is a stable 6-character id for a resource path.
func resourceID(path string) string {
	return apiID(path)[:6]
}

// restResponse is the payload 1.0 response. Any other key makes it malformed. The fields are
// decoded by hand because API Gateway is lenient in places JavaScript and Python handlers rely
// on: statusCode may be a numeric string ("201"), and a header value may be a boolean.
type restResponse struct {
	StatusCode        json.RawMessage            `json:"statusCode"`
	Headers           map[string]json.RawMessage `json:"headers"`
	MultiValueHeaders map[string]json.RawMessage `json:"multiValueHeaders"`
	Body              *string                    `json:"body"`
	IsBase64Encoded   bool                       `json:"isBase64Encoded"`
}

// restStatus reads statusCode: an integer, or a string of digits; absent or null is 200.
func restStatus(raw json.RawMessage) (int, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return http.StatusOK, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	n, err := strconv.Atoi(string(raw))
	return n, err == nil
}

// restHeaderValue reads one header value: a string, or a boolean as "true"/"false". A number,
// an object or an array is malformed, as on API Gateway.
func restHeaderValue(raw json.RawMessage) (string, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// writeRESTResponse writes the function's answer, or reports false if it is malformed.
// With dropCORS (an HTTP API with CORS configured) the function's Access-Control-* headers give
// way to the gateway's.
func writeRESTResponse(w http.ResponseWriter, r *http.Request, payload []byte, binaryTypes []string, dropCORS bool) bool {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || payload[0] != '{' {
		return false
	}
	var resp restResponse
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		return false
	}
	// Only the end of the input may follow the object (dec.More is false for a stray "}" or "]").
	if _, err := dec.Token(); err != io.EOF {
		return false
	}
	status, ok := restStatus(resp.StatusCode)
	if !ok {
		return false
	}
	// 1xx would make net/http send an interim response and then an implicit 200.
	if status < 200 || status > 599 {
		return false
	}
	var body []byte
	if resp.Body != nil {
		body = []byte(*resp.Body)
	}
	// Headers are gathered apart and copied only once the response is known to be good, so that
	// a malformed one leaks none of them into the 502. Names that differ only in case are one
	// header, whose values go in in the sorted order of the spellings: Go's random map order
	// must not reach the response.
	h := http.Header{}
	for _, k := range slices.Sorted(maps.Keys(resp.MultiValueHeaders)) {
		raw := resp.MultiValueHeaders[k]
		var vs []json.RawMessage
		if json.Unmarshal(raw, &vs) != nil || vs == nil {
			return false
		}
		for _, rv := range vs {
			v, ok := restHeaderValue(rv)
			if !ok {
				return false
			}
			h.Add(k, v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(resp.Headers)) {
		v, ok := restHeaderValue(resp.Headers[k])
		if !ok {
			return false
		}
		if !slices.Contains(h.Values(k), v) {
			h.Add(k, v)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	if resp.IsBase64Encoded && len(body) > 0 {
		accept, _, _ := strings.Cut(r.Header.Get("Accept"), ",")
		if matchesMedia(accept, binaryTypes) || matchesMedia(h.Get("Content-Type"), binaryTypes) {
			dec, err := base64.StdEncoding.DecodeString(string(body))
			if err != nil {
				return false
			}
			body = dec
		}
	}
	out := w.Header()
	for k, vs := range h {
		if dropCORS && isCORSHeader(k) {
			continue
		}
		out[k] = append(out[k], vs...)
	}
	out.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // client gone.
	return true
}

// matchesMedia reports whether a Content-Type or Accept value matches one of the binary media
// types, which may use wildcards ("image/*", "*/*").
func matchesMedia(value string, types []string) bool {
	if value == "" || len(types) == 0 {
		return false
	}
	mt, _, err := mime.ParseMediaType(strings.TrimSpace(value))
	if err != nil {
		return false
	}
	typ, sub, _ := strings.Cut(mt, "/")
	for _, t := range types {
		tt, ts, _ := strings.Cut(strings.ToLower(t), "/")
		if (tt == "*" || tt == typ) && (ts == "*" || ts == sub) {
			return true
		}
	}
	return false
}
