package invokeapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/emulator/invokeapi"
	"github.com/devserver/devserver/project"
)

const arn = "arn:aws:lambda:us-east-1:123456789012:function:"

// model is the route model the tests serve: functions sorted by name, as project.Load gives them.
func model() *project.Project {
	return &project.Project{AppName: "app", Dir: "/src", Functions: []*project.Function{
		{Name: "Busy", Source: "./busy", Dir: "/src/busy", MemoryMB: 256, TimeoutSec: 60, Architecture: project.ArchARM, ReservedConcurrency: 1},
		{Name: "Echo", Source: "./echo", Dir: "/src/echo", MemoryMB: 128, TimeoutSec: 3, Environment: map[string]string{"GREETING": "hi"}},
		{Name: "Zipped", Prebuilt: "/src/.aws-sam/Zipped/bootstrap", PrebuiltFrom: "/src/zipped.zip", MemoryMB: 128, TimeoutSec: 3, Architecture: project.ArchX86},
	}}
}

// longLog is a log longer than the 4 KB X-Amz-Log-Result carries.
var longLog = "START RequestId: x Version: $LATEST\n" + strings.Repeat("0123456789", 500) + "\nEND RequestId: x\nREPORT RequestId: x\n"

// recorder is an Invoker whose answer the payload chooses; it remembers the last request.
type recorder struct {
	mu   sync.Mutex
	last *invocation.Request
	n    int
}

func (f *recorder) Invoke(_ context.Context, function string, req invocation.Request) (*invocation.Response, error) {
	f.mu.Lock()
	f.last, f.n = &req, f.n+1
	f.mu.Unlock()
	ok := &invocation.Response{RequestID: req.RequestID, Payload: req.Payload, Log: longLog}
	switch string(req.Payload) {
	case `"fail"`:
		return &invocation.Response{RequestID: req.RequestID, Payload: invocation.ErrorDoc("errorString", "boom"), FunctionError: "errorString", Log: longLog}, nil
	case `"throttled"`:
		return nil, invocation.ErrThrottled
	case `"too large"`:
		return nil, invocation.ErrRequestTooLarge
	case `"gone"`:
		return nil, fmt.Errorf("invoke %s: %w", function, invocation.ErrUnknownFunction)
	case `"broken"`:
		return nil, &invocation.BuildError{Function: function, Output: "main.go:3:15: undefined: nope"}
	case `"crash"`:
		return nil, errors.New("invoke Echo: instances keep exiting before taking the event")
	case `"context"`:
		return &invocation.Response{RequestID: req.RequestID, Payload: []byte(req.ClientContext)}, nil
	}
	return ok, nil
}

func (f *recorder) lastRequest() (invocation.Request, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		return invocation.Request{}, f.n
	}
	return *f.last, f.n
}

func newAPI(inv invocation.Invoker) *invokeapi.API {
	return invokeapi.New(invokeapi.Config{
		Invoker:   inv,
		Model:     model,
		Region:    "us-east-1",
		AccountID: "123456789012",
		Now:       func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) },
	})
}

