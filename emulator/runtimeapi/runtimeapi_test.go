package runtimeapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devserver/devserver/emulator/runtimeapi"
	"github.com/devserver/devserver/gobuild"
)

// buildContract compiles testdata/contract, a real aws-lambda-go function.
func buildContract(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if err := gobuild.Build(t.Context(), gobuild.Options{Dir: ".", Package: "./testdata/contract", Output: bin}); err != nil {
		t.Fatal(err)
	}
	return bin
}

// startRuntime runs the function against a fresh Runtime API and waits for its first /next.
func startRuntime(t *testing.T, bin string) (*runtimeapi.Server, *exec.Cmd) {
	t.Helper()
	s, err := runtimeapi.Listen(runtimeapi.Config{Function: "Contract"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + s.Addr(), "PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		s.Close()
	})
	select {
	case <-s.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("function never asked for an event")
	}
	return s, cmd
}

func invoke(t *testing.T, s *runtimeapi.Server, inv *runtimeapi.Invocation) runtimeapi.Result {
	t.Helper()
	ch := make(chan runtimeapi.Result, 1)
	if err := s.Start(inv, func(r runtimeapi.Result) { ch <- r }); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no result from the function")
		return runtimeapi.Result{}
	}
}

func TestContract(t *testing.T) {
	bin := buildContract(t)
	s, cmd := startRuntime(t, bin)
	deadline := time.Now().Add(3 * time.Second).Truncate(time.Millisecond)
	inv := &runtimeapi.Invocation{
		RequestID:       "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
		Deadline:        deadline,
		FunctionARN:     "arn:aws:lambda:us-east-1:123456789012:function:Contract",
		TraceID:         "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
		ClientContext:   `{"client":{"app_title":"shop"}}`,
		CognitoIdentity: `{"cognitoIdentityId":"us-east-1:1234"}`,
		Payload:         []byte(`{"do":"answer"}`),
	}
	r := invoke(t, s, inv)
	if r.ErrorType != "" {
		t.Fatalf("function failed: %s", r.Payload)
	}
	var got map[string]any
	if err := json.Unmarshal(r.Payload, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"requestId":   inv.RequestID,
		"functionArn": inv.FunctionARN,
		"deadlineMs":  float64(deadline.UnixMilli()),
		"traceId":     inv.TraceID,
		"clientApp":   "shop",
		"identity":    "us-east-1:1234",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}

	t.Run("returned error", func(t *testing.T) {
		r := invoke(t, s, &runtimeapi.Invocation{RequestID: "id-fail", Deadline: deadline, Payload: []byte(`{"do":"fail"}`)})
		var doc struct{ ErrorMessage, ErrorType string }
		json.Unmarshal(r.Payload, &doc)
		if r.ErrorType != "errorString" || doc.ErrorMessage != "asked to fail" {
			t.Errorf("error = %s %s", r.ErrorType, r.Payload)
		}
	})
	t.Run("unknown request id", func(t *testing.T) {
		resp, err := http.Post("http://"+s.Addr()+"/2018-06-01/runtime/invocation/nope/response", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("status = %d, want 400", resp.StatusCode)
		}
	})
	t.Run("panic reported, then process exits", func(t *testing.T) {
		r := invoke(t, s, &runtimeapi.Invocation{RequestID: "id-panic", Deadline: deadline, Payload: []byte(`{"do":"panic"}`)})
		var doc struct {
			ErrorMessage string
			StackTrace   []any
		}
		json.Unmarshal(r.Payload, &doc)
		if doc.ErrorMessage != "asked to panic" || len(doc.StackTrace) == 0 {
			t.Errorf("panic error = %s %s", r.ErrorType, r.Payload)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("process still running after a panic")
		}
	})
}

// trailerReader is a body of unknown length (so sent chunked) that, as aws-lambda-go's does, sets
// its request's error trailers when it ends, if it was told to fail.
type trailerReader struct {
	r       *bytes.Reader
	trailer http.Header
	errType string
}

func (b *trailerReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.errType != "" {
		b.trailer.Set(runtimeapi.HeaderFunctionErrorType, b.errType)
		doc := `{"errorMessage":"stream broke","errorType":"` + b.errType + `"}`
		b.trailer.Set(runtimeapi.HeaderFunctionErrorBody, base64.StdEncoding.EncodeToString([]byte(doc)))
	}
	return n, err
}

// TestChunkedWithTrailers posts responses the way aws-lambda-go streams them: chunked, with the
// error trailers declared, and filled in when the stream failed midway.
func TestChunkedWithTrailers(t *testing.T) {
	for _, tt := range []struct {
		name, errType, wantPayload, wantType string
	}{
		{"clean", "", `{"ok":true}`, ""},
		{"failed midway", "errorString", `{"errorMessage":"stream broke","errorType":"errorString"}`, "errorString"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := runtimeapi.Listen(runtimeapi.Config{Function: "Raw"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ch := make(chan runtimeapi.Result, 1)
			s.Start(&runtimeapi.Invocation{RequestID: "abc", Deadline: time.Now().Add(time.Second), Payload: []byte(`{}`)}, func(r runtimeapi.Result) { ch <- r })
			resp, err := http.Get("http://" + s.Addr() + "/2018-06-01/runtime/invocation/next")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if id := resp.Header.Get(runtimeapi.HeaderRequestID); id != "abc" {
				t.Fatalf("request id header = %q", id)
			}
			if ms := resp.Header.Get(runtimeapi.HeaderDeadlineMS); len(ms) != 13 {
				t.Errorf("deadline header %q is not epoch milliseconds", ms)
			}
			trailer := http.Header{runtimeapi.HeaderFunctionErrorType: nil, runtimeapi.HeaderFunctionErrorBody: nil}
			body := &trailerReader{r: bytes.NewReader([]byte(`{"ok":true}`)), trailer: trailer, errType: tt.errType}
			req, _ := http.NewRequest("POST", "http://"+s.Addr()+"/2018-06-01/runtime/invocation/abc/response", body)
			req.Trailer = trailer
			post, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			post.Body.Close()
			if post.StatusCode != 202 {
				t.Errorf("status = %d, want 202", post.StatusCode)
			}
			if r := <-ch; string(r.Payload) != tt.wantPayload || r.ErrorType != tt.wantType {
				t.Errorf("result = %s %q, want %s %q", r.Payload, r.ErrorType, tt.wantPayload, tt.wantType)
			}
		})
	}
}
