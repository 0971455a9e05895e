package apigateway

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestWriteRESTResponse(t *testing.T) {
	tests := []struct {
		name, payload, accept string
		binary                []string
		ok                    bool
		status                int
		body                  string
		header                http.Header
	}{
		{name: "aws-lambda-go defaults", payload: `{"statusCode":200,"headers":null,"multiValueHeaders":null,"body":""}`,
			ok: true, status: 200, body: "", header: http.Header{"Content-Type": {"application/json"}}},
		{name: "missing status is 200", payload: `{"body":"hi"}`, ok: true, status: 200, body: "hi"},
		{name: "empty object", payload: `{}`, ok: true, status: 200, body: ""},
		{name: "one header spelled two ways", payload: `{"headers":{"x-a":"2","X-A":"1"},"multiValueHeaders":{"x-b":["4"],"X-b":["3"]}}`,
			ok: true, status: 200, header: http.Header{"X-A": {"1", "2"}, "X-B": {"3", "4"}}},
		{name: "merge headers", payload: `{"statusCode":201,"headers":{"X-A":"1","X-B":"2"},"multiValueHeaders":{"X-A":["1","3"]},"body":"x"}`,
			ok: true, status: 201, body: "x", header: http.Header{"X-A": {"1", "3"}, "X-B": {"2"}}},
		{name: "content type kept", payload: `{"headers":{"Content-Type":"text/html"},"body":"<p>"}`,
			ok: true, status: 200, body: "<p>", header: http.Header{"Content-Type": {"text/html"}}},
		{name: "base64 not binary type", payload: `{"body":"aGk=","isBase64Encoded":true}`, ok: true, status: 200, body: "aGk="},
		{name: "base64 by accept", payload: `{"body":"aGk=","isBase64Encoded":true}`, accept: "image/png, */*",
			binary: []string{"image/*"}, ok: true, status: 200, body: "hi"},
		{name: "base64 by content type", payload: `{"headers":{"Content-Type":"image/png"},"body":"aGk=","isBase64Encoded":true}`,
			binary: []string{"image/png"}, ok: true, status: 200, body: "hi"},
		{name: "unknown key", payload: `{"statusCode":200,"extra":1}`},
		{name: "non-string body", payload: `{"body":42}`},
		{name: "non-array multi header", payload: `{"multiValueHeaders":{"X":"y"}}`},
		{name: "not JSON", payload: `hello`},
		{name: "JSON string", payload: `"hello"`},
		{name: "trailing data", payload: `{"body":"a"} {}`},
		{name: "stray closing brace", payload: `{}}`},
		{name: "stray closing bracket", payload: `{"body":"a"}]`},
		{name: "bad status", payload: `{"statusCode":1000}`},
		{name: "informational status", payload: `{"statusCode":101}`},
		// Loosely typed answers from JavaScript and Python handlers, decided on the AWS documentation
		// and LocalStack's tests recorded against AWS: a numeric string status and boolean header values
		// are accepted; a number as a header value, a float or word as status, or a number as the body
		// are malformed.
		{name: "numeric string status", payload: `{"statusCode":"201","body":"made"}`, ok: true, status: 201, body: "made"},
		{name: "non-numeric string status", payload: `{"statusCode":"created"}`},
		{name: "fractional status", payload: `{"statusCode":201.5}`},
		{name: "boolean header values", payload: `{"headers":{"X-Cache":true},"multiValueHeaders":{"X-Seen":[false,"x"]}}`,
			ok: true, status: 200, header: http.Header{"X-Cache": {"true"}, "X-Seen": {"false", "x"}}},
		{name: "number header value", payload: `{"headers":{"Access-Control-Max-Age":0}}`},
		{name: "number in multi header", payload: `{"multiValueHeaders":{"X":[1]}}`},
		{name: "object header value", payload: `{"headers":{"X":{"a":1}}}`},
		{name: "null header value", payload: `{"headers":{"X":null},"body":"b"}`},
		{name: "null multi header value", payload: `{"multiValueHeaders":{"X":null}}`},
		{name: "boolean body", payload: `{"body":true}`},
		{name: "bad base64 leaks no header", payload: `{"headers":{"Set-Cookie":"a=1","Content-Type":"image/png"},"body":"%%%","isBase64Encoded":true}`,
			binary: []string{"image/png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/", nil)
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			ok := writeRESTResponse(w, r, []byte(tt.payload), tt.binary, false)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			// Go's map order changes from one range to the next; the response must not.
			for range 20 {
				again := httptest.NewRecorder()
				writeRESTResponse(again, r, []byte(tt.payload), tt.binary, false)
				if !reflect.DeepEqual(again.Header(), w.Header()) {
					t.Fatalf("headers %v, then %v", w.Header(), again.Header())
				}
			}
			if !ok {
				if len(w.Header()) != 0 {
					t.Errorf("a malformed response set headers %v", w.Header())
				}
				return
			}
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body.String(), tt.status, tt.body)
			}
			for k, want := range tt.header {
				if got := w.Header().Values(k); len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}
