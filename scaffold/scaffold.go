// Package scaffold writes a new devserver project (`devserver new`): config.yaml, a function that
// answers GET /hello/{name}, its unit test, go.mod and go.sum, a README and a .gitignore, ready to
// test, run and package without the network. It never writes over anything.
package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"go/format"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/devserver/devserver/project"
)

// LambdaVersion is the aws-lambda-go the project requires: the one devserver is built with (a
// test checks it against devserver's go.mod), so that a module cache that built devserver builds
// the project too.
const LambdaVersion = "v1.55.1"

// lambdaSums are go.sum's lines for LambdaVersion: all that building and testing the project
// needs, since it imports nothing else from outside the standard library. A test checks them
// against devserver's go.sum.
const lambdaSums = `github.com/aws/aws-lambda-go v1.55.1 h1:We2cCp4BwqqH/JW+bEEo1FhgG71rslvjfi4y7KmlrR0=
github.com/aws/aws-lambda-go v1.55.1/go.mod h1:V+NzkHNR6vBC8C1PDloqSLE+7jYWFiPvJJFiCiTm8nE=
`

// GoVersion is the project's go line: the least LambdaVersion accepts, and devserver's own.
const GoVersion = "1.26"

//go:embed files
var files embed.FS

// outputs maps each template to the file it becomes in the project.
func outputs() map[string]string {
	return map[string]string{
		"README.md.tmpl":    "README.md",
		"config.yaml.tmpl":  project.DefaultConfig,
		"gitignore.tmpl":    ".gitignore",
		"go.mod.tmpl":       "go.mod",
		"main.go.tmpl":      filepath.Join("hello", "main.go"),
		"main_test.go.tmpl": filepath.Join("hello", "main_test.go"),
	}
}

// Options describe the project to write.
type Options struct {
	// Dir is the project's folder: created when missing; otherwise it must be empty, or hold
	// nothing but .git (a repository just made for it).
	Dir string
	// Kind is project.KindREST (payload 1.0) or project.KindHTTP (payload 2.0).
	Kind string
	// Module is the go.mod module path; "" means example.com/<app name in lower case>.
	Module string
}

// Result is what Write wrote.
type Result struct {
	// Dir is the project's absolute folder.
	Dir     string
	AppName string
	Module  string
	// Files are the paths written, relative to Dir, sorted.
	Files []string
}

// ErrNotEmpty is a Dir that already holds something.
var ErrNotEmpty = errors.New("folder is not empty")

// Write writes a new project into opts.Dir. It writes nothing at all unless every file can be
// written, and never replaces a file: when it fails part way, it removes what it wrote.
func Write(opts Options) (*Result, error) {
	kind := opts.Kind
	if kind == "" {
		kind = project.KindREST
	}
	data, ok := kindData(kind)
	if !ok {
		return nil, fmt.Errorf("create project: kind %q: want %s or %s", opts.Kind, project.KindREST, project.KindHTTP)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("create project: resolve %s: %w", opts.Dir, err)
	}
	data.Kind, data.GoVersion, data.LambdaVersion = kind, GoVersion, LambdaVersion
	data.AppName = AppName(filepath.Base(dir))
	data.Module = opts.Module
	if data.Module == "" {
		data.Module = "example.com/" + strings.ToLower(data.AppName)
	}
	if err := checkModule(data.Module); err != nil {
		return nil, fmt.Errorf("create project: module path %q: %w", data.Module, err)
	}
	out, err := render(data)
	if err != nil {
		return nil, err
	}
	created, err := claim(dir)
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: dir, AppName: data.AppName, Module: data.Module}
	for _, name := range slices.Sorted(maps.Keys(out)) {
		if err := create(dir, name, out[name]); err != nil {
			undo(dir, res.Files, created)
			return nil, err
		}
		res.Files = append(res.Files, name)
	}
	return res, nil
}

