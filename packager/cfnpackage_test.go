package packager

import (
	"crypto/md5"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
	env := testkit.AWSEnv(testkit.StartMoto(t))
	const bucket = "devserver-artifacts"
	testkit.AWSCLI(t, env, "s3api", "create-bucket", "--bucket", bucket)

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
	log := testkit.AWSCLI(t, env, "cloudformation", "package", "--template-file", template,
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
	out := testkit.AWSCLI(t, env, "s3api", "list-objects-v2", "--bucket", bucket, "--query", "Contents[].Key", "--output", "text")
	return strings.Fields(out)
}

func md5File(t *testing.T, path string) string {
	t.Helper()
	sum := md5.Sum(readFile(t, path))
	return hex.EncodeToString(sum[:])
}
