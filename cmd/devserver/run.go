package main

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/project"
)

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Serve the functions behind a local API Gateway",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, p, err := loadProject(cmd)
			if err != nil {
				return err
			}
			if p.API.Kind != project.KindREST {
				return fmt.Errorf("run: api.kind %q is not served yet; use rest", p.API.Kind)
			}
			// One terminal for the functions' output and the logs, so that they stay in order.
			out := console.NewTerminal(cmd.ErrOrStderr())
			defer out.Flush() // after Run too: a request cut off at shutdown may log late
			addr := net.JoinHostPort(s.v.GetString("host"), strconv.Itoa(s.v.GetInt("port")))
			srv := emulator.New(emulator.Config{
				Project:      p,
				Addr:         addr,
				MaxInstances: s.v.GetInt("max-instances"),
				Terminal:     out,
				Log:          newLogger(out, s.v.GetBool("debug")),
				Environ:      os.Environ(),
				Reload:       !s.v.GetBool("no-reload"),
				Source:       emulator.SourceFunc(func() (*project.Project, error) { return project.Load(s.options()) }),
				Ready: func(addr string) {
					fmt.Fprintf(out, "Serving on http://%s (also under the stage prefix, as in the cloud: http://%s/%s/)\n", addr, addr, p.API.Stage)
					printRoutes(out, p)
				},
			})
			return srv.Run(cmd.Context())
		},
	}
	projectFlags(cmd)
	f := cmd.Flags()
	f.String("host", "127.0.0.1", "address to listen on")
	f.Int("port", 8000, "port to listen on (0 picks a free one)")
	f.Int("max-instances", emulator.DefaultMaxInstances, "local cap on instances per function; more requests wait")
	f.Bool("no-reload", false, "do not rebuild when sources or config.yaml change")
	f.Bool("debug", false, "log more")
	return cmd
}