// templateData is what the templates are filled with.
type templateData struct {
	AppName, Module, Kind, GoVersion, LambdaVersion string
	// KindName, Payload, Request and Response describe the API kind's events.
	KindName, Payload, Request, Response string
}

// kindData is what differs between the API kinds.
func kindData(kind string) (templateData, bool) {
	switch kind {
	case project.KindREST:
		return templateData{KindName: "REST API", Payload: "1.0", Request: "APIGatewayProxyRequest", Response: "APIGatewayProxyResponse"}, true
	case project.KindHTTP:
		return templateData{KindName: "HTTP API", Payload: "2.0", Request: "APIGatewayV2HTTPRequest", Response: "APIGatewayV2HTTPResponse"}, true
	}
	return templateData{}, false
}

// render fills every template; Go files come out gofmt'ed.
func render(data templateData) (map[string][]byte, error) {
	out := map[string][]byte{"go.sum": []byte(lambdaSums)}
	for tmpl, name := range outputs() {
		src, err := fs.ReadFile(files, "files/"+tmpl)
		if err != nil {
			return nil, fmt.Errorf("read template %s: %w", tmpl, err)
		}
		t, err := template.New(tmpl).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", tmpl, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("fill template %s: %w", tmpl, err)
		}
		content := b.Bytes()
		if strings.HasSuffix(name, ".go") {
			if content, err = format.Source(content); err != nil {
				return nil, fmt.Errorf("format %s: %w", name, err)
			}
		}
		out[name] = content
	}
	return out, nil
}

// claim makes sure dir can take the project: it creates a missing dir (reporting so), and
// refuses a file or a folder that holds anything but .git.
func claim(dir string) (created bool, err error) {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("create project: create %s: %w", dir, err)
		}
		return true, nil
	case err != nil:
		if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
			return false, fmt.Errorf("create project: %s is a file, not a folder", dir)
		}
		return false, fmt.Errorf("create project: read %s: %w", dir, err)
	}
	var names []string
	for _, e := range ents {
		if e.Name() != ".git" {
			names = append(names, e.Name())
		}
	}
	if len(names) > 0 {
		if len(names) > 3 {
			names = append(names[:3], "…")
		}
		return false, fmt.Errorf("create project: %s holds %s: %w (choose a new or empty one; nothing was written)", dir, strings.Join(names, ", "), ErrNotEmpty)
	}
	return false, nil
}

// create writes one new file; O_EXCL makes sure nothing that appeared meanwhile is replaced.
func create(dir, name string, content []byte) error {
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create project: create %s: %w", filepath.Dir(p), err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create project: create %s: %w", p, err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		os.Remove(p)
		return fmt.Errorf("create project: write %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(p)
		return fmt.Errorf("create project: write %s: %w", p, err)
	}
	return nil
}

// undo removes the files Write wrote, the folders it made for them, and dir if Write created it.
func undo(dir string, written []string, created bool) {
	for _, name := range written {
		os.Remove(filepath.Join(dir, name))
	}
	os.Remove(filepath.Join(dir, "hello")) // only if empty
	if created {
		os.Remove(dir)
	}
}

var notAppName = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// AppName makes a folder's name an app_name config.yaml accepts (letters, digits and -, starting
// with a letter or digit): "my_api" → "my-api"; "app" when nothing is left.
func AppName(base string) string {
	name := strings.Trim(notAppName.ReplaceAllString(base, "-"), "-")
	if name == "" {
		return "app"
	}
	return name
}

var modulePath = regexp.MustCompile(`^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$`)

// checkModule refuses what the go command would refuse as a module path, in its common forms.
func checkModule(m string) error {
	if !modulePath.MatchString(m) {
		return errors.New("a module path is letters, digits and . _ ~ - in /-separated elements")
	}
	for _, elem := range strings.Split(m, "/") {
		if strings.Trim(elem, ".") == "" || strings.HasPrefix(elem, ".") || strings.HasSuffix(elem, ".") {
			return fmt.Errorf("element %q starts or ends with a dot", elem)
		}
	}
	return nil
}