// raw reads a header as the front spelled it: the Invoke API writes x-amzn-RequestId and
// x-amzn-ErrorType in AWS's spelling, not Go's canonical one, and a recorder keeps the spelling.
func raw(w *httptest.ResponseRecorder, k string) string {
	if v := w.Header()[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

type call struct {
	method, path string
	headers      map[string]string
	body         string
}

func (c call) do(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	for k, v := range c.headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// invoke is an Invoke call; name may end in ?Qualifier=...
func invoke(name, payload string, headers map[string]string) call {
	name, query, _ := strings.Cut(name, "?")
	path := "/2015-03-31/functions/" + name + "/invocations"
	if query != "" {
		path += "?" + query
	}
	return call{"POST", path, headers, payload}
}

// TestInvoke checks each answer of Invoke: status, the headers the SDKs read, and the body
// (the function's result, or the error document of the exception the SDKs type).
func TestInvoke(t *testing.T) {
	tests := []struct {
		name      string
		call      call
		status    int
		errorType string // x-amzn-ErrorType
		body      string
		headers   map[string]string
		invoked   string // the payload the function got; "" = not invoked
	}{
		{"result", invoke("Echo", `{"a":1}`, nil), 200, "", `{"a":1}`,
			map[string]string{"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json", "X-Amz-Function-Error": "", "X-Amz-Log-Result": ""}, `{"a":1}`},
		{"RequestResponse named", invoke("Echo", `{}`, map[string]string{"X-Amz-Invocation-Type": "RequestResponse"}), 200, "", `{}`, nil, `{}`},
		{"no payload is an empty object", invoke("Echo", ``, nil), 200, "", `{}`, nil, `{}`},
		{"function error", invoke("Echo", `"fail"`, nil), 200, "", `{"errorMessage":"boom","errorType":"errorString"}`,
			map[string]string{"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"}, `"fail"`},
		{"log tail", invoke("Echo", `{}`, map[string]string{"X-Amz-Log-Type": "Tail"}), 200, "", `{}`,
			map[string]string{"X-Amz-Log-Result": base64.StdEncoding.EncodeToString([]byte(longLog[len(longLog)-4096:]))}, `{}`},
		{"log none", invoke("Echo", `{}`, map[string]string{"X-Amz-Log-Type": "None"}), 200, "", `{}`, map[string]string{"X-Amz-Log-Result": ""}, `{}`},
		{"client context", invoke("Echo", `"context"`, map[string]string{"X-Amz-Client-Context": base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))}),
			200, "", `{"custom":{"k":"v"}}`, nil, `"context"`},
		{"partial ARN", invoke("123456789012:function:Echo", `1`, nil), 200, "", `1`, nil, `1`},
		{"full ARN", invoke(arn+"Echo", `2`, nil), 200, "", `2`, nil, `2`},
		{"full ARN $LATEST", invoke(arn+"Echo:$LATEST", `3`, nil), 200, "", `3`, nil, `3`},
		{"Qualifier $LATEST", invoke("Echo?Qualifier=$LATEST", `4`, nil), 200, "", `4`, nil, `4`},

		{"unknown function", invoke("Nope", `{}`, nil), 404, "ResourceNotFoundException",
			`{"Type":"User","Message":"Function not found: ` + arn + `Nope"}`, nil, ""},
		{"gone from the registry", invoke("Echo", `"gone"`, nil), 404, "ResourceNotFoundException",
			`{"Type":"User","Message":"Function not found: ` + arn + `Echo"}`, nil, `"gone"`},
		{"other qualifier", invoke("Echo?Qualifier=prod", `{}`, nil), 404, "ResourceNotFoundException",
			`{"Type":"User","Message":"Function not found: ` + arn + `Echo:prod"}`, nil, ""},
		{"version in the name", invoke("Echo:1", `{}`, nil), 404, "ResourceNotFoundException",
			`{"Type":"User","Message":"Function not found: ` + arn + `Echo:1"}`, nil, ""},
		{"other account", invoke("210987654321:function:Echo", `{}`, nil), 404, "ResourceNotFoundException",
			`{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:210987654321:function:Echo"}`, nil, ""},
		{"other region", invoke("arn:aws:lambda:eu-west-1:123456789012:function:Echo", `{}`, nil), 404, "ResourceNotFoundException",
			`{"Type":"User","Message":"Function not found: arn:aws:lambda:eu-west-1:123456789012:function:Echo"}`, nil, ""},
		{"qualifiers disagree", invoke("Echo:$LATEST?Qualifier=prod", `{}`, nil), 400, "InvalidParameterValueException",
			`{"Type":"User","message":"The derived qualifier from the function name does not match the specified qualifier."}`, nil, ""},
		{"bad name", invoke("a:b:c:d:e", `{}`, nil), 400, "ValidationException", "", nil, ""},
		{"bad invocation type", invoke("Echo", `{}`, map[string]string{"X-Amz-Invocation-Type": "Later"}), 400, "ValidationException",
			`{"message":"1 validation error detected: Value 'Later' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"}`, nil, ""},
		{"bad log type", invoke("Echo", `{}`, map[string]string{"X-Amz-Log-Type": "All"}), 400, "ValidationException", "", nil, ""},
		{"payload not JSON", invoke("Echo", `{"a":`, nil), 400, "InvalidRequestContentException",
			`{"Type":"User","message":"Could not parse request body into json: Could not parse payload into json: unexpected end of JSON input"}`, nil, ""},
		{"two JSON values", invoke("Echo", `{} {}`, nil), 400, "InvalidRequestContentException", "", nil, ""},
		{"client context not base64", invoke("Echo", `{}`, map[string]string{"X-Amz-Client-Context": "{}"}), 400, "InvalidParameterValueException",
			`{"Type":"User","message":"Client context must be a valid Base64-encoded JSON object."}`, nil, ""},
		{"payload over 6 MB", invoke("Echo", `"`+strings.Repeat("x", invocation.MaxPayload)+`"`, nil), 413, "RequestTooLargeException",
			`{"Type":"User","message":"Request must be smaller than 6291556 bytes for the InvokeFunction operation"}`, nil, ""},
		{"event payload over 1 MB", invoke("Echo", `"`+strings.Repeat("x", invokeapi.MaxEventPayload)+`"`, map[string]string{"X-Amz-Invocation-Type": "Event"}),
			413, "RequestTooLargeException", `{"Type":"User","message":"Request must be smaller than 1048576 bytes for the InvokeAsync operation"}`, nil, ""},
		{"too large for the invoker", invoke("Echo", `"too large"`, nil), 413, "RequestTooLargeException", "", nil, `"too large"`},
		{"throttled", invoke("Busy", `"throttled"`, nil), 429, "TooManyRequestsException",
			`{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`, nil, `"throttled"`},
		{"no good build", invoke("Echo", `"broken"`, nil), 502, "ServiceException",
			`{"Type":"Service","Message":"build Echo: main.go:3:15: undefined: nope"}`, nil, `"broken"`},
		{"invoke failed", invoke("Echo", `"crash"`, nil), 500, "ServiceException",
			`{"Type":"Service","Message":"invoke Echo: instances keep exiting before taking the event"}`, nil, `"crash"`},
		{"dry run", invoke("Echo", `{}`, map[string]string{"X-Amz-Invocation-Type": "DryRun"}), 204, "", "", map[string]string{"X-Amz-Executed-Version": ""}, ""},
		{"dry run of an unknown function", invoke("Nope", `{}`, map[string]string{"X-Amz-Invocation-Type": "DryRun"}), 404, "ResourceNotFoundException", "", nil, ""},
		{"dry run of a bad payload", invoke("Echo", `{`, map[string]string{"X-Amz-Invocation-Type": "DryRun"}), 400, "InvalidRequestContentException", "", nil, ""},
		{"GET invocations", call{"GET", "/2015-03-31/functions/Echo/invocations", nil, ""}, 404, "UnknownOperationException", "", nil, ""},
		{"other operation", call{"DELETE", "/2015-03-31/functions/Echo", nil, ""}, 404, "UnknownOperationException", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &recorder{}
			w := tt.call.do(t, newAPI(inv))
			id := raw(w, "x-amzn-RequestId")
			if w.Code != tt.status || raw(w, "x-amzn-ErrorType") != tt.errorType {
				t.Errorf("got %d %q, want %d %q\n%s", w.Code, raw(w, "x-amzn-ErrorType"), tt.status, tt.errorType, w.Body)
			}
			body := strings.TrimSuffix(w.Body.String(), "\n")
			if tt.body != "" && body != tt.body {
				t.Errorf("body = %s\nwant   %s", body, tt.body)
			}
			if tt.errorType != "" {
				var doc map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || w.Header().Get("Content-Type") != "application/json" {
					t.Errorf("error body is not a JSON document (%v, Content-Type %q): %s", err, w.Header().Get("Content-Type"), w.Body)
				}
			}
			for k, v := range tt.headers {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if len(id) != 36 {
				t.Errorf("x-amzn-RequestId = %q, want a request id", id)
			}
			req, n := inv.lastRequest()
			switch {
			case tt.invoked == "" && n > 0:
				t.Errorf("the function was invoked (%s); want no invoke", req.Payload)
			case tt.invoked != "" && string(req.Payload) != tt.invoked:
				t.Errorf("the function got %q, want %q", req.Payload, tt.invoked)
			case tt.invoked != "" && req.RequestID != id:
				t.Errorf("the invocation ran as %q, the answer says x-amzn-RequestId %q", req.RequestID, id)
			}
		})
	}
}

// blocking is an Invoker whose invocations run until released, or until their context ends.
type blocking struct {
	started chan invocation.Request
	release chan struct{}
	ended   chan error
}

func (b *blocking) Invoke(ctx context.Context, _ string, req invocation.Request) (*invocation.Response, error) {
	b.started <- req
	select {
	case <-b.release:
		b.ended <- nil
		return &invocation.Response{RequestID: req.RequestID, Payload: []byte(`null`)}, nil
	case <-ctx.Done():
		b.ended <- ctx.Err()
		return nil, ctx.Err()
	}
}

// TestEvent checks that an Event is answered 202 at once under the id it then runs as, runs on
// after its request is over, and that Close stops waiting for it.
func TestEvent(t *testing.T) {
	b := &blocking{started: make(chan invocation.Request, 2), release: make(chan struct{}), ended: make(chan error, 2)}
	api := newAPI(b)
	ev := invoke("Echo", `{"n":1}`, map[string]string{"X-Amz-Invocation-Type": "Event", "X-Amz-Log-Type": "Tail"})

	w := ev.do(t, api) // returns while the invocation is still running
	if w.Code != 202 || w.Body.Len() != 0 || w.Header().Get("X-Amz-Log-Result") != "" {
		t.Fatalf("Event = %d %q (log %q), want 202 and nothing else", w.Code, w.Body, w.Header().Get("X-Amz-Log-Result"))
	}
	req := <-b.started
	if id := raw(w, "x-amzn-RequestId"); req.RequestID != id || string(req.Payload) != `{"n":1}` {
		t.Errorf("the event ran as %s with %s; the 202 said %s", req.RequestID, req.Payload, id)
	}
	b.release <- struct{}{}
	if err := <-b.ended; err != nil {
		t.Errorf("the first event ended with %v, want its own end", err)
	}

	ev.do(t, api)
	<-b.started
	closed := make(chan struct{})
	go func() { api.Close(); close(closed) }()
	if err := <-b.ended; !errors.Is(err, context.Canceled) {
		t.Errorf("event running at Close ended with %v, want its context cancelled", err)
	}
	<-closed
	if w := ev.do(t, api); w.Code != 500 || raw(w, "x-amzn-ErrorType") != "ServiceException" {
		t.Errorf("Event after Close = %d %s, want 500 ServiceException", w.Code, raw(w, "x-amzn-ErrorType"))
	}
}

func TestGetFunction(t *testing.T) {
	api := newAPI(&recorder{})
	const echo = `{"FunctionName":"Echo","FunctionArn":"` + arn + `Echo","Runtime":"provided.al2023",` +
		`"Role":"arn:aws:iam::123456789012:role/app-EchoRole","Handler":"bootstrap","CodeSize":0,"Description":"",` +
		`"Timeout":3,"MemorySize":128,"LastModified":"2025-03-01T12:00:00.000+0000","Version":"$LATEST",` +
		`"Environment":{"Variables":{"GREETING":"hi"}},"TracingConfig":{"Mode":"PassThrough"},"State":"Active",` +
		`"LastUpdateStatus":"Successful","PackageType":"Zip","Architectures":["x86_64"],"EphemeralStorage":{"Size":512},` +
		`"LoggingConfig":{"LogFormat":"Text","LogGroup":"/aws/lambda/Echo"}}`
	tests := []struct {
		name, path string
		status     int
		body       string
	}{
		{"configuration", "/2015-03-31/functions/Echo/configuration", 200, echo},
		{"function", "/2015-03-31/functions/Echo", 200,
			`{"Configuration":` + echo + `,"Code":{"RepositoryType":"S3","Location":"file:///src/echo"}}`},
		{"by ARN", "/2015-03-31/functions/" + arn + "Echo?Qualifier=$LATEST", 200, ""},
		{"reserved concurrency", "/2015-03-31/functions/Busy", 200, ""},
		{"prebuilt", "/2015-03-31/functions/Zipped", 200, `{"Configuration":{"FunctionName":"Zipped","FunctionArn":"` + arn + `Zipped","Runtime":"provided.al2023",` +
			`"Role":"arn:aws:iam::123456789012:role/app-ZippedRole","Handler":"bootstrap","CodeSize":0,"Description":"",` +
			`"Timeout":3,"MemorySize":128,"LastModified":"2025-03-01T12:00:00.000+0000","Version":"$LATEST",` +
			`"TracingConfig":{"Mode":"PassThrough"},"State":"Active",` +
			`"LastUpdateStatus":"Successful","PackageType":"Zip","Architectures":["x86_64"],"EphemeralStorage":{"Size":512},` +
			`"LoggingConfig":{"LogFormat":"Text","LogGroup":"/aws/lambda/Zipped"}},"Code":{"RepositoryType":"S3","Location":"file:///src/zipped.zip"}}`},
		{"unknown", "/2015-03-31/functions/Nope", 404, `{"Type":"User","Message":"Function not found: ` + arn + `Nope"}`},
		{"other qualifier", "/2015-03-31/functions/Echo/configuration?Qualifier=live", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call{"GET", tt.path, nil, ""}.do(t, api)
			if w.Code != tt.status || raw(w, "x-amzn-RequestId") == "" || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("GET %s = %d (x-amzn-RequestId %q, Content-Type %q), want %d", tt.path, w.Code, raw(w, "x-amzn-RequestId"), w.Header().Get("Content-Type"), tt.status)
			}
			if got := strings.TrimSuffix(w.Body.String(), "\n"); tt.body != "" && got != tt.body {
				t.Errorf("body = %s\nwant   %s", got, tt.body)
			}
		})
	}
	w := call{"GET", "/2015-03-31/functions/Busy", nil, ""}.do(t, api)
	var got struct {
		Configuration struct {
			MemorySize    int
			Architectures []string
			Environment   *struct{}
		}
		Concurrency *struct{ ReservedConcurrentExecutions int }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Concurrency == nil || got.Concurrency.ReservedConcurrentExecutions != 1 || got.Configuration.MemorySize != 256 ||
		got.Configuration.Architectures[0] != "arm64" || got.Configuration.Environment != nil {
		t.Errorf("GetFunction Busy = %s, want concurrency 1, 256 MB, arm64, no environment", w.Body)
	}
}

