package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/project"
)

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Serve the functions behind a local API Gateway",
		Long: `Builds each function of config.yaml for this machine and serves them behind a local API
Gateway, each function a child process behind its own Lambda Runtime API, rebuilding a function
when one of its sources changes.

Routes answer both as /path and under the stage prefix, /STAGE/path, as the cloud's invoke URLs
do; the banner prints the short form. Builds go to .devserver/build/ inside the project (ignored
by git, deleted when run stops). Ctrl-C stops every function instance and exits 0.

Every flag can also be set with an environment variable named DEVSERVER_ and the flag's name in
upper case with - as _: DEVSERVER_PORT, DEVSERVER_HOST, DEVSERVER_STAGE, DEVSERVER_PROJECT_DIR,
DEVSERVER_CONFIG, DEVSERVER_MAX_INSTANCES, DEVSERVER_NO_RELOAD, DEVSERVER_DEBUG. A flag on the
command line wins over its variable.`,
		Example: `  devserver run                          # serve ./config.yaml on http://127.0.0.1:8000
  devserver run --port 0                 # any free port (printed in the banner)
  devserver run --stage prod             # apply the config's "prod" stage
  DEVSERVER_PORT=9000 devserver run --project-dir ../my-api`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, p, err := loadProject(cmd)
			if err != nil {
				return err
			}
			if p.API.Kind != project.KindREST {
				return &project.ConfigError{Problems: []project.Problem{{Position: p.API.KindPos, Key: "api.kind",
					Msg: fmt.Sprintf("%q is not served by run yet; use rest", p.API.Kind)}}}
			}
			printWarnings(cmd.ErrOrStderr(), p)
			src, err := s.source()
			if err != nil {
				return err
			}
			port, err := s.port("port")
			if err != nil {
				return err
			}
			// One terminal for the functions' output and the logs, so that they stay in order; the
			// banner and the route table go to standard output.
			out := console.NewTerminal(cmd.ErrOrStderr())
			defer out.Flush() // after Run too: a request cut off at shutdown may log late
			addr := net.JoinHostPort(s.v.GetString("host"), strconv.Itoa(port))
			srv := emulator.New(emulator.Config{
				Project:      p,
				Addr:         addr,
				MaxInstances: s.v.GetInt("max-instances"),
				Terminal:     out,
				Log:          newLogger(out, s.v.GetBool("debug")),
				Environ:      os.Environ(),
				Reload:       !s.v.GetBool("no-reload"),
				Source:       src,
				Ready: func(addr string) {
					out.Flush() // the build lines first
					stdout := cmd.OutOrStdout()
					fmt.Fprintf(stdout, "Serving on http://%s (also under the stage prefix, as in the cloud: http://%s/%s/)\n", addr, addr, p.API.Stage)
					printRoutes(stdout, p)
				},
			})
			err = srv.Run(cmd.Context())
			switch {
			case errors.Is(err, syscall.EADDRINUSE):
				return fmt.Errorf("%w\nanother program (another devserver run?) has port %d on %s: stop it, choose another with --port, or --port 0 for any free port", err, port, s.v.GetString("host"))
			case err != nil && cmd.Context().Err() != nil && errors.Is(err, context.Canceled):
				return nil // Ctrl-C during the first build: the user's choice, not a failure
			}
			return err
		},
	}
	projectFlags(cmd)
	templateFlags(cmd)
	f := cmd.Flags()
	f.String("host", "127.0.0.1", "address to listen on")
	f.Int("port", 8000, "port to listen on (0 picks a free one)")
	f.Int("max-instances", emulator.DefaultMaxInstances, "local cap on instances per function; more requests wait")
	f.Bool("no-reload", false, "do not rebuild when sources or config.yaml change")
	f.Bool("debug", false, "log more")
	return cmd
}
