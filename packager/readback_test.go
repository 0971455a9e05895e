package packager

import (
	"errors"
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
// its zip, or, built for another machine, is refused with the architecture named.
func TestPackagedTemplateReadsBack(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a packaged bootstrap runs only on Linux")
	}
	host, other := "x86_64", "arm64"
	if runtime.GOARCH == "arm64" {
		host, other = other, host
	}
	tests := []struct {
		name, dir, config, arch, format string
		wantErr                         string
	}{
		{"one function, one deployment.zip", "..", "config.yaml", host, template.FormatJSON, ""},
		{"a zip per function", "testdata/multi", "config.yaml", host, template.FormatYAML, ""},
		{"built for another machine", "testdata/multi", "config.yaml", other, template.FormatJSON,
			"bootstrap is a linux/" + map[string]string{"x86_64": "amd64", "arm64": "arm64"}[other] + " executable; this machine"},
	}
	t.Parallel()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := load(t, tc.dir, tc.config)
			res := pkg(t, p, Options{Out: filepath.Join(t.TempDir(), "out"), Arch: tc.arch, Format: tc.format})
			got, ws, err := template.Read(res.Template, template.ReadOptions{Dir: p.Dir, UnpackDir: t.TempDir()})
			for _, w := range ws {
				t.Errorf("warning: %s", w)
			}
			if tc.wantErr != "" {
				var ce *project.ConfigError
				if !errors.As(err, &ce) || len(ce.Problems) != len(p.Functions) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Read error = %v, want one problem per function containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(routeKeys(got.Routes), routeKeys(p.Routes)) {
				t.Errorf("routes read back %v, want %v", routeKeys(got.Routes), routeKeys(p.Routes))
			}
			for _, f := range got.Functions {
				zip := res.Zips[slices.IndexFunc(res.Zips, func(z Zip) bool { return z.Function == f.Name })]
				if f.PrebuiltFrom != zip.Path || f.Architecture != host {
					t.Errorf("%s: PrebuiltFrom %s, Architecture %s; want %s, %s", f.Name, f.PrebuiltFrom, f.Architecture, zip.Path, host)
				}
				// Outside Lambda, aws-lambda-go's lambda.Start says what it misses and exits: proof
				// that the unpacked bootstrap is a program this machine runs.
				out, err := exec.Command(f.Prebuilt).CombinedOutput()
				if !strings.Contains(string(out), "AWS_LAMBDA_RUNTIME_API") {
					t.Errorf("%s: running %s gave %v:\n%s", f.Name, f.Prebuilt, err, out)
				}
			}
		})
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
