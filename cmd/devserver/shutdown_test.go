package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devserver/devserver/internal/testkit"
)

// sleeperSource is a function that sleeps for ?ms= milliseconds, then prints "woke" and answers
// text. It proves by its output whether an invocation ran to its end.
func sleeperSource(text string) string {
	return `package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	ms, _ := strconv.Atoi(e.QueryStringParameters["ms"])
	time.Sleep(time.Duration(ms) * time.Millisecond)
	fmt.Println("woke after", ms, "ms")
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: "` + text + `"}, nil
}

func main() {
	lambda.Start(handler)
}
`
}

// TestShutdownAfterReloadWithRequestInFlight: a request runs on a build that a save then
// replaces; Ctrl-C must stop the retired instance too, not wait for its request to end. Before
// the fix the old pool drained under a context shutdown did not cancel, so devserver waited for
// the function to wake (22 s measured). The test checks what happened first, not how long it took:
// devserver has exited, the in-flight invocation never woke, and no process of its is left.
func TestShutdownAfterReloadWithRequestInFlight(t *testing.T) {
	dir := copySample(t)
	src := filepath.Join(dir, "sample", "main.go")
	writeFile(t, src, sleeperSource("one"))
	cfg := filepath.Join(dir, "config.yaml")
	orig, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, strings.Replace(string(orig), "timeout: 3", "timeout: 60", 1))
	r := startRun(t, dir, "--verbose")

	inFlight := make(chan error, 1)
	go func() {
		resp, err := http.Get(r.url + "/?ms=25000")
		if err == nil {
			resp.Body.Close()
		}
		inFlight <- err
	}()
	r.waitOutput(t, "START RequestId:")
	kids := testkit.Children(r.cmd.Process.Pid)

	writeFile(t, src, sleeperSource("two"))
	r.saved(t, 1)
	if status, body, _ := getWithHeader(t, r.url+"/?ms=0"); status != 200 || body != "two" {
		t.Fatalf("after the save GET / = %d %q, want the new build", status, body)
	}

	r.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("devserver still running 60 s after Ctrl-C:\n%s", r.output.String())
	}
	if out := r.output.String(); strings.Contains(out, "woke after 25000 ms") {
		t.Errorf("devserver waited for the retired build's request to end before exiting:\n%s", out)
	}
	for _, k := range kids {
		if testkit.Alive(k) {
			t.Errorf("function instance %d outlived devserver", k)
		}
	}
	<-inFlight
}
