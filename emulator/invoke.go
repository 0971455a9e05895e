package emulator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/project"
)

// InvokeOnce builds function alone and runs one invocation of it on a fresh instance, as
// `devserver invoke` does: the function's output and its START/END/REPORT lines go to
// cfg.Terminal, its result is returned. Nothing is served and nothing is watched (cfg's
// addresses, Ready and Reload are ignored). A function missing from the model is
// invocation.ErrUnknownFunction; a compile error is a *gobuild.Error.
//
// Unless cfg.CacheDir says otherwise, the build goes to a folder of its own under the project's
// cache, deleted at the end, so that a `devserver run` of the same project keeps its builds.
func InvokeOnce(ctx context.Context, cfg Config, function string, req invocation.Request) (*invocation.Response, error) {
	f := cfg.Project.Function(function)
	if f == nil {
		return nil, fmt.Errorf("invoke %s: %w", function, invocation.ErrUnknownFunction)
	}
	if cfg.CacheDir == "" {
		parent := filepath.Join(cfg.Project.Dir, CacheDir)
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return nil, fmt.Errorf("make build folder: %w", err)
		}
		dir, err := os.MkdirTemp(parent, "invoke-")
		if err != nil {
			return nil, fmt.Errorf("make build folder: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.CacheDir = dir
	}
	cfg.Reload, cfg.Ready, cfg.Addr, cfg.LambdaAddr = false, nil, "", ""
	s := New(cfg)
	defer s.Close()
	if err := s.apply(ctx, cfg.Project, plan{rebuild: []*project.Function{f}}, nil, true); err != nil {
		return nil, err
	}
	return s.Invoke(ctx, function, req)
}
