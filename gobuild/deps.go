package gobuild

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Deps lists the folders of every package inside the main module that pkg imports, pkg's own
// folder included, and the module's go.mod folder. These are the folders whose changes can change
// the function.
func Deps(ctx context.Context, dir, pkg string) (pkgDirs []string, moduleDir string, err error) {
	deps, moduleDir, err := DepsAll(ctx, dir, []string{pkg})
	if err != nil {
		return nil, "", err
	}
	if deps[0].Err != nil {
		return nil, "", deps[0].Err
	}
	return deps[0].Dirs, moduleDir, nil
}

// PackageDeps is what DepsAll found for one package.
type PackageDeps struct {
	// Dirs are the folders of the package and of every package inside the main module it imports.
	Dirs []string
	// Err is set when the package, or one it imports, does not load; Dirs then holds what was found.
	Err error
}

// DepsAll is Deps for many packages with one go command: deps[i] is for pkgs[i]. Packages that do
// not load get their own Err; err is for the go command as a whole.
func DepsAll(ctx context.Context, dir string, pkgs []string) (deps []PackageDeps, moduleDir string, err error) {
	what := "list dependencies of " + strings.Join(pkgs, ", ")
	args := []string{"list", "-e", "-tags", "lambda.norpc", "-deps", "-json=ImportPath,Dir,Standard,Module,Deps,Error,DepsErrors"}
	for _, p := range pkgs {
		args = append(args, pkgArg(p))
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := run(ctx, cmd); err != nil {
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		return nil, "", fmt.Errorf("%s: %w: %s", what, err, strings.TrimSpace(stderr.String()))
	}
	type packageError struct{ Err string }
	type listed struct {
		ImportPath, Dir string
		Standard        bool
		Module          *struct {
			Main bool
			Dir  string
		}
		Deps       []string
		Error      *packageError
		DepsErrors []*packageError
	}
	byPath := map[string]*listed{}
	byDir := map[string]*listed{}
	dec := json.NewDecoder(&stdout)
	for {
		p := new(listed)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		byPath[p.ImportPath] = p
		if p.Dir != "" {
			byDir[sameFolder(p.Dir)] = p
		}
		if !p.Standard && p.Module != nil && p.Module.Main {
			moduleDir = p.Module.Dir
		}
	}
	local := func(p *listed) bool {
		return p != nil && !p.Standard && p.Module != nil && p.Module.Main && p.Dir != ""
	}
	deps = make([]PackageDeps, len(pkgs))
	for i, pkg := range pkgs {
		folder := pkg
		if !filepath.IsAbs(folder) {
			folder = filepath.Join(dir, folder)
		}
		abs, _ := filepath.Abs(folder)
		root := byDir[sameFolder(abs)]
		if root == nil {
			// A package that was not found has no folder; the go command names it as it was given.
			root = byPath[pkgArg(pkg)]
		}
		if root == nil {
			deps[i].Err = fmt.Errorf("list dependencies of %s: the go command did not list it", pkg)
			continue
		}
		if local(root) {
			deps[i].Dirs = append(deps[i].Dirs, root.Dir)
		}
		for _, ip := range root.Deps {
			if p := byPath[ip]; local(p) {
				deps[i].Dirs = append(deps[i].Dirs, p.Dir)
			}
		}
		slices.Sort(deps[i].Dirs)
		perr := root.Error
		if perr == nil && len(root.DepsErrors) > 0 {
			perr = root.DepsErrors[0]
		}
		if perr != nil {
			deps[i].Err = fmt.Errorf("list dependencies of %s: %s", pkg, perr.Err)
		}
	}
	return deps, moduleDir, nil
}
