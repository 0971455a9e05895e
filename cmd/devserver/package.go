package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/devserver/devserver/emulator/console"
	"github.com/devserver/devserver/packager"
	"github.com/devserver/devserver/template"
)

func newPackageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "package OUT",
		Short: "Build deployment.zip and a SAM template (sam.json) into OUT",
		Long: `Builds every function for Lambda (linux, provided.al2023, bootstrap), zips each reproducibly
into OUT/deployment.zip (OUT/<Function>.zip when there are several), and writes OUT/sam.json,
a SAM template of the same routes that run serves. Deploy it with:

  aws cloudformation package --template-file OUT/sam.json --s3-bucket BUCKET --output-template-file OUT/packaged.yaml
  aws cloudformation deploy --template-file OUT/packaged.yaml --stack-name STACK --capabilities CAPABILITY_IAM

OUT must be missing, empty, or an earlier output of package: nothing else is ever overwritten.`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return fmt.Errorf("package: OUT is missing: name the folder to write into\nusage: %s", cmd.UseLine())
			case len(args) > 1:
				return fmt.Errorf("package: one OUT folder, not %d (%s)\nusage: %s", len(args), strings.Join(args, " "), cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, p, err := loadProject(cmd)
			if err != nil {
				return err
			}
			printWarnings(cmd.ErrOrStderr(), p)
			// On a terminal, a live line while the functions build.
			var progress packager.Progress // nil: a plain line per build, in Log
			if f, ok := cmd.OutOrStdout().(*os.File); ok && console.IsTerminal(f) {
				term := console.NewTerminal(f)
				live := console.NewProgress(term, f)
				defer live.Settle()
				progress = live
			}
			res, err := packager.Package(cmd.Context(), p, packager.Options{
				Out:           args[0],
				Arch:          s.v.GetString("arch"),
				Format:        s.v.GetString("template-format"),
				MergeTemplate: s.v.GetString("merge-template"),
				Log:           cmd.OutOrStdout(),
				Progress:      progress,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "packaged %d function(s); template %s\n", len(res.Zips), res.Template)
			return nil
		},
	}
	projectFlags(cmd)
	f := cmd.Flags()
	f.String("arch", "", "architecture for every function: x86_64 or arm64 (default: each function's, else x86_64)")
	f.String("template-format", template.FormatJSON, "json (sam.json) or yaml (sam.yaml)")
	f.String("merge-template", "", "JSON or YAML file deep-merged over the generated template")
	return cmd
}
