package emulator

import (
	"maps"
	"path/filepath"
	"slices"

	"github.com/devserver/devserver/project"
)

// change is what a batch of saved files means, as the planner sees it. It holds only plain
// values, so that planning is a pure function with table tests.
type change struct {
	// old is the model being served; next the one to serve (old itself when it did not change).
	old, next *project.Project
	// paths are the files that changed, absolute.
	paths []string
	// deps maps each function to the folders of the local packages it is built from; a function
	// missing from it has unknown dependencies, so any Go change counts for it.
	deps map[string][]string
	// moduleDir is the folder of the main module's go.mod ("" when unknown).
	moduleDir string
	// failed are the functions whose latest build failed: any change retries them.
	failed []string
}

// plan says which functions a change rebuilds, restarts with new settings, or removes.
type plan struct {
	rebuild []*project.Function
	restart []*project.Function
	remove  []string
}

func (p plan) empty() bool { return len(p.rebuild) == 0 && len(p.restart) == 0 && len(p.remove) == 0 }

// planReload decides what c needs: a function is rebuilt when it is new, its source folder moved,
// go.mod or go.sum changed, a Go file of a package it is built from changed, or its last build
// failed; restarted when only its settings changed; removed when the model no longer has it.
func planReload(c change) plan {
	var pl plan
	modChanged := slices.ContainsFunc(c.paths, func(p string) bool {
		base := filepath.Base(p)
		return (c.moduleDir == "" || filepath.Dir(p) == c.moduleDir) && (base == "go.mod" || base == "go.sum")
	})
	for _, f := range c.next.Functions {
		o := c.old.Function(f.Name)
		if f.Prebuilt != "" { // nothing to compile: a new bootstrap comes with a new model
			switch {
			case o == nil || o.Prebuilt != f.Prebuilt:
				pl.rebuild = append(pl.rebuild, f)
			case !sameSettings(o, f):
				pl.restart = append(pl.restart, f)
			}
			continue
		}
		switch {
		case o == nil || modChanged || o.Dir != f.Dir || o.ModuleDir != f.ModuleDir || o.Prebuilt != "" || slices.Contains(c.failed, f.Name):
			pl.rebuild = append(pl.rebuild, f)
		case slices.ContainsFunc(c.paths, func(p string) bool {
			dirs, known := c.deps[f.Name]
			return filepath.Ext(p) == ".go" && (!known || slices.Contains(dirs, filepath.Dir(p)))
		}):
			pl.rebuild = append(pl.rebuild, f)
		case !sameSettings(o, f):
			pl.restart = append(pl.restart, f)
		}
	}
	for _, f := range c.old.Functions {
		if c.next.Function(f.Name) == nil {
			pl.remove = append(pl.remove, f.Name)
		}
	}
	return pl
}

// sameSettings reports whether two versions of a function run the same way.
func sameSettings(a, b *project.Function) bool {
	return a.MemoryMB == b.MemoryMB && a.TimeoutSec == b.TimeoutSec && a.ReservedConcurrency == b.ReservedConcurrency &&
		maps.Equal(a.Environment, b.Environment)
}
