package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/devserver/devserver/project"
)

// settings are the command line's values after flags, DEVSERVER_* variables and defaults.
type settings struct {
	v *viper.Viper
}

func newSettings(cmd *cobra.Command) (settings, error) {
	v := viper.New()
	v.SetEnvPrefix("DEVSERVER")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		return settings{}, fmt.Errorf("bind flags: %w", err)
	}
	return settings{v: v}, nil
}

// loadProject reads the command's settings and the route model they point at.
func loadProject(cmd *cobra.Command) (settings, *project.Project, error) {
	s, err := newSettings(cmd)
	if err != nil {
		return settings{}, nil, err
	}
	p, err := project.Load(s.options())
	return s, p, err
}

func (s settings) options() project.Options {
	return project.Options{
		Dir:    s.v.GetString("project-dir"),
		Config: s.v.GetString("config"),
		Stage:  s.v.GetString("stage"),
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "devserver",
		Short:         "Run Go Lambda functions behind a local API Gateway, and package them for AWS",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newRoutesCmd(), newPackageCmd(), newGenerateEventCmd())
	return root
}

// projectFlags are the flags every command that reads the config has.
func projectFlags(cmd *cobra.Command) {
	cmd.Flags().String("project-dir", ".", "project root (where config.yaml and go.mod are)")
	cmd.Flags().String("config", project.DefaultConfig, "config file, relative to the project root")
	cmd.Flags().String("stage", "", "named stage from config.yaml to apply")
}

func newRoutesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "routes",
		Short: "Print the route table (method, path, function)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, p, err := loadProject(cmd)
			if err != nil {
				return err
			}
			printRoutes(cmd.OutOrStdout(), p)
			return nil
		},
	}
	projectFlags(cmd)
	return cmd
}

func printRoutes(w io.Writer, p *project.Project) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tPATH\tFUNCTION")
	for _, r := range p.Routes {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Method, r.Path, r.Function)
	}
	tw.Flush()
}

func newLogger(w io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000"))
		}
		return a
	}}))
}
