package apigateway

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/project"
)

type instant struct{}

func (instant) Invoke(context.Context, string, invocation.Request) (*invocation.Response, error) {
	return &invocation.Response{Payload: []byte(`{"statusCode":200,"headers":{"Content-Type":"application/json"},"multiValueHeaders":null,"body":"{\"hello\":\"world\"}"}`)}, nil
}

// BenchmarkGatewayOverhead is the gateway's own work per request: routing, the event, the
// response, with a function that answers at once.
func BenchmarkGatewayOverhead(b *testing.B) {
	p := &project.Project{AppName: "bench", API: project.API{Kind: "rest", Stage: "api", TimeoutMS: 29000},
		Routes: []project.Route{{Method: "GET", Path: "/", Function: "F"}}}
	g := New(Config{Invoker: instant{}}, p)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("User-Agent", "wrk")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