func TestListFunctions(t *testing.T) {
	api := newAPI(&recorder{})
	tests := []struct {
		query      string
		status     int
		names      string
		nextMarker string
	}{
		{"", 200, "Busy,Echo,Zipped", ""},
		{"?MaxItems=1", 200, "Busy", "Busy"},
		{"?MaxItems=1&Marker=Busy", 200, "Echo", "Echo"},
		{"?MaxItems=2&Marker=Busy", 200, "Echo,Zipped", ""},
		{"?MaxItems=3", 200, "Busy,Echo,Zipped", ""},
		{"?Marker=Zipped", 200, "", ""},
		{"?MaxItems=0", 400, "", ""},
	}
	for _, tt := range tests {
		for _, path := range []string{"/2015-03-31/functions/", "/2015-03-31/functions"} { // SDK, CLI
			t.Run(path+tt.query, func(t *testing.T) {
				w := call{"GET", path + tt.query, nil, ""}.do(t, api)
				if w.Code != tt.status || raw(w, "x-amzn-RequestId") == "" {
					t.Fatalf("GET %s = %d %s, want %d", tt.query, w.Code, w.Body, tt.status)
				}
				if tt.status != 200 {
					return
				}
				var got struct {
					Functions  []struct{ FunctionName string }
					NextMarker *string
				}
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Functions == nil {
					t.Fatalf("body %s: %v (Functions must be a list, even empty)", w.Body, err)
				}
				var names []string
				for _, f := range got.Functions {
					names = append(names, f.FunctionName)
				}
				next := ""
				if got.NextMarker != nil {
					next = *got.NextMarker
				}
				if strings.Join(names, ",") != tt.names || next != tt.nextMarker {
					t.Errorf("functions %v next %q, want %s next %q", names, next, tt.names, tt.nextMarker)
				}
			})
		}
	}
}

