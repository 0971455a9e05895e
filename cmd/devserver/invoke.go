package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/emulator/invocation"
)

// Exit statuses of `devserver invoke`.
const (
	exitFunctionError = 1 // the function ran and failed
	exitUsage         = 2 // it could not run: usage, config, event, build, unknown function
)

// exitError is an error that ends devserver with its own status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error { return &exitError{exitUsage, err} }

func newInvokeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "invoke FUNCTION [--event FILE|-] [--template FILE]",
		Short: "Build one function and invoke it once: its result on stdout, its logs on stderr",
		Long: `Build FUNCTION alone for this machine, run one invocation of it on a fresh instance (a cold
start) with the event given (default {}), and print the function's result, exactly as it
returned it, on stdout; its output and the START/END/REPORT lines go to stderr.

Exit status: 0 when the function succeeded; 1 when it failed (returned an error, panicked,
crashed or timed out: stdout then holds Lambda's error document); 2 when it could not be run
(bad usage, config or event, unknown function, compile error).`,
		Example: `  devserver invoke APIHandler
  devserver invoke APIHandler --event event.json > result.json
  devserver generate-event apigateway-aws-proxy --path /pets | devserver invoke APIHandler --event -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.ExactArgs(1)(cmd, args); err != nil {
				return usageError(err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			function := args[0]
			// The model source (config.yaml, or a SAM template with --template) is chosen where
			// every command chooses it.
			s, p, err := loadProject(cmd)
			if err != nil {
				return usageError(err)
			}
			printWarnings(cmd.ErrOrStderr(), p)
			if p.Function(function) == nil {
				names := make([]string, len(p.Functions))
				for i, f := range p.Functions {
					names[i] = f.Name
				}
				return usageError(fmt.Errorf("invoke %s: no such function in %s (it has %s)", function, filepath.Base(p.ConfigFile), strings.Join(names, ", ")))
			}
			payload, err := readEvent(cmd.InOrStdin(), s.v.GetString("event"))
			if err != nil {
				return usageError(err)
			}
			out := console.NewTerminal(cmd.ErrOrStderr())
			defer out.Flush()
			resp, err := emulator.InvokeOnce(cmd.Context(), emulator.Config{
				Project:  p,
				Terminal: out,
				Log:      newLogger(out, s.v.GetBool("verbose")),
				Environ:  os.Environ(),
			}, function, invocation.Request{Payload: payload})
			out.Flush() // the logs before the result, for a terminal showing both
			if err != nil {
				return usageError(err)
			}
			if _, err := cmd.OutOrStdout().Write(resp.Payload); err != nil {
				return fmt.Errorf("write result: %w", err)
			}
			if resp.FunctionError != "" {
				return &exitError{exitFunctionError, fmt.Errorf("invoke %s: function error %s", function, resp.FunctionError)}
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError(flagError(c, err)) })
	projectFlags(cmd)
	templateFlags(cmd)
	f := cmd.Flags()
	f.String("event", "", "file holding the event (JSON); - reads it from stdin; default {}")
	f.BoolP("verbose", "v", false, "log more")
	return cmd
}

// readEvent reads the event from file ("-" is stdin; "" is the empty object) and checks it is
// JSON, as Lambda does before it invokes.
func readEvent(stdin io.Reader, file string) ([]byte, error) {
	var b []byte
	var err error
	switch file {
	case "":
		return []byte("{}"), nil
	case "-":
		b, err = io.ReadAll(stdin)
		file = "stdin"
	default:
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("read event %s: not JSON: %w", file, err)
	}
	if len(b) > invocation.MaxPayload {
		return nil, fmt.Errorf("read event %s: %d bytes is over Lambda's %d-byte payload limit", file, len(b), invocation.MaxPayload)
	}
	return b, nil
}
