package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// sleepers sends n requests at once to a function that sleeps 500 ms and returns their statuses
// and bodies, sorted.
func sleepers(t *testing.T, url string, n int) []string {
	t.Helper()
	var wg sync.WaitGroup
	out := make([]string, n)
	for i := range n {
		wg.Go(func() {
			status, _, body := get(t, url+"/sleep?ms=500")
			out[i] = fmt.Sprintf("%d %s", status, body)
		})
	}
	wg.Wait()
	slices.Sort(out)
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestConcurrency(t *testing.T) {
	const limited = `
functions:
  Fault: {source: ./testdata/fault, timeout: 5, concurrency: 2}
routes:
  - {method: GET, path: "/{action}", function: Fault}
`
	tests := []struct {
		name         string
		config       string
		maxInstances int
		want         []string
		instances    int
	}{
		{"on demand", fmt.Sprintf(faultConfig, 29000), 0, repeat("200 slept", 8), 8},
		{"local cap queues", fmt.Sprintf(faultConfig, 29000), 2, repeat("200 slept", 8), 2},
		{"reserved concurrency throttles", limited, 0,
			append(repeat("200 slept", 2), repeat(`500 {"message":"Internal server error"}`, 6)...), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.config, tt.maxInstances)
			got := sleepers(t, s.URL, 8)
			if !slices.Equal(got, tt.want) {
				t.Errorf("statuses = %q, want %q", got, tt.want)
			}
			if st := s.Stats("Fault"); st.Started != tt.instances || st.Instances != tt.instances {
				t.Errorf("pool started %d and holds %d instances, want %d", st.Started, st.Instances, tt.instances)
			}
		})
	}
}

func TestIntegrationTimeout(t *testing.T) {
	s := start(t, fmt.Sprintf(faultConfig, 300), 0)
	status, h, body := get(t, s.URL+"/sleep?ms=900")
	busy := s.Stats("Fault").Busy
	if status != 504 || body != `{"message":"Endpoint request timed out"}` {
		t.Errorf("slow function = %d %s, want 504 Endpoint request timed out", status, body)
	}
	if h.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type = %q", h.Get("Content-Type"))
	}
	// The gateway gave up while the function still ran: the answer came before the function's.
	if busy != 1 {
		t.Errorf("%d busy instances when the 504 came, want 1 (the function still sleeping)", busy)
	}
	// The function runs on to its end, as on Lambda; the instance then serves again.
	if status, _, body := get(t, s.URL+"/ok"); status != 200 || body != "ok" {
		t.Errorf("next request = %d %s", status, body)
	}
}

func TestRequestTooLarge(t *testing.T) {
	s := start(t, fmt.Sprintf(faultConfig, 29000), 0)
	tests := []struct {
		size   int
		status int
		body   string
	}{
		{10<<20 + 1, 413, `{"message":"Request Entity Too Large"}`},
		// Over Lambda's 6 MB but under API Gateway's 10 MB: the invoke is rejected.
		{7 << 20, 500, `{"message":"Internal server error"}`},
		{1 << 20, 200, "ok"},
	}
	for _, tt := range tests {
		resp, err := http.Post(s.URL+"/ok", "text/plain", bytes.NewReader(bytes.Repeat([]byte("a"), tt.size)))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || b.String() != tt.body {
			t.Errorf("POST %d bytes = %d %s, want %d %s", tt.size, resp.StatusCode, b.String(), tt.status, tt.body)
		}
	}
}

func TestFunctionEnvironment(t *testing.T) {
	s := start(t, fmt.Sprintf(faultConfig, 29000), 0)
	status, _, body := get(t, s.URL+"/env")
	if status != 200 {
		t.Fatalf("GET /env = %d %s", status, body)
	}
	var got struct {
		Env         []string
		Vars        map[string]string
		RequestID   string
		FunctionArn string
		DeadlineIn  int64
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_NAME",
		"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
		"AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "AWS_REGION", "GREETING", "LAMBDA_RUNTIME_DIR",
		"LAMBDA_TASK_ROOT", "LANG", "PATH", "TZ", "_HANDLER", "_X_AMZN_TRACE_ID",
	}
	if !slices.Equal(got.Env, want) {
		t.Errorf("environment names = %q\nwant %q", got.Env, want)
	}
	wantVars := map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "Fault", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_REGION": "us-east-1", "TZ": ":UTC", "GREETING": "hello"}
	for k, v := range wantVars {
		if got.Vars[k] != v {
			t.Errorf("%s = %q, want %q", k, got.Vars[k], v)
		}
	}
	if !strings.HasPrefix(got.Vars["_X_AMZN_TRACE_ID"], "Root=1-") {
		t.Errorf("_X_AMZN_TRACE_ID = %q", got.Vars["_X_AMZN_TRACE_ID"])
	}
	if got.FunctionArn != "arn:aws:lambda:us-east-1:123456789012:function:Fault" {
		t.Errorf("function ARN = %q", got.FunctionArn)
	}
	if len(got.RequestID) != 36 {
		t.Errorf("request id = %q", got.RequestID)
	}
	// Deadline-Ms is an epoch time: the function's context deadline is its timeout away.
	if got.DeadlineIn <= 0 || got.DeadlineIn > 1000 {
		t.Errorf("deadline in %d ms, want within the 1000 ms timeout", got.DeadlineIn)
	}
}
