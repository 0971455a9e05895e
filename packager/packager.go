// Package packager owns `devserver package`: it builds every function of the route model for
// Lambda, zips each one byte-for-byte reproducibly, and writes the SAM template beside the zips,
// ready for `aws cloudformation package` and `aws cloudformation deploy`.
package packager

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/project"
	"github.com/devserver/devserver/template"
)

// DefaultZip is the zip of an application with a single function; with several, each function
// gets <Function>.zip.
const DefaultZip = "deployment.zip"

// Options say where and how to package.
type Options struct {
	// Out is the output folder. It must be missing, empty, or an earlier package output (see Marker).
	Out string
	// Arch overrides every function's architecture: "x86_64" (or "amd64") or "arm64".
	// "" keeps each function's configured architecture, itself project.DefaultArchitecture by default.
	Arch string
	// Format of the template: template.FormatJSON (sam.json, the default when "") or
	// template.FormatYAML (sam.yaml).
	Format string
	// MergeTemplate is a JSON or YAML template deep-merged into the generated one; "" for none.
	// A relative path is relative to the current directory.
	MergeTemplate string
	// Log receives one line per step (builds, files written, with sizes); nil discards them.
	Log io.Writer
	// Progress, when set, is told as each function's build starts and ends, instead of Log.
	Progress Progress
}

// Result says what Package wrote.
type Result struct {
	// Template is the path of the SAM template.
	Template string
	// Zips holds one zip per function, sorted by function name.
	Zips []Zip
}

// Zip is one function's deployment package.
type Zip struct {
	Function string
	// Path is the zip's path; the template's CodeUri names it relative to the template.
	Path string
	// Architecture is the SAM architecture it was built for: x86_64 or arm64.
	Architecture string
	Size         int64
	// SHA256 is the hex digest of the zip, equal between runs on the same sources and Go release.
	SHA256 string
}

// Progress shows the builds as they go (a live line on a terminal).
type Progress interface {
	Start(name, what string)
	Done(name, line string)
}

// Package builds and zips every function of p and writes the SAM template into opts.Out.
// The zips' entries are stamped with SOURCE_DATE_EPOCH when that variable is set, else 1980-01-01.
// Functions that do not compile fail Package, each with its *gobuild.Error (errors.As finds the first).
func Package(ctx context.Context, p *project.Project, opts Options) (Result, error) {
	if opts.Out == "" {
		return Result{}, errors.New("package: no output folder given")
	}
	if len(p.Functions) == 0 {
		return Result{}, errors.New("package: the project has no functions")
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	format := cmp.Or(opts.Format, template.FormatJSON)
	if format != template.FormatJSON && format != template.FormatYAML {
		return Result{}, fmt.Errorf("package: unknown template format %q (want %s or %s)", format, template.FormatJSON, template.FormatYAML)
	}
	modTime, err := zipTime(os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return Result{}, err
	}
	p, err = withArch(p, opts.Arch)
	if err != nil {
		return Result{}, err
	}
	zipNames, err := zipNames(p)
	if err != nil {
		return Result{}, err
	}

	// The template needs only the zip names, so a broken merge template fails before any build.
	codeURIs := map[string]string{}
	for name, zip := range zipNames {
		// aws cloudformation package resolves a relative CodeUri against the template's folder.
		codeURIs[name] = "./" + zip
	}
	doc, err := template.Generate(p, codeURIs)
	if err != nil {
		return Result{}, err
	}
	if opts.MergeTemplate != "" {
		if doc, err = template.Merge(doc, opts.MergeTemplate); err != nil {
			return Result{}, err
		}
	}
	samBytes, err := template.Marshal(doc, format)
	if err != nil {
		return Result{}, err
	}

	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	claimed, err := claimOut(opts.Out)
	if err != nil {
		return Result{}, err
	}
	done := false
	defer func() {
		if !done {
			claimed.release(opts.Out)
		}
	}()
	tmp, err := os.MkdirTemp("", "devserver-package-")
	if err != nil {
		return Result{}, fmt.Errorf("create build folder: %w", err)
	}
	defer os.RemoveAll(tmp)

	// Everything is staged first and renamed into place only once every function has built, so a
	// failed build leaves the previous output as it was.
	var (
		pending []staged
		lines   []string // what to log once each is in place
	)
	defer func() {
		for _, s := range pending {
			s.discard()
		}
	}()
	bins, err := build(ctx, p, tmp, log, opts.Progress)
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, f := range p.Functions {
		z, s, err := stageZip(f, bins[f.Name], opts.Out, zipNames[f.Name], modTime)
		if err != nil {
			return Result{}, fmt.Errorf("package function %s: %w", f.Name, err)
		}
		res.Zips = append(res.Zips, z)
		pending = append(pending, s)
		lines = append(lines, fmt.Sprintf("wrote %s (%s, sha256 %s)", z.Path, size(z.Size), z.SHA256[:12]))
	}
	samName := "sam." + format
	s, err := stage(opts.Out, samName, func(w io.Writer) error {
		_, err := w.Write(samBytes)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	// The template goes last, so it never names a zip that is not there yet.
	pending = append(pending, s)
	res.Template = filepath.Join(opts.Out, samName)
	lines = append(lines, fmt.Sprintf("wrote %s (%s)", res.Template, size(int64(len(samBytes)))))

	for i, s := range pending {
		if err := s.commit(); err != nil {
			return Result{}, err
		}
		fmt.Fprintln(log, lines[i])
	}

	written := []string{samName}
	for _, z := range res.Zips {
		written = append(written, filepath.Base(z.Path))
	}
	if err := finishOut(opts.Out, claimed.previous, written, log); err != nil {
		return Result{}, err
	}
	done = true
	return res, nil
}

// build builds every function for Lambda as tmp/<Function>/bootstrap and returns the binaries by
// function. The functions of one architecture share one compile of what they import. Every
// function that does not compile is in the error, each as a *gobuild.Error.
func build(ctx context.Context, p *project.Project, tmp string, log io.Writer, progress Progress) (map[string]string, error) {
	bins := map[string]string{}
	fns := map[string]*project.Function{}
	var jobs []gobuild.Job
	for _, f := range p.Functions {
		bins[f.Name] = filepath.Join(tmp, f.Name, "bootstrap")
		fns[f.Name] = f
		jobs = append(jobs, gobuild.Job{Name: f.Name, Options: gobuild.Options{
			Dir: p.Dir,
			// As written in the config, so that compiler errors name "./sample", not an absolute path.
			Package: f.Source,
			Output:  bins[f.Name],
			GOOS:    "linux",
			GOARCH:  goArch(f.Architecture),
			Lambda:  true,
		}})
	}
	results := gobuild.BuildAll(ctx, gobuild.BuildAllOptions{Jobs: jobs, Progress: func(name string, ev gobuild.Event) {
		f := fns[name]
		platform := "linux/" + goArch(f.Architecture)
		switch {
		case ev.Kind == gobuild.Started && progress != nil:
			progress.Start(name, fmt.Sprintf("building %s (%s) for %s…", f.Name, f.Source, platform))
		case ev.Kind == gobuild.Started:
			fmt.Fprintf(log, "build %s (%s) for %s\n", f.Name, f.Source, platform)
		case progress != nil && ev.Kind == gobuild.Built:
			progress.Done(name, fmt.Sprintf("built %s for %s in %s", f.Name, platform, ev.Elapsed.Round(time.Millisecond)))
		case progress != nil:
			progress.Done(name, "")
		}
	}})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("package function %s: %w", r.Name, r.Err))
		}
	}
	return bins, errors.Join(errs...)
}

