package gobuild

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDepsAll lists what several functions are built from with one go command: each its own local
// packages, and an error for each that does not load, with what was found.
func TestDepsAll(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"lib/lib.go":     libGood,
		"lib/inner/x.go": "package inner\n",
		"lib2/lib.go":    "package lib2\n\nimport _ \"example.com/m/lib/inner\"\n",
		"a/main.go":      wordMain("a"),
		"b/main.go":      "package main\n\nimport _ \"example.com/m/lib2\"\n\nfunc main() {}\n",
		"c/main.go":      "package main\n\nimport (\n\t_ \"example.com/m/lib\"\n\t_ \"example.com/m/nope\"\n)\n\nfunc main() {}\n",
	})
	deps, mod, err := DepsAll(t.Context(), dir, []string{"./a", "b", filepath.Join(dir, "c"), "./missing"})
	if err != nil {
		t.Fatal(err)
	}
	if mod != dir {
		t.Errorf("module folder = %s, want %s", mod, dir)
	}
	in := func(rel ...string) []string {
		var dirs []string
		for _, r := range rel {
			dirs = append(dirs, filepath.Join(dir, r))
		}
		return dirs
	}
	want := []struct {
		dirs []string
		err  string
	}{
		{dirs: in("a", "lib")},
		{dirs: in("b", "lib2", "lib/inner")},
		{dirs: in("c", "lib"), err: "example.com/m/nope"},
		{err: "directory not found"},
	}
	if _, _, err := Deps(t.Context(), dir, "./c"); err == nil || !strings.Contains(err.Error(), "example.com/m/nope") {
		t.Errorf("Deps of a package that does not load: err = %v, want one about example.com/m/nope", err)
	}
	for i, w := range want {
		slices.Sort(w.dirs)
		if !slices.Equal(deps[i].Dirs, w.dirs) {
			t.Errorf("deps[%d].Dirs = %v, want %v", i, deps[i].Dirs, w.dirs)
		}
		if w.err == "" && deps[i].Err != nil || w.err != "" && (deps[i].Err == nil || !strings.Contains(deps[i].Err.Error(), w.err)) {
			t.Errorf("deps[%d].Err = %v, want one about %q", i, deps[i].Err, w.err)
		}
	}
}
