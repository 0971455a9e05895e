package testkit

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// AWSCLI runs the AWS CLI in an empty folder, so that relative paths cannot resolve against the
// test's own folder, and returns its combined output.
func AWSCLI(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "aws", args...)
	cmd.Dir = t.TempDir()
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// AWSEnv is the CLI's environment: the caller's minus every AWS_ setting (no real profile or
// credentials can leak in), plus dummy credentials and the local endpoint.
func AWSEnv(endpoint string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ENDPOINT_URL="+endpoint,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// StartMoto starts moto_server on a free local port, waits until it says it is listening, and
// stops it when the test ends. It returns the endpoint URL.
func StartMoto(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)

	cmd := exec.Command("moto_server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// Its own process group, so the cleanup reaches whatever the pyenv shim execs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var output Buffer
	cmd.Stdout = &output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})

	ready := make(chan struct{})
	go func() {
		// Werkzeug announces the socket once bound; then keep draining its request log.
		sc := bufio.NewScanner(stderr)
		announced := false
		for sc.Scan() {
			output.Write(append(sc.Bytes(), '\n'))
			if !announced && strings.Contains(sc.Text(), "Running on "+endpoint) {
				announced = true
				close(ready)
			}
		}
		io.Copy(&output, stderr)
		if !announced {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("moto_server did not start within 60 s:\n%s", output.String())
	}
	if !strings.Contains(output.String(), "Running on "+endpoint) {
		t.Fatalf("moto_server exited before listening:\n%s", output.String())
	}
	return endpoint
}