// TestExchange checks what the front records for the wrappers around it (the access log, the
// dev loop): the front, its request id, and the function.
func TestExchange(t *testing.T) {
	api := newAPI(invocation.Recording(&recorder{}))
	tests := []struct {
		name  string
		call  call
		route string
		fn    string
		ids   int
	}{
		{"invoke", invoke(arn+"Echo", `{}`, nil), "Echo", "Echo", 1},
		{"event", invoke("Echo", `{}`, map[string]string{"X-Amz-Invocation-Type": "Event"}), "Echo", "Echo", 1},
		{"unknown", invoke("Nope", `{}`, nil), "Nope", "", 0},
		{"list", call{"GET", "/2015-03-31/functions/", nil, ""}, "ListFunctions", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, ex := invocation.WithExchange(context.Background())
			r := httptest.NewRequestWithContext(ctx, tt.call.method, tt.call.path, bytes.NewBufferString(tt.call.body))
			for k, v := range tt.call.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			sum := ex.Summary()
			if sum.Front != "lambda" || sum.Route != tt.route || sum.Function != tt.fn || len(sum.LambdaRequestIDs) != tt.ids ||
				sum.RequestID != raw(w, "x-amzn-RequestId") {
				t.Errorf("exchange = %+v, want front lambda, route %s, function %q, %d lambda ids, request id %s", sum, tt.route, tt.fn, tt.ids, raw(w, "x-amzn-RequestId"))
			}
		})
	}
	api.Close()
}

// TestClientGone checks that a synchronous invoke whose client hung up is not answered.
func TestClientGone(t *testing.T) {
	b := &blocking{started: make(chan invocation.Request, 1), release: make(chan struct{}), ended: make(chan error, 1)}
	api := newAPI(b)
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequestWithContext(ctx, "POST", "/2015-03-31/functions/Echo/invocations", strings.NewReader(`{}`))
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { api.ServeHTTP(w, r); close(done) }()
	<-b.started
	cancel()
	<-done
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
		t.Errorf("answered %d %q to a client that went away", w.Code, w.Body)
	}
}
