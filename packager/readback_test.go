package packager

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/devserver/devserver/project"
	"github.com/devserver/devserver/template"
)

// TestPackagedTemplateReadsBack: what package writes is what `run --template` serves. The
// template read back names the same routes, and each function runs the bootstrap unpacked from
// its own zip. (One deployment.zip, YAML, and zips built for another machine are read in the
// template package's tests; packaging is what takes the time here.)
func TestPackagedTemplateReadsBack(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a packaged bootstrap runs only on Linux")
	}
	t.Parallel()
	host := project.ArchX86
	if runtime.GOARCH == "arm64" {
		host = project.ArchARM
	}
	p := load(t, "testdata/multi", "config.yaml")
	res := pkg(t, p, Options{Out: filepath.Join(t.TempDir(), "out"), Arch: host})
	got, ws, err := template.Read(res.Template, template.ReadOptions{Dir: p.Dir, UnpackDir: t.TempDir()})
	for _, w := range ws {
		t.Errorf("warning: %s", w)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(routeKeys(got.Routes), routeKeys(p.Routes)) {
		t.Errorf("routes read back %v, want %v", routeKeys(got.Routes), routeKeys(p.Routes))
	}
	if len(got.Functions) != len(res.Zips) {
		t.Fatalf("%d functions read back, want %d", len(got.Functions), len(res.Zips))
	}
	for i, f := range got.Functions {
		zip := res.Zips[i] // both sorted by function name
		if f.Name != zip.Function || f.PrebuiltFrom != zip.Path || f.Architecture != host {
			t.Errorf("function %s: PrebuiltFrom %s, Architecture %s; want %s, %s, %s", f.Name, f.PrebuiltFrom, f.Architecture, zip.Function, zip.Path, host)
		}
		// Outside Lambda, aws-lambda-go's lambda.Start says what it misses and exits: proof that
		// the unpacked bootstrap is a program this machine runs.
		out, err := exec.Command(f.Prebuilt).CombinedOutput()
		if !strings.Contains(string(out), "AWS_LAMBDA_RUNTIME_API") {
			t.Errorf("%s: running %s gave %v:\n%s", f.Name, f.Prebuilt, err, out)
		}
	}
}

func routeKeys(rs []project.Route) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key()+" "+r.Function)
	}
	slices.Sort(out)
	return out
}
