package emulator_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/internal/testkit"
	"github.com/devserver/devserver/project"
)

const lambdaConfig = `
app_name: lambdas
functions:
  Fault:
    source: ./testdata/fault
    timeout: 1
  Busy:
    source: ./testdata/fault
    timeout: 60
    concurrency: 1
routes:
  - {method: GET, path: "/{action}", function: Fault}
`

// sdkClient is the AWS SDK's Lambda client pointed at the Invoke API, with dummy credentials
// and no retries (a throttled call must come back as it is).
func sdkClient(url string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

// event is an API Gateway event for the fault function: path picks what it does.
func event(path string) []byte {
	return []byte(`{"path":"` + path + `","queryStringParameters":{"ms":"1500"}}`)
}

// waitTerm waits until the terminal shows want.
func waitTerm(t *testing.T, s *testServer, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s.Term.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("terminal never showed %q:\n%s", want, s.Term.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestInvokeAPIWithTheSDK drives the Invoke API with the AWS SDK for Go v2 against real
// functions: results, function errors, the log tail, Event and DryRun, and the typed errors the
// SDK builds from Lambda's error documents.
func TestInvokeAPIWithTheSDK(t *testing.T) {
	s := start(t, lambdaConfig, 0)
	client := sdkClient(s.LambdaURL)
	tests := []struct {
		name   string
		in     lambda.InvokeInput
		status int32
		// check looks at a successful call's output.
		check func(t *testing.T, out *lambda.InvokeOutput, requestID string)
		// err is the typed error the call must end in.
		err any
	}{
		{"result", lambda.InvokeInput{Payload: event("/ok")}, 200, func(t *testing.T, out *lambda.InvokeOutput, id string) {
			var r struct{ Body string }
			if err := json.Unmarshal(out.Payload, &r); err != nil || r.Body != "ok" || out.FunctionError != nil || aws.ToString(out.ExecutedVersion) != "$LATEST" {
				t.Errorf("got %s (function error %v, version %v), want the function's answer", out.Payload, aws.ToString(out.FunctionError), aws.ToString(out.ExecutedVersion))
			}
			waitTerm(t, s, "path=/2015-03-31/functions/Fault/invocations status=200")
			if !strings.Contains(s.Term.String(), "function=Fault requestId="+id+" lambdaRequestId="+id) {
				t.Errorf("no access line naming the function and the invocation %s:\n%s", id, s.Term.String())
			}
		}, nil},
		{"function error", lambda.InvokeInput{Payload: event("/error")}, 200, func(t *testing.T, out *lambda.InvokeOutput, _ string) {
			if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorType":"errorString"`) {
				t.Errorf("got %s, function error %q; want Unhandled and the error document", out.Payload, aws.ToString(out.FunctionError))
			}
		}, nil},
		{"timeout", lambda.InvokeInput{Payload: event("/sleep")}, 200, func(t *testing.T, out *lambda.InvokeOutput, _ string) {
			if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorType":"Sandbox.Timedout"`) {
				t.Errorf("got %s, function error %q; want Unhandled and Sandbox.Timedout", out.Payload, aws.ToString(out.FunctionError))
			}
		}, nil},
		{"log tail", lambda.InvokeInput{Payload: event("/ok"), LogType: types.LogTypeTail}, 200, func(t *testing.T, out *lambda.InvokeOutput, id string) {
			log, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
			if err != nil || !strings.HasPrefix(string(log), "START RequestId: "+id) || !strings.Contains(string(log), "REPORT RequestId: "+id) {
				t.Errorf("LogResult = %q (%v), want the log of invocation %s", log, err, id)
			}
		}, nil},
		{"event", lambda.InvokeInput{Payload: event("/ok"), InvocationType: types.InvocationTypeEvent}, 202, func(t *testing.T, out *lambda.InvokeOutput, id string) {
			if len(out.Payload) != 0 {
				t.Errorf("an Event answered %s, want nothing", out.Payload)
			}
			waitTerm(t, s, "REPORT RequestId: "+id)
		}, nil},
		{"dry run", lambda.InvokeInput{Payload: event("/ok"), InvocationType: types.InvocationTypeDryRun}, 204, nil, nil},
		{"unknown function", lambda.InvokeInput{FunctionName: aws.String("Nope")}, 0, nil, new(*types.ResourceNotFoundException)},
		{"other qualifier", lambda.InvokeInput{Qualifier: aws.String("prod")}, 0, nil, new(*types.ResourceNotFoundException)},
		{"payload not JSON", lambda.InvokeInput{Payload: []byte("nope")}, 0, nil, new(*types.InvalidRequestContentException)},
		{"payload over 6 MB", lambda.InvokeInput{Payload: []byte(`"` + strings.Repeat("x", 7<<20) + `"`)}, 0, nil, new(*types.RequestTooLargeException)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.FunctionName == nil {
				in.FunctionName = aws.String("Fault")
			}
			out, err := client.Invoke(t.Context(), &in)
			if tt.err != nil {
				if !errors.As(err, tt.err) {
					t.Fatalf("err = %v (%T), want %T", err, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
			if out.StatusCode != tt.status || id == "" {
				t.Fatalf("StatusCode = %d (request id %q), want %d", out.StatusCode, id, tt.status)
			}
			if tt.check != nil {
				tt.check(t, out, id)
			}
		})
	}
	var nf *types.ResourceNotFoundException
	if _, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("Nope")}); !errors.As(err, &nf) ||
		aws.ToString(nf.Message) != "Function not found: arn:aws:lambda:us-east-1:123456789012:function:Nope" || aws.ToString(nf.Type) != "User" {
		t.Errorf("unknown function: %v, want Lambda's message and type", err)
	}
}

// TestThrottledWithTheSDK checks that a function at its reserved concurrency is refused with
// TooManyRequestsException, as the SDK types it.
func TestThrottledWithTheSDK(t *testing.T) {
	s := start(t, lambdaConfig, 0)
	client := sdkClient(s.LambdaURL)
	ctx, cancel := context.WithCancel(t.Context())
	busy := make(chan error, 1)
	go func() {
		// Sleeps until the function's timeout, far past this test; cancelled below.
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("Busy"), Payload: []byte(`{"path":"/sleep","queryStringParameters":{"ms":"59000"}}`)})
		busy <- err
	}()
	waitTerm(t, s, "[Busy] START RequestId:")
	_, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("Busy"), Payload: event("/ok")})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded || aws.ToString(tm.Message) != "Rate Exceeded." {
		t.Errorf("second invoke of a function with concurrency 1: %v, want TooManyRequestsException (ReservedFunctionConcurrentInvocationLimitExceeded)", err)
	}
	cancel()
	if err := <-busy; !errors.Is(err, context.Canceled) {
		t.Errorf("first invoke = %v, want it cancelled", err)
	}
}

