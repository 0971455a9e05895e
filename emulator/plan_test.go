package emulator

import (
	"slices"
	"testing"

	"github.com/devserver/devserver/project"
)

func TestPlanReload(t *testing.T) {
	fn := func(name, dir string, mem int, env map[string]string) *project.Function {
		return &project.Function{Name: name, Dir: dir, MemoryMB: mem, TimeoutSec: 3, Environment: env}
	}
	model := func(fns ...*project.Function) *project.Project {
		return &project.Project{Dir: "/p", ConfigFile: "/p/config.yaml", Functions: fns}
	}
	prebuilt := func(name, bin string) *project.Function {
		return &project.Function{Name: name, Prebuilt: bin, MemoryMB: 128, TimeoutSec: 3}
	}
	a, b := fn("A", "/p/a", 128, nil), fn("B", "/p/b", 128, nil)
	old := model(a, b)
	deps := map[string][]string{"A": {"/p/a", "/p/shared"}, "B": {"/p/b"}}
	tests := []struct {
		name                      string
		next                      *project.Project
		paths                     []string
		deps                      map[string][]string
		failed                    []string
		rebuild, restart, removed []string
	}{
		{name: "own package", next: old, paths: []string{"/p/b/main.go"}, deps: deps, rebuild: []string{"B"}},
		{name: "shared package", next: old, paths: []string{"/p/shared/s.go"}, deps: deps, rebuild: []string{"A"}},
		{name: "not a Go file", next: old, paths: []string{"/p/a/README.md"}, deps: deps},
		{name: "package nobody imports", next: old, paths: []string{"/p/other/x.go"}, deps: deps},
		{name: "unknown deps count any Go change", next: old, paths: []string{"/p/other/x.go"},
			deps: map[string][]string{"A": {"/p/a"}}, rebuild: []string{"B"}},
		{name: "go.mod rebuilds all", next: old, paths: []string{"/p/go.mod"}, deps: deps, rebuild: []string{"A", "B"}},
		{name: "go.sum of another module", next: old, paths: []string{"/p/tools/go.sum"}, deps: deps},
		{name: "a failed build is retried on any change", next: old, paths: []string{"/p/a/README.md"}, deps: deps,
			failed: []string{"B"}, rebuild: []string{"B"}},
		{name: "settings restart", next: model(fn("A", "/p/a", 256, nil), b), paths: []string{"/p/config.yaml"}, deps: deps,
			restart: []string{"A"}},
		{name: "environment restarts", next: model(a, fn("B", "/p/b", 128, map[string]string{"K": "v"})), paths: []string{"/p/config.yaml"},
			deps: deps, restart: []string{"B"}},
		{name: "moved source rebuilds", next: model(a, fn("B", "/p/b2", 128, nil)), paths: []string{"/p/config.yaml"}, deps: deps,
			rebuild: []string{"B"}},
		{name: "added and removed", next: model(a, fn("C", "/p/c", 128, nil)), paths: []string{"/p/config.yaml"}, deps: deps,
			rebuild: []string{"C"}, removed: []string{"B"}},
		{name: "routes only", next: model(a, b), paths: []string{"/p/config.yaml"}, deps: deps},
		{name: "a new bootstrap is taken", next: model(a, prebuilt("B", "/p/.devserver/code/B-2/bootstrap")), paths: []string{"/p/template.yaml"},
			deps: deps, rebuild: []string{"B"}},
		{name: "source to prebuilt", next: model(a, prebuilt("B", "/p/b/bootstrap")), paths: []string{"/p/template.yaml"}, deps: deps,
			rebuild: []string{"B"}},
	}
	names := func(fns []*project.Function) []string {
		var out []string
		for _, f := range fns {
			out = append(out, f.Name)
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := planReload(change{old: old, next: tt.next, paths: tt.paths, deps: tt.deps, moduleDir: "/p", failed: tt.failed})
			if got := names(pl.rebuild); !slices.Equal(got, tt.rebuild) {
				t.Errorf("rebuild = %v, want %v", got, tt.rebuild)
			}
			if got := names(pl.restart); !slices.Equal(got, tt.restart) {
				t.Errorf("restart = %v, want %v", got, tt.restart)
			}
			if !slices.Equal(pl.remove, tt.removed) {
				t.Errorf("remove = %v, want %v", pl.remove, tt.removed)
			}
		})
	}
}

// TestPlanPrebuilt: a prebuilt function is not rebuilt by Go changes or go.mod, only by a new
// bootstrap; its settings still restart it.
func TestPlanPrebuilt(t *testing.T) {
	pb := func(bin string, mem int) *project.Function {
		return &project.Function{Name: "P", Prebuilt: bin, MemoryMB: mem, TimeoutSec: 3}
	}
	old := &project.Project{Dir: "/p", Functions: []*project.Function{pb("/p/x/bootstrap", 128)}}
	for _, tt := range []struct {
		name             string
		next             *project.Project
		paths            []string
		rebuild, restart int
	}{
		{"go change", old, []string{"/p/x/main.go", "/p/go.mod"}, 0, 0},
		{"new bootstrap", &project.Project{Dir: "/p", Functions: []*project.Function{pb("/p/y/bootstrap", 128)}}, []string{"/p/t.yaml"}, 1, 0},
		{"memory", &project.Project{Dir: "/p", Functions: []*project.Function{pb("/p/x/bootstrap", 256)}}, []string{"/p/t.yaml"}, 0, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pl := planReload(change{old: old, next: tt.next, paths: tt.paths, deps: map[string][]string{}, moduleDir: "/p"})
			if len(pl.rebuild) != tt.rebuild || len(pl.restart) != tt.restart {
				t.Errorf("rebuild %d restart %d, want %d %d", len(pl.rebuild), len(pl.restart), tt.rebuild, tt.restart)
			}
		})
	}
}
