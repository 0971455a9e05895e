package emulator_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/devserver/devserver/"

// TestImportRules checks the layout rules of DESIGN.md with the go command's own view of the
// imports (tests included): the fronts never reach the pool, the Runtime API, the builder or the
// watcher; the command never reaches the pool; the emulator never reaches the template package,
// cobra or viper.
func TestImportRules(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps=false", "-test", "-json=ImportPath,Imports,TestImports,XTestImports", "../...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	imports := map[string][]string{} // package → what it and its tests import
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath                         string
			Imports, TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		path, _, _ := strings.Cut(p.ImportPath, " ") // "pkg [pkg.test]" variants
		imports[path] = append(imports[path], p.Imports...)
	}
	fronts := []string{"emulator/apigateway", "emulator/invokeapi", "emulator/inspect", "emulator/invocation", "emulator/console"}
	rules := []struct {
		from      []string
		forbidden []string
		why       string
	}{
		{fronts, []string{module + "emulator/pool", module + "emulator/runtimeapi", module + "gobuild", module + "emulator/watcher"},
			"fronts use the invocation contract, never the machinery behind it"},
		{[]string{"cmd/devserver"}, []string{module + "emulator/pool"}, "the command talks to the emulator"},
		{[]string{"emulator"}, []string{module + "template", "github.com/spf13/cobra", "github.com/spf13/viper"},
			"the emulator is handed its model and plain settings"},
	}
	checked := 0
	for _, r := range rules {
		for _, from := range r.from {
			for path, imps := range imports {
				if path != module+from && !strings.HasPrefix(path, module+from+"/") || strings.Contains(path, ".test") {
					continue
				}
				if from == "emulator" && path != module+"emulator" {
					continue // the emulator's own rule is for the composing package
				}
				checked++
				for _, imp := range slices.Compact(slices.Sorted(slices.Values(imps))) { // once per import, not per test variant
					if slices.Contains(r.forbidden, imp) {
						t.Errorf("%s imports %s: %s", strings.TrimPrefix(path, module), imp, r.why)
					}
				}
			}
		}
	}
	if checked < 4 {
		t.Fatalf("checked %d packages; the listing is not what this test expects:\n%s", checked, out)
	}
}
