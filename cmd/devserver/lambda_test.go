package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// echoSource is a function that prints what it got, then returns it, or fails when asked to.
const echoSource = `package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
	fmt.Println("echo got", string(in))
	var e struct{ Fail bool }
	json.Unmarshal(in, &e)
	if e.Fail {
		return nil, errors.New("asked to fail")
	}
	return in, nil
}

func main() {
	lambda.Start(handler)
}
`

// sampleAnswer is what the sample function returns, as aws-lambda-go writes it.
const sampleAnswer = `{"statusCode":200,"headers":{"Content-Type":"application/json"},"multiValueHeaders":null,"body":"{\"hello\":\"world\"}"}`

// withEcho is a copy of the sample with a second function, Echo, and extra functions' sources.
func withEcho(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := copySample(t)
	files := map[string]string{"echo/main.go": echoSource}
	for k, v := range extra {
		files[k] = v
	}
	var fns strings.Builder
	fns.WriteString("  Echo:\n    source: ./echo\n")
	for f := range extra {
		name := strings.TrimSuffix(f, "/main.go")
		fns.WriteString("  " + strings.ToUpper(name[:1]) + name[1:] + ":\n    source: ./" + name + "\n")
	}
	for name, content := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		writeFile(t, filepath.Join(dir, name), content)
	}
	cfg := filepath.Join(dir, "config.yaml")
	orig, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, strings.Replace(string(orig), "routes:\n", fns.String()+"routes:\n", 1))
	return dir
}

// needAWS finds the AWS CLI. Without it the test fails: .ci/run checks for it, and a test that
// skips proves nothing. Only -short (never used by CI) skips it, as the other tests of outside tools.
func needAWS(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the AWS CLI; CI runs without -short")
	}
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI (aws) is needed for this test: %v", err)
	}
	return bin
}

// awsCLI runs the AWS CLI with dummy credentials and none of this machine's AWS configuration.
func awsCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	bin := needAWS(t)
	empty := filepath.Join(t.TempDir(), "empty")
	writeFile(t, empty, "")
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// TestAWSCLI drives the Invoke API of a real `devserver run` with the real AWS CLI.
func TestAWSCLI(t *testing.T) {
	needAWS(t)
	r := startRun(t, withEcho(t, nil))
	tmp := t.TempDir()
	invoke := func(t *testing.T, function, payload string, extra ...string) (result map[string]any, out string) {
		t.Helper()
		event, outFile := filepath.Join(tmp, "event.json"), filepath.Join(tmp, "out.json")
		writeFile(t, event, payload)
		os.Remove(outFile)
		stdout, stderr, err := awsCLI(t, append([]string{"lambda", "invoke", "--endpoint-url", r.lambdaURL,
			"--function-name", function, "--payload", "fileb://" + event}, append(extra, outFile)...)...)
		if err != nil {
			t.Fatalf("aws lambda invoke: %v\n%s%s", err, stdout, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), &result); err != nil {
			t.Fatalf("aws lambda invoke printed %q: %v", stdout, err)
		}
		b, _ := os.ReadFile(outFile)
		return result, string(b)
	}

	t.Run("result", func(t *testing.T) {
		res, out := invoke(t, "APIHandler", `{"path":"/"}`)
		if res["StatusCode"] != 200.0 || res["ExecutedVersion"] != "$LATEST" || res["FunctionError"] != nil || out != sampleAnswer {
			t.Errorf("got %v and %s, want 200 and the function's answer", res, out)
		}
	})
	t.Run("function error", func(t *testing.T) {
		res, out := invoke(t, "Echo", `{"fail":true}`)
		if res["StatusCode"] != 200.0 || res["FunctionError"] != "Unhandled" || out != `{"errorMessage":"asked to fail","errorType":"errorString"}` {
			t.Errorf("got %v and %s, want FunctionError Unhandled and the error document", res, out)
		}
	})
	t.Run("event", func(t *testing.T) {
		res, out := invoke(t, "Echo", `{"n":"event-1"}`, "--invocation-type", "Event")
		if res["StatusCode"] != 202.0 || out != "" {
			t.Errorf("got %v and %q, want 202 and nothing", res, out)
		}
		r.waitOutput(t, `[Echo] echo got {"n":"event-1"}`)
	})
	t.Run("log tail", func(t *testing.T) {
		res, _ := invoke(t, "Echo", `{"n":"tail"}`, "--log-type", "Tail")
		log, err := base64.StdEncoding.DecodeString(res["LogResult"].(string))
		if err != nil || !strings.Contains(string(log), "echo got {\"n\":\"tail\"}\n") || !strings.Contains(string(log), "\nREPORT RequestId: ") {
			t.Errorf("LogResult decodes to %q (%v), want the invocation's log", log, err)
		}
	})
	t.Run("list-functions", func(t *testing.T) {
		stdout, stderr, err := awsCLI(t, "lambda", "list-functions", "--endpoint-url", r.lambdaURL)
		var list struct {
			Functions []struct{ FunctionName, Runtime, Handler string }
		}
		if err != nil || json.Unmarshal([]byte(stdout), &list) != nil {
			t.Fatalf("aws lambda list-functions: %v\n%s%s", err, stdout, stderr)
		}
		var names []string
		for _, f := range list.Functions {
			names = append(names, f.FunctionName+" "+f.Runtime+" "+f.Handler)
		}
		if strings.Join(names, ", ") != "APIHandler provided.al2023 bootstrap, Echo provided.al2023 bootstrap" {
			t.Errorf("list-functions = %v", names)
		}
	})
	t.Run("get-function", func(t *testing.T) {
		stdout, stderr, err := awsCLI(t, "lambda", "get-function", "--endpoint-url", r.lambdaURL, "--function-name", "Echo")
		var got struct {
			Configuration struct {
				FunctionArn string
				MemorySize  int
			}
			Code struct{ RepositoryType string }
		}
		if err != nil || json.Unmarshal([]byte(stdout), &got) != nil {
			t.Fatalf("aws lambda get-function: %v\n%s%s", err, stdout, stderr)
		}
		if got.Configuration.FunctionArn != "arn:aws:lambda:us-east-1:123456789012:function:Echo" || got.Configuration.MemorySize != 128 || got.Code.RepositoryType != "S3" {
			t.Errorf("get-function = %s", stdout)
		}
	})
	t.Run("unknown function", func(t *testing.T) {
		_, stderr, err := awsCLI(t, "lambda", "invoke", "--endpoint-url", r.lambdaURL, "--function-name", "Nope", filepath.Join(tmp, "nope.json"))
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !strings.Contains(stderr, "An error occurred (ResourceNotFoundException) when calling the Invoke operation: Function not found: arn:aws:lambda:us-east-1:123456789012:function:Nope") {
			t.Errorf("invoke Nope: %v\n%s", err, stderr)
		}
	})
}

