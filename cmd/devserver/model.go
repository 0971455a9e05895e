package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/project"
	"github.com/devserver/devserver/template"
)

// templateFlags are the flags of the commands that can serve a SAM template instead of
// config.yaml.
func templateFlags(cmd *cobra.Command) {
	cmd.Flags().String("template", "", "serve this SAM template (template.yaml, or package's sam.json) instead of config.yaml")
	cmd.Flags().StringSlice("parameter-overrides", nil, "template parameters, Key=Value (repeat the flag, or separate with commas or spaces)")
}

// source is where the command's route model comes from: config.yaml, or the SAM template that
// --template names.
func (s settings) source() (emulator.Source, error) {
	file := s.v.GetString("template")
	if file == "" {
		opts := s.options()
		return emulator.SourceFunc(func() (*project.Project, error) { return project.Load(opts) }), nil
	}
	if s.v.GetString("stage") != "" {
		return nil, fmt.Errorf("--stage applies to config.yaml; a template's variants are its parameters (--parameter-overrides)")
	}
	overrides := map[string]string{}
	for _, item := range s.v.GetStringSlice("parameter-overrides") {
		for _, kv := range strings.Fields(item) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("--parameter-overrides %q: want Key=Value", kv)
			}
			overrides[k] = v
		}
	}
	dir := s.v.GetString("project-dir")
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("resolve template: %w", err)
	}
	return templateSource{file: abs, opts: template.ReadOptions{ParameterOverrides: overrides, DisplayName: displayName(abs)}}, nil
}

// templateSource reads the model from a SAM template.
type templateSource struct {
	file string
	opts template.ReadOptions
}

func (t templateSource) Load() (*project.Project, error) {
	p, _, err := template.Read(t.file, t.opts) // the warnings are p.Warnings too
	return p, err
}

// Files are the template and the zips or folders its prebuilt functions come from.
func (t templateSource) Files(p *project.Project) []string {
	files := []string{p.ConfigFile}
	for _, f := range p.Functions {
		if f.PrebuiltFrom != "" {
			files = append(files, f.PrebuiltFrom)
		}
	}
	return files
}

// displayName is how messages name a file: relative to the working folder when inside it.
func displayName(file string) string {
	if rel, err := filepath.Rel(".", file); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	if wd, err := filepath.Abs("."); err == nil {
		if rel, err := filepath.Rel(wd, file); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return file
}
