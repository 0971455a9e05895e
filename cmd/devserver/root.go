package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/devserver/devserver/project"
)

// settings are the command line's values after flags, DEVSERVER_* variables and defaults.
type settings struct {
	v     *viper.Viper
	flags *pflag.FlagSet
}

func newSettings(cmd *cobra.Command) (settings, error) {
	if err := envIntoFlags(cmd); err != nil {
		return settings{}, err
	}
	v := viper.New()
	v.SetEnvPrefix("DEVSERVER")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		return settings{}, fmt.Errorf("bind flags: %w", err)
	}
	return settings{v: v, flags: cmd.Flags()}, nil
}

// envVar is the DEVSERVER_* variable that stands for a flag.
func envVar(flag string) string {
	return "DEVSERVER_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// envIntoFlags checks each DEVSERVER_* variable as its flag would be checked, so that
// DEVSERVER_PORT=abc is refused like --port abc rather than read as 0. A flag given on the command
// line wins over its variable, as viper has it.
func envIntoFlags(cmd *cobra.Command) error {
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		val, ok := os.LookupEnv(envVar(f.Name))
		if !ok || f.Changed {
			return
		}
		if err := f.Value.Set(val); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: not a valid --%s (want %s)", envVar(f.Name), val, f.Name, f.Value.Type()))
		}
	})
	return errors.Join(errs...)
}

// port reads a port flag and checks its range; the error names the flag, or the variable that
// set it.
func (s settings) port(flag string) (int, error) {
	port := s.v.GetInt(flag)
	if port >= 0 && port <= 65535 {
		return port, nil
	}
	from := "--" + flag
	if _, ok := os.LookupEnv(envVar(flag)); ok && !s.flagChanged(flag) {
		from = envVar(flag)
	}
	return 0, fmt.Errorf("%s %d: a port is 0 to 65535 (0 picks a free one)", from, port)
}

func (s settings) flagChanged(flag string) bool {
	f := s.flags.Lookup(flag)
	return f != nil && f.Changed
}

// loadProject reads the command's settings and the route model they point at.
func loadProject(cmd *cobra.Command) (settings, *project.Project, error) {
	s, err := newSettings(cmd)
	if err != nil {
		return settings{}, nil, err
	}
	src, err := s.source()
	if err != nil {
		return s, nil, err
	}
	p, err := src.Load()
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
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newInvokeCmd(), newRoutesCmd(), newPackageCmd(), newGenerateEventCmd(), newVersionCmd())
	root.AddCommand(newNewCmd())
	root.SetFlagErrorFunc(flagError)
	return root
}

// flagError says how c is used after an unknown or malformed flag (usage is otherwise silenced,
// so that a failure at run time does not bury its error under the help text).
func flagError(c *cobra.Command, err error) error {
	return fmt.Errorf("%w\nusage: %s (see %s --help)", err, c.UseLine(), c.CommandPath())
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
			printWarnings(cmd.ErrOrStderr(), p)
			printRoutes(cmd.OutOrStdout(), p)
			return nil
		},
	}
	projectFlags(cmd)
	templateFlags(cmd)
	return cmd
}

// printWarnings prints what the model's source found odd but servable, positioned.
func printWarnings(w io.Writer, p *project.Project) {
	for _, warning := range p.Warnings {
		fmt.Fprintln(w, "warning:", warning)
	}
}

func printRoutes(w io.Writer, p *project.Project) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tPATH\tFUNCTION")
	for _, r := range p.Routes {
		fn := r.Function
		if r.PayloadFormat == project.Payload10 && p.API.Kind == project.KindHTTP {
			fn += " (payload 1.0)"
		}
		if r.Authorizer != "" {
			fn += " (authorizer " + r.Authorizer + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Method, r.Path, fn)
	}
	tw.Flush()
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000"))
		}
		return a
	}}))
}