// TestLambdaFlags checks the ways to turn the Invoke API off or get it wrong.
func TestLambdaFlags(t *testing.T) {
	r := startRun(t, repoRoot(t), "--no-lambda")
	r.waitOutput(t, "GET     /     APIHandler") // the route table comes after the banner lines
	if r.lambdaURL != "" || strings.Contains(r.output.String(), "Lambda Invoke API") {
		t.Errorf("--no-lambda still serves the Invoke API:\n%s", r.output.String())
	}
	for _, tt := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--lambda-port", "-1"}, "", "--lambda-port -1: a port is 0 to 65535 (0 picks a free one); --no-lambda turns the Invoke API off"},
		{nil, "DEVSERVER_LAMBDA_PORT=70000", "DEVSERVER_LAMBDA_PORT 70000: a port is 0 to 65535"},
		{nil, "DEVSERVER_LAMBDA_PORT=x", `DEVSERVER_LAMBDA_PORT="x": not a valid --lambda-port`},
	} {
		cmd := exec.Command(devserverBin, append([]string{"run", "--port", "0", "--project-dir", repoRoot(t)}, tt.args...)...)
		cmd.Env = append(os.Environ(), tt.env)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) || strings.Contains(string(out), "building") {
			t.Errorf("run %v %s = %v, want a refusal before building with %q:\n%s", tt.args, tt.env, err, tt.want, out)
		}
	}

	// A busy Invoke API port is said before anything is built, naming its flag.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	out, err := exec.Command(devserverBin, "run", "--port", "0", "--lambda-port", port, "--project-dir", copySample(t)).CombinedOutput()
	for _, want := range []string{"listen on 127.0.0.1:" + port + " for the Lambda Invoke API", "address already in use", "choose another with --lambda-port, or --lambda-port 0"} {
		if err == nil || !strings.Contains(string(out), want) || strings.Contains(string(out), "building") {
			t.Errorf("run on a busy --lambda-port = %v, want %q before any build:\n%s", err, want, out)
		}
	}
	out, err = exec.Command(devserverBin, "run", "--help").CombinedOutput()
	for _, want := range []string{"--lambda-port int", "(default 3001)", "--no-lambda", "aws lambda invoke --endpoint-url"} {
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("run --help lacks %q (%v):\n%s", want, err, out)
		}
	}
}
