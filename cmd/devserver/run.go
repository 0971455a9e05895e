package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/emulator/apigateway"
	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/emulator/inspect"
	"github.com/devserver/devserver/project"
)

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Serve the functions behind a local API Gateway and Lambda Invoke API",
		Long: `Builds each function of config.yaml for this machine and serves them behind a local API
Gateway, each function a child process behind its own Lambda Runtime API, rebuilding a function
when one of its sources changes.

Routes answer both as /path and under the stage prefix, /STAGE/path, as the cloud's invoke URLs
do; the banner prints the short form. Builds go to .devserver/build/ inside the project (ignored
by git, deleted when run stops). Ctrl-C stops every function instance and exits 0.

The same functions are also served by the Lambda Invoke API on --lambda-port (same host): what
"aws lambda invoke --endpoint-url" and the AWS SDKs' Lambda clients call (Invoke, with Event and
DryRun, ListFunctions, GetFunction). --no-lambda turns it off.

The inspector, a web page on --inspector-port (same host), lists the requests and invocations as
they happen (the request, the event, the result, the response, the log and REPORT figures), replays
them, and shows the builds and reloads. --no-inspector turns it off (nothing is recorded then).

Every flag can also be set with an environment variable named DEVSERVER_ and the flag's name in
upper case with - as _: DEVSERVER_PORT, DEVSERVER_LAMBDA_PORT, DEVSERVER_NO_LAMBDA, DEVSERVER_HOST,
DEVSERVER_INSPECTOR_PORT, DEVSERVER_NO_INSPECTOR, DEVSERVER_INSPECTOR_SIZE, DEVSERVER_STAGE,
DEVSERVER_PROJECT_DIR, DEVSERVER_CONFIG, DEVSERVER_MAX_INSTANCES, DEVSERVER_NO_RELOAD,
DEVSERVER_VERBOSE, DEVSERVER_DEBUG, DEVSERVER_DEBUG_PORT. A flag on the command line wins over its
variable.

--debug FUNCTION builds that function for debugging (-gcflags=all=-N -l) and runs its one
instance under Delve (dlv exec --headless --api-version 2 --accept-multiclient --continue),
listening on 127.0.0.1:--debug-port, from the start: attach with dlv connect, or an editor's
remote attach (the banner prints a VS Code launch.json entry). While a debugger may hold it
stopped, that function has no init timeout, no function timeout and no integration timeout.
A save rebuilds it and restarts Delve: attach again.`,
		Example: `  devserver run                          # serve ./config.yaml on http://127.0.0.1:8000
  devserver run --port 0                 # any free port (printed in the banner)
  devserver run --lambda-port 0          # the Invoke API on any free port (printed in the banner)
  devserver run --inspector-port 0       # the inspector on any free port (printed in the banner)
  devserver run --stage prod             # apply the config's "prod" stage
  devserver run --debug APIHandler       # APIHandler under Delve on 127.0.0.1:2345
  DEVSERVER_PORT=9000 devserver run --project-dir ../my-api
  aws lambda invoke --endpoint-url http://127.0.0.1:3001 --function-name APIHandler out.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, p, err := loadProject(cmd)
			if err != nil {
				return err
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
			debug, debugAddr, err := debugConfig(s, p)
			if err != nil {
				return err
			}
			// One terminal for the functions' output and the logs, so that they stay in order; the
			// banner and the route table go to standard output.
			out := console.NewTerminal(cmd.ErrOrStderr())
			var live io.Writer // the first build's live progress line, on a terminal only
			if f, ok := cmd.ErrOrStderr().(*os.File); ok && console.IsTerminal(f) {
				live = f
			}
			defer out.Flush() // after Run too: a request cut off at shutdown may log late
			host := s.v.GetString("host")
			addr := net.JoinHostPort(host, strconv.Itoa(port))
			lambdaPort, lambdaAddr := 0, ""
			if !s.v.GetBool("no-lambda") {
				if lambdaPort, err = s.port("lambda-port"); err != nil {
					return fmt.Errorf("%w; --no-lambda turns the Invoke API off", err)
				}
				lambdaAddr = net.JoinHostPort(host, strconv.Itoa(lambdaPort))
			}
			inspectorPort, inspectorAddr := 0, ""
			if !s.v.GetBool("no-inspector") {
				if inspectorPort, err = s.port("inspector-port"); err != nil {
					return fmt.Errorf("%w; --no-inspector turns the inspector off", err)
				}
				inspectorAddr = net.JoinHostPort(host, strconv.Itoa(inspectorPort))
			}
			srv := emulator.New(emulator.Config{
				Project:       p,
				Addr:          addr,
				LambdaAddr:    lambdaAddr,
				InspectorAddr: inspectorAddr,
				InspectorSize: s.v.GetInt("inspector-size"),
				MaxInstances:  s.v.GetInt("max-instances"),
				Terminal:      out,
				Progress:      console.NewProgress(out, live),
				Log:           newLogger(out, s.v.GetBool("verbose")),
				Environ:       os.Environ(),
				Reload:        !s.v.GetBool("no-reload"),
				Source:        src,
				Debug:         debug,
				Ready: func(a emulator.Addrs) {
					out.Flush() // the build lines first
					printBanner(cmd.OutOrStdout(), a, p)
					printAttach(cmd.OutOrStdout(), debug, debugAddr)
				},
			})
			err = srv.Run(cmd.Context())
			switch {
			case errors.Is(err, syscall.EADDRINUSE):
				flag, busy := "--port", port
				if le := (*emulator.ListenError)(nil); errors.As(err, &le) && le.Lambda {
					flag, busy = "--lambda-port", lambdaPort
				} else if le != nil && le.Inspector {
					flag, busy = "--inspector-port", inspectorPort
				}
				return fmt.Errorf("%w\nanother program (another devserver run?) has port %d on %s: stop it, choose another with %s, or %s 0 for any free port", err, busy, host, flag, flag)
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
	f.Int("port", 8000, "port of the API Gateway front (0 picks a free one)")
	f.Int("lambda-port", 3001, "port of the Lambda Invoke API, on the same host (0 picks a free one)")
	f.Bool("no-lambda", false, "do not serve the Lambda Invoke API")
	f.Int("max-instances", emulator.DefaultMaxInstances, "local cap on instances per function; more requests wait")
	f.Bool("no-reload", false, "do not rebuild when sources or config.yaml change")
	f.Int("inspector-port", 8001, "port of the inspector's page, on the same host (0 picks a free one)")
	f.Bool("no-inspector", false, "do not serve the inspector (nothing is recorded)")
	f.Int("inspector-size", inspect.DefaultSize, "how many requests and invocations the inspector keeps")
	f.BoolP("verbose", "v", false, "log more (e.g. when a change is seen)")
	f.String("debug", "", "run `FUNCTION` under Delve (dlv on PATH), untimed, for a debugger to attach")
	f.Int("debug-port", 2345, "port Delve listens on for --debug, on 127.0.0.1 (0 picks a free one)")
	return cmd
}

// printBanner says where the API, the Lambda Invoke API and the function URLs answer, then the
// route table. The URLs printed are the short forms; a REST API (or a named HTTP API stage) also
// answers under its stage prefix, as in the cloud.
func printBanner(w io.Writer, a emulator.Addrs, p *project.Project) {
	addr := a.API
	if p.API.Stage == project.DefaultHTTPStage {
		fmt.Fprintf(w, "Serving on http://%s (HTTP API, payload 2.0, stage $default)\n", addr)
	} else {
		kind := "REST API, payload 1.0"
		if p.API.Kind == project.KindHTTP {
			kind = "HTTP API, payload 2.0"
		}
		fmt.Fprintf(w, "Serving on http://%s (%s; also under the stage prefix, as in the cloud: http://%s/%s/)\n", addr, kind, addr, p.API.Stage)
	}
	if a.Lambda != "" {
		fmt.Fprintf(w, "Lambda Invoke API on http://%s (aws lambda invoke --endpoint-url http://%s ...)\n", a.Lambda, a.Lambda)
	}
	if a.Inspector != "" {
		fmt.Fprintf(w, "Inspector on http://%s\n", a.Inspector)
	}
	for _, f := range p.Functions {
		if f.URL != nil {
			fmt.Fprintf(w, "Function URL of %s: http://%s%s%s/ (auth %s)\n", f.Name, addr, apigateway.URLPrefix, f.Name, f.URL.Auth)
		}
	}
	printRoutes(w, p)
}
