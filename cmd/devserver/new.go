package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/devserver/devserver/project"
	"github.com/devserver/devserver/scaffold"
)

func newNewCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "new DIR",
		Short: "Write a new project into DIR: a function, its test, config.yaml, go.mod",
		Long: `Writes a ready project into DIR (created when missing): config.yaml, a function in hello/ that
answers GET /hello/{name} with JSON, a unit test of its handler, go.mod and go.sum (requiring the
aws-lambda-go devserver is built with, so that it builds from the module cache without the
network), a README and a .gitignore. The app name is DIR's name.

DIR must be missing, empty, or hold nothing but .git: nothing is ever overwritten.`,
		Example: `  devserver new my-api
  devserver new my-api --kind http --module github.com/me/my-api`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return fmt.Errorf("new: DIR is missing: name the folder to write the project into\nusage: %s", cmd.UseLine())
			case len(args) > 1:
				return fmt.Errorf("new: one DIR, not %d (%s)\nusage: %s", len(args), strings.Join(args, " "), cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := newSettings(cmd)
			if err != nil {
				return err
			}
			res, err := scaffold.Write(scaffold.Options{Dir: args[0], Kind: s.v.GetString("kind"), Module: s.v.GetString("module")})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "created %s (app %s, module %s):\n", res.Dir, res.AppName, res.Module)
			for _, f := range res.Files {
				fmt.Fprintln(out, "  "+f)
			}
			dir := args[0]
			if wd, err := os.Getwd(); err == nil {
				if rel, err := filepath.Rel(wd, res.Dir); err == nil && !strings.HasPrefix(rel, "..") {
					dir = rel
				}
			}
			fmt.Fprintf(out, "next:\n  cd %s\n  go test ./...\n  devserver run\n  curl http://127.0.0.1:8000/hello/world\n", dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.String("kind", project.KindREST, "API kind: rest (REST API, payload 1.0) or http (HTTP API, payload 2.0)")
	f.String("module", "", "go.mod module path (default example.com/<app name in lower case>)")
	return cmd
}
