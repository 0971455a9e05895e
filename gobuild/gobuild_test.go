package gobuild

import (
	"debug/buildinfo"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devserver/devserver/internal/testkit"
)

// module writes a tiny module with a main package importing a local package.
func module(t *testing.T, main string) string {
	t.Helper()
	return writeModule(t, map[string]string{
		"lib/lib.go":     "package lib\n\nconst Word = \"hi\"\n",
		"cmd/fn/main.go": main,
	})
}

// writeModule writes files into a fresh folder, with a go.mod for module example.com/m unless
// files has one.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["go.mod"]; !ok {
		files["go.mod"] = "module example.com/m\n\ngo 1.26\n"
	}
	testkit.WriteFiles(t, dir, files)
	return dir
}

const goodMain = "package main\n\nimport \"example.com/m/lib\"\n\nfunc main() { println(lib.Word) }\n"

func TestBuildAndDeps(t *testing.T) {
	dir := module(t, goodMain)
	out := filepath.Join(t.TempDir(), "x", "bootstrap")
	if err := Build(t.Context(), Options{Dir: dir, Package: "cmd/fn", Output: out}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(out); err != nil || st.Mode()&0o111 == 0 {
		t.Fatalf("no executable at %s: %v", out, err)
	}
	dirs, mod, err := Deps(t.Context(), dir, "./cmd/fn")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "cmd", "fn"), filepath.Join(dir, "lib")}
	slices.Sort(dirs)
	if !slices.Equal(dirs, want) || mod != dir {
		t.Errorf("Deps = %v in module %s, want %v in %s (the standard library left out)", dirs, mod, want, dir)
	}
}

func TestBuildError(t *testing.T) {
	dir := module(t, "package main\n\nfunc main() { undefinedThing() }\n")
	err := Build(t.Context(), Options{Dir: dir, Package: "./cmd/fn", Output: filepath.Join(t.TempDir(), "b")})
	var berr *Error
	if !errors.As(err, &berr) {
		t.Fatalf("err = %v, want a *gobuild.Error", err)
	}
	if !strings.Contains(berr.Output, "cmd/fn/main.go:3:15: undefined: undefinedThing") {
		t.Errorf("compiler output lacks file:line:\n%s", berr.Output)
	}
}

func TestArgs(t *testing.T) {
	got := strings.Join(Args(Options{Package: "sample", Output: "out/bootstrap", Lambda: true}), " ")
	want := "build -tags lambda.norpc -trimpath -buildvcs=false -ldflags=-s -w -buildid= -o out/bootstrap ./sample"
	if got != want {
		t.Errorf("Args = %q\nwant %q", got, want)
	}
}

// TestDebugBuild reads back from each binary the flags it was built with: a debug build is
// unoptimised, without inlining, and keeps full source paths.
func TestDebugBuild(t *testing.T) {
	dir := module(t, goodMain)
	tests := []struct {
		name         string
		debug        bool
		gcflags      string
		wantTrimpath bool
	}{
		{"normal", false, "", true},
		{"debug", true, "all=-N -l", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bootstrap")
			if err := Build(t.Context(), Options{Dir: dir, Package: "cmd/fn", Output: out, Debug: tt.debug}); err != nil {
				t.Fatal(err)
			}
			info, err := buildinfo.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			settings := map[string]string{}
			for _, s := range info.Settings {
				settings[s.Key] = s.Value
			}
			if settings["-gcflags"] != tt.gcflags || (settings["-trimpath"] == "true") != tt.wantTrimpath {
				t.Errorf("built with -gcflags %q, -trimpath %q; want %q, trimmed %v", settings["-gcflags"], settings["-trimpath"], tt.gcflags, tt.wantTrimpath)
			}
		})
	}
}
