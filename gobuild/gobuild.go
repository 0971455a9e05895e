// Package gobuild runs the go command for devserver: building functions' main packages, for the
// host (run) or for Lambda (package), one at a time (Build) or many with one shared compile of what
// they import (BuildAll), and listing the local packages functions depend on (Deps, DepsAll). Each
// go command runs in a process group of its own, which a cancelled context stops whole.
package gobuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Options describe one build.
type Options struct {
	// Dir is where the go command runs (the project root, inside the module).
	Dir string
	// Package is the main package to build, as a path relative to Dir ("./sample") or absolute.
	Package string
	// Output is the binary to write.
	Output string
	// GOOS and GOARCH cross-compile when set; "" builds for the host.
	GOOS, GOARCH string
	// Lambda adds the flags of a deployable build: CGO_ENABLED=0, -buildvcs=false, -ldflags='-s -w -buildid='.
	Lambda bool
	// Debug builds for a debugger: -gcflags=all=-N -l and no -trimpath.
	Debug bool
}

// Error is a failed build; Output holds the compiler's messages (file:line: ...).
type Error struct {
	Package string
	Output  string
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("build %s: %v\n%s", e.Package, e.Err, strings.TrimRight(e.Output, "\n"))
}

func (e *Error) Unwrap() error { return e.Err }

// Args returns the go command's arguments for opts (without "go").
func Args(opts Options) []string {
	return append(flags(opts), "-o", opts.Output, pkgArg(opts.Package))
}

// flags are the go command's arguments for opts up to the output and the packages, so that a
// build of one package and a build of many compile alike.
func flags(opts Options) []string {
	args := []string{"build", "-tags", "lambda.norpc"}
	if opts.Debug {
		// Unoptimised and nothing inlined, so every line takes a breakpoint and every variable can
		// be read; full source paths, so that a breakpoint an editor sets on its file is found.
		args = append(args, "-gcflags=all=-N -l")
	} else {
		args = append(args, "-trimpath")
	}
	if opts.Lambda {
		args = append(args, "-buildvcs=false", "-ldflags=-s -w -buildid=")
	}
	return args
}

// Env returns the environment the go command runs with for opts.
func Env(opts Options) []string {
	env := os.Environ()
	if opts.Lambda {
		env = append(env, "CGO_ENABLED=0")
	}
	if opts.GOOS != "" {
		env = append(env, "GOOS="+opts.GOOS)
	}
	if opts.GOARCH != "" {
		env = append(env, "GOARCH="+opts.GOARCH)
	}
	// Building from inside a `go test` or `go run` must not inherit a -flags of its own.
	return append(env, "GOFLAGS=")
}

// Build compiles opts.Package into opts.Output. A compile failure is an *Error; a cancelled build
// wraps ctx.Err() and has stopped every process it started.
func Build(ctx context.Context, opts Options) error {
	if err := os.MkdirAll(filepath.Dir(opts.Output), 0o755); err != nil {
		return fmt.Errorf("create build folder: %w", err)
	}
	cmd := exec.Command("go", Args(opts)...)
	cmd.Dir = opts.Dir
	cmd.Env = Env(opts)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := run(ctx, cmd); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("build %s: %w", opts.Package, ctx.Err())
		}
		return &Error{Package: opts.Package, Output: out.String(), Err: err}
	}
	return nil
}

// pkgArg makes a relative folder a package path the go command accepts ("sample" → "./sample").
func pkgArg(p string) string {
	if filepath.IsAbs(p) || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || p == "." {
		return p
	}
	return "./" + p
}