// stageZip stages the zip of one function's binary as out/zipName.
func stageZip(f *project.Function, bin, out, zipName string, modTime time.Time) (Zip, staged, error) {
	h := sha256.New()
	var n int64
	s, err := stage(out, zipName, func(w io.Writer) error {
		cw := &countWriter{w: io.MultiWriter(w, h)}
		err := writeZip(cw, []zipEntry{{Name: "bootstrap", Src: bin, Mode: 0o755}}, modTime)
		n = cw.n
		return err
	})
	if err != nil {
		return Zip{}, staged{}, err
	}
	z := Zip{
		Function:     f.Name,
		Path:         filepath.Join(out, zipName),
		Architecture: f.Architecture,
		Size:         n,
		SHA256:       hex.EncodeToString(h.Sum(nil)),
	}
	return z, s, nil
}

// withArch returns a copy of p with every function's architecture set to arch or, when arch is "",
// left as configured (project.DefaultArchitecture where a hand-built model leaves it empty). The
// template and the Zips are made from the result, so both always name the binary's architecture.
func withArch(p *project.Project, arch string) (*project.Project, error) {
	switch arch {
	case project.ArchX86, "amd64":
		arch = project.ArchX86
	case "", project.ArchARM:
	default:
		return nil, fmt.Errorf("choose architecture: unknown %q (want %s or %s)", arch, project.ArchX86, project.ArchARM)
	}
	q := *p
	q.Functions = make([]*project.Function, len(p.Functions))
	for i, f := range p.Functions {
		g := *f
		g.Architecture = cmp.Or(arch, f.Architecture, project.DefaultArchitecture)
		q.Functions[i] = &g
	}
	return &q, nil
}

// goArch maps a SAM architecture to GOARCH.
func goArch(samArch string) string {
	if samArch == project.ArchARM {
		return "arm64"
	}
	return "amd64"
}

// zipNames names each function's zip: deployment.zip for a single function, <Function>.zip for several.
func zipNames(p *project.Project) (map[string]string, error) {
	names := map[string]string{}
	if len(p.Functions) == 1 {
		names[p.Functions[0].Name] = DefaultZip
		return names, nil
	}
	seen := map[string]string{}
	for _, f := range p.Functions {
		name := f.Name + ".zip"
		// On macOS and Windows "Pets.zip" and "pets.zip" are one file.
		if other, dup := seen[strings.ToLower(name)]; dup {
			return nil, fmt.Errorf("name zips: functions %s and %s would write the same zip on a case-insensitive file system; rename one", other, f.Name)
		}
		seen[strings.ToLower(name)] = f.Name
		names[f.Name] = name
	}
	return names, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// size formats a byte count for the log: "4.3 MB (4312345 bytes)".
func size(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB (%d bytes)", float64(n)/1e6, n)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB (%d bytes)", float64(n)/1e3, n)
	}
	return fmt.Sprintf("%d bytes", n)
}
