package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestPackageCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	b, err := exec.Command(devserverBin, "package", out, "--project-dir", repoRoot(t), "--template-format", "yaml").CombinedOutput()
	if err != nil {
		t.Fatalf("package: %v\n%s", err, b)
	}
	for _, f := range []string{"deployment.zip", "sam.yaml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("package did not write %s: %v", f, err)
		}
	}
	if !strings.Contains(string(b), "deployment.zip") {
		t.Errorf("package did not say what it wrote:\n%s", b)
	}

	mine := t.TempDir()
	os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o644)
	b, err = exec.Command(devserverBin, "package", mine, "--project-dir", repoRoot(t)).CombinedOutput()
	if err == nil || !strings.Contains(string(b), "refuse to write into") {
		t.Errorf("package into a user's folder = %v\n%s", err, b)
	}
	if got, _ := os.ReadFile(filepath.Join(mine, "notes.txt")); string(got) != "mine" {
		t.Errorf("the user's file changed")
	}
}
