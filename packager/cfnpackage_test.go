package packager

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devserver/devserver/internal/testkit"
	"go.yaml.in/yaml/v3"
)

// TestAWSCloudFormationPackage hands our output to the real `aws cloudformation package`, with S3
// played by a local moto_server: each CodeUri must become s3://<bucket>/<md5 of our zip>, and
// packaging unchanged sources again must upload nothing (FIDELITY §5).
func TestAWSCloudFormationPackage(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts moto_server and the AWS CLI; skipped with -short")
	}
	for _, bin := range []string{"aws", "moto_server"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is required for this test: %v", bin, err)
		}
	}
	env := awsEnv(startMoto(t))
	const bucket = "devserver-artifacts"
	awsCLI(t, env, "s3api", "create-bucket", "--bucket", bucket)

	sample := load(t, "..", "config.yaml")
	var firstKey string
	for i := range 2 {
		res := pkg(t, sample, Options{Out: filepath.Join(t.TempDir(), "out")})
		uris, log := cfnPackage(t, env, res.Template, bucket)
		key := md5File(t, res.Zips[0].Path)
		if want := "s3://" + bucket + "/" + key; uris["APIHandler"] != want {
			t.Errorf("run %d: CodeUri = %q, want %q", i+1, uris["APIHandler"], want)
		}
		uploaded := strings.Contains(log, "Uploading to "+key)
		switch {
		case i == 0 && !uploaded:
			t.Errorf("first run did not upload %s:\n%s", key, log)
		case i == 1 && uploaded:
			t.Errorf("second run of unchanged sources uploaded again:\n%s", log)
		case i == 1 && key != firstKey:
			t.Errorf("unchanged sources gave another key: %s, then %s", firstKey, key)
		}
		firstKey = key
	}
	if keys := listKeys(t, env, bucket); len(keys) != 1 || keys[0] != firstKey {
		t.Errorf("bucket holds %v, want only %s", keys, firstKey)
	}

	// Several functions: each CodeUri is resolved against the template's folder (the CLI runs
	// elsewhere) and uploaded as its own zip.
	multi := load(t, "testdata/multi", "config.yaml")
	res := pkg(t, multi, Options{Out: filepath.Join(t.TempDir(), "out")})
	uris, _ := cfnPackage(t, env, res.Template, bucket)
	for _, z := range res.Zips {
		if want := "s3://" + bucket + "/" + md5File(t, z.Path); uris[z.Function] != want {
			t.Errorf("%s CodeUri = %q, want %q", z.Function, uris[z.Function], want)
		}
	}
	if keys := listKeys(t, env, bucket); len(keys) != 3 {
		t.Errorf("bucket holds %v, want the sample's zip and two more", keys)
	}
}

// cfnPackage runs `aws cloudformation package` on template and returns each resource's CodeUri
// from the packaged template, and what the CLI printed.
func cfnPackage(t *testing.T, env []string, template, bucket string) (map[string]string, string) {
	t.Helper()
	packaged := filepath.Join(filepath.Dir(template), "packaged.yaml")
	log := awsCLI(t, env, "cloudformation", "package", "--template-file", template,
		"--s3-bucket", bucket, "--output-template-file", packaged)
	var doc struct {
		Resources map[string]struct {
			Properties struct {
				CodeUri string `yaml:"CodeUri"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(readFile(t, packaged), &doc); err != nil {
		t.Fatalf("read %s: %v", packaged, err)
	}
	uris := map[string]string{}
	for id, r := range doc.Resources {
		uris[id] = r.Properties.CodeUri
	}
	return uris, log
}

func listKeys(t *testing.T, env []string, bucket string) []string {
	t.Helper()
	out := awsCLI(t, env, "s3api", "list-objects-v2", "--bucket", bucket, "--query", "Contents[].Key", "--output", "text")
	return strings.Fields(out)
}

// awsCLI runs the AWS CLI in an empty folder, so that relative paths cannot resolve against the
// test's own folder, and returns its combined output.
func awsCLI(t *testing.T, env []string, args ...string) string {
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

// awsEnv is the CLI's environment: the caller's minus every AWS_ setting (no real profile or
// credentials can leak in), plus dummy credentials and the local endpoint.
func awsEnv(endpoint string) []string {
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

// startMoto starts moto_server on a free local port, waits until it says it is listening, and
// stops it when the test ends. It returns the endpoint URL.
func startMoto(t *testing.T) string {
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
	var output testkit.Buffer
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

func md5File(t *testing.T, path string) string {
	t.Helper()
	sum := md5.Sum(readFile(t, path))
	return hex.EncodeToString(sum[:])
}