// TestFunctionsWithTheSDK checks that ListFunctions and GetFunction describe the model in the
// shapes the SDK decodes.
func TestFunctionsWithTheSDK(t *testing.T) {
	s := start(t, lambdaConfig, 0)
	client := sdkClient(s.LambdaURL)
	list, err := client.ListFunctions(t.Context(), &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range list.Functions {
		names = append(names, aws.ToString(f.FunctionName))
		if f.Runtime != types.RuntimeProvidedal2023 || aws.ToString(f.Handler) != "bootstrap" || f.PackageType != types.PackageTypeZip ||
			aws.ToString(f.Version) != "$LATEST" || f.State != types.StateActive || len(f.Architectures) != 1 || f.Architectures[0] != types.ArchitectureX8664 {
			t.Errorf("function %s: runtime %s, handler %s, package %s, version %s, state %s, architectures %v", aws.ToString(f.FunctionName),
				f.Runtime, aws.ToString(f.Handler), f.PackageType, aws.ToString(f.Version), f.State, f.Architectures)
		}
	}
	if strings.Join(names, ",") != "Busy,Fault" {
		t.Errorf("ListFunctions = %v, want Busy, Fault", names)
	}
	got, err := client.GetFunction(t.Context(), &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:Busy")})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Configuration
	if aws.ToString(c.FunctionArn) != "arn:aws:lambda:us-east-1:123456789012:function:Busy" || aws.ToInt32(c.Timeout) != 60 || aws.ToInt32(c.MemorySize) != 128 ||
		got.Concurrency == nil || aws.ToInt32(got.Concurrency.ReservedConcurrentExecutions) != 1 || aws.ToString(got.Code.RepositoryType) != "S3" {
		t.Errorf("GetFunction Busy = %+v %+v %+v", c, got.Concurrency, got.Code)
	}
	var nf *types.ResourceNotFoundException
	if _, err := client.GetFunction(t.Context(), &lambda.GetFunctionInput{FunctionName: aws.String("Nope")}); !errors.As(err, &nf) {
		t.Errorf("GetFunction Nope = %v, want ResourceNotFoundException", err)
	}
}

// TestInvokeOnce checks `devserver invoke`'s engine: only the function asked for is built, it
// runs once on a fresh instance, and its build is gone afterwards; an unknown function and a
// compile error are told apart.
func TestInvokeOnce(t *testing.T) {
	dir := newProject(t, map[string]string{
		"config.yaml":    "functions:\n  Good: {source: ./good}\n  Broken: {source: ./broken}\nroutes:\n  - {method: GET, path: /, function: Good}\n",
		"good/main.go":   handlerSource("good", false),
		"broken/main.go": "package main\n\nfunc main() { nope() }\n",
	})
	p, err := project.Load(project.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		function string
		body     string
		err      func(error) bool
	}{
		{"Good", "good", nil},
		{"Nope", "", func(err error) bool { return errors.Is(err, invocation.ErrUnknownFunction) }},
		{"Broken", "", func(err error) bool {
			var be *gobuild.Error
			return errors.As(err, &be) && strings.Contains(be.Output, "main.go:3:15: undefined: nope")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			term := newSyncBuffer()
			resp, err := emulator.InvokeOnce(t.Context(), emulator.Config{Project: p, Terminal: term.term}, tt.function, invocation.Request{Payload: []byte(`{}`)})
			if tt.err != nil {
				if !tt.err(err) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var r struct{ Body string }
			if json.Unmarshal(resp.Payload, &r); r.Body != tt.body || resp.FunctionError != "" || resp.Report.InitDuration == 0 {
				t.Errorf("got %s (function error %q, init %s), want %q from a cold start", resp.Payload, resp.FunctionError, resp.Report.InitDuration, tt.body)
			}
			out := term.String()
			if strings.Count(out, "building ") != 1 || !strings.Contains(out, "[Good] REPORT RequestId: "+resp.RequestID) {
				t.Errorf("want one build and the invocation's REPORT line:\n%s", out)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, emulator.CacheDir, "*")); len(left) > 0 {
				t.Errorf("builds left behind: %v", left)
			}
		})
	}
}

// TestShutdownWithEventRunning checks that an Event still running does not hold shutdown up:
// Run returns before the function is done, and its instance is stopped with it.
func TestShutdownWithEventRunning(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	p, err := project.Parse([]byte(lambdaConfig), "config.yaml", dir, filepath.Join(dir, "config.yaml"), "")
	if err != nil {
		t.Fatal(err)
	}
	term := newSyncBuffer()
	ready := make(chan emulator.Addrs, 1)
	s := emulator.New(emulator.Config{
		Project: p, CacheDir: t.TempDir(), Addr: "127.0.0.1:0", LambdaAddr: "127.0.0.1:0",
		Terminal: term.term, Ready: func(a emulator.Addrs) { ready <- a },
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var addrs emulator.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("Run ended before serving: %v\n%s", err, term.String())
	}
	if addrs.API == "" || addrs.Lambda == "" || addrs.API == addrs.Lambda {
		t.Fatalf("Ready(%+v), want two addresses", addrs)
	}
	out, err := sdkClient("http://"+addrs.Lambda).Invoke(t.Context(), &lambda.InvokeInput{
		FunctionName: aws.String("Busy"), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"path":"/sleep","queryStringParameters":{"ms":"59000"}}`),
	})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("Event = %v, %v", out, err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	ts := &testServer{Term: term}
	waitTerm(t, ts, "[Busy] START RequestId: "+id)
	instances := testkit.Children(os.Getpid())
	if len(instances) == 0 {
		t.Fatal("no instance runs the event")
	}

	cancel()
	if err := <-done; err != nil { // a hang here is the failure this test is for
		t.Errorf("Run: %v", err)
	}
	// The instance is stopped, so the invocation ends as a crash would; had shutdown waited for
	// the function, it would have slept its 59 s.
	m := regexp.MustCompile(`REPORT RequestId: ` + id + `\tDuration: (\d+)\.\d+ ms`).FindStringSubmatch(term.String())
	if m == nil {
		t.Errorf("the event's invocation never ended:\n%s", term.String())
	} else if ms, _ := strconv.Atoi(m[1]); ms >= 59000 {
		t.Errorf("shutdown waited for the event to end:\n%s", term.String())
	}
	for _, pid := range instances {
		if testkit.Alive(pid) {
			t.Errorf("instance %d outlived Run", pid)
		}
	}
}
