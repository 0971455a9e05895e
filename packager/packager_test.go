package packager

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devserver/devserver/gobuild"
	"github.com/devserver/devserver/project"
)

// TestPackageIsReproducible packages the sample twice into different folders: an unchanged
// redeploy is a no-op only if the zip is byte-identical (aws cloudformation package keys it by md5).
func TestPackageIsReproducible(t *testing.T) {
	t.Parallel()
	p := load(t, "..", "config.yaml")
	var sums [2]string
	var templates [2][]byte
	for i := range sums {
		out := filepath.Join(t.TempDir(), "out")
		var log bytes.Buffer
		res := pkg(t, p, Options{Out: out, Log: &log})
		if len(res.Zips) != 1 || res.Zips[0].Path != filepath.Join(out, DefaultZip) {
			t.Fatalf("Zips = %+v, want one %s", res.Zips, DefaultZip)
		}
		sums[i] = sha256File(t, res.Zips[0].Path)
		if res.Zips[0].SHA256 != sums[i] {
			t.Errorf("Result says sha256 %s, the file has %s", res.Zips[0].SHA256, sums[i])
		}
		if st, _ := os.Stat(res.Zips[0].Path); st.Size() != res.Zips[0].Size {
			t.Errorf("Result says %d bytes, the file has %d", res.Zips[0].Size, st.Size())
		}
		templates[i] = readFile(t, res.Template)
		for _, want := range []string{"build APIHandler (./sample) for linux/amd64", "wrote " + res.Zips[0].Path + " (", "wrote " + res.Template + " ("} {
			if !strings.Contains(log.String(), want) {
				t.Errorf("log does not mention %q:\n%s", want, log.String())
			}
		}
		t.Logf("%s: %d bytes, sha256 %s", res.Zips[0].Path, res.Zips[0].Size, sums[i])
	}
	if sums[0] != sums[1] {
		t.Errorf("two packages of the same sources differ: sha256 %s and %s", sums[0], sums[1])
	}
	if !bytes.Equal(templates[0], templates[1]) {
		t.Errorf("two packages of the same sources wrote different templates")
	}
}

// TestZipHoldsStaticLinuxBootstrap checks what Lambda needs (FIDELITY §5): an executable named
// bootstrap at the zip root, mode 0755 recorded for Unix, a static Linux ELF for the architecture.
func TestZipHoldsStaticLinuxBootstrap(t *testing.T) {
	tests := []struct {
		arch     string
		samArch  string
		machine  elf.Machine
		template string
	}{
		{arch: "", samArch: "x86_64", machine: elf.EM_X86_64},
		{arch: "arm64", samArch: "arm64", machine: elf.EM_AARCH64},
	}
	t.Parallel()
	p := load(t, "..", "config.yaml")
	for _, tc := range tests {
		t.Run("arch="+tc.arch, func(t *testing.T) {
			t.Parallel()
			res := pkg(t, p, Options{Out: t.TempDir(), Arch: tc.arch})
			if got := res.Zips[0].Architecture; got != tc.samArch {
				t.Errorf("Zip.Architecture = %q, want %q", got, tc.samArch)
			}
			checkBootstrap(t, res.Zips[0].Path, tc.machine, zipEpoch())
			tmpl := readTemplate(t, res.Template)
			if got := tmpl.Resources["APIHandler"].Properties.Architectures; !slices.Equal(got, []string{tc.samArch}) {
				t.Errorf("template Architectures = %v, want [%s]", got, tc.samArch)
			}
			if got := tmpl.Resources["APIHandler"].Properties.CodeUri; got != "./deployment.zip" {
				t.Errorf("template CodeUri = %q, want ./deployment.zip", got)
			}
		})
	}
}

func TestPackageSeveralFunctions(t *testing.T) {
	t.Parallel()
	p := load(t, "testdata/multi", "config.yaml")
	out := t.TempDir()
	res := pkg(t, p, Options{Out: out})
	tmpl := readTemplate(t, res.Template)
	want := []struct {
		function string
		machine  elf.Machine
	}{
		{"Alpha", elf.EM_AARCH64}, // architecture: arm64 in the config
		{"Beta", elf.EM_X86_64},   // the default
	}
	if len(res.Zips) != len(want) {
		t.Fatalf("Zips = %+v, want %d", res.Zips, len(want))
	}
	for i, w := range want {
		z := res.Zips[i]
		if z.Function != w.function || z.Path != filepath.Join(out, w.function+".zip") {
			t.Errorf("Zips[%d] = %s at %s, want %s at %s.zip", i, z.Function, z.Path, w.function, w.function)
		}
		checkBootstrap(t, z.Path, w.machine, zipEpoch())
		if got := tmpl.Resources[w.function].Properties.CodeUri; got != "./"+w.function+".zip" {
			t.Errorf("%s CodeUri = %q, want ./%s.zip", w.function, got, w.function)
		}
	}
	if _, err := os.Stat(filepath.Join(out, DefaultZip)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s written for a project of several functions (stat: %v)", DefaultZip, err)
	}
}

func TestSourceDateEpochStampsEntries(t *testing.T) {
	p := load(t, "..", "config.yaml")
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	res := pkg(t, p, Options{Out: t.TempDir()})
	checkBootstrap(t, res.Zips[0].Path, elf.EM_X86_64, time.Unix(1700000000, 0))

	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	_, err := Package(context.Background(), p, Options{Out: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("Package with a bad SOURCE_DATE_EPOCH: error = %v, want one naming it", err)
	}
}

func TestZipTime(t *testing.T) {
	tests := []struct {
		env     string
		want    time.Time
		wantErr bool
	}{
		{env: "", want: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)},
		{env: "0", want: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}, // before zips could record
		{env: "1700000000", want: time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)},
		{env: "-5", want: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)},
		{env: "4500000000", wantErr: true}, // 2112
		{env: "1.5", wantErr: true},
	}
	for _, tc := range tests {
		got, err := zipTime(tc.env)
		if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
			t.Errorf("zipTime(%q) = %v, %v; want %v (error: %v)", tc.env, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestWriteZipIsCanonical checks the zip layout itself, without a build: entries sorted whatever
// the order given, and the same bytes from files with other modes and times on disk.
func TestWriteZipIsCanonical(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode, mtime time.Time) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return path
	}
	now := time.Now()
	a1 := write("a1", "alpha", 0o600, now)
	b1 := write("b1", "bravo", 0o777, now)
	a2 := write("a2", "alpha", 0o644, now.Add(-48*time.Hour))
	b2 := write("b2", "bravo", 0o700, now.Add(-48*time.Hour))

	var z1, z2 bytes.Buffer
	if err := writeZip(&z1, []zipEntry{{"z/b", b1, 0o644}, {"bootstrap", a1, 0o755}, {"a", b1, 0o644}}, zipEpoch()); err != nil {
		t.Fatal(err)
	}
	if err := writeZip(&z2, []zipEntry{{"a", b2, 0o644}, {"z/b", b2, 0o644}, {"bootstrap", a2, 0o755}}, zipEpoch()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(z1.Bytes(), z2.Bytes()) {
		t.Fatal("the same contents in another order, with other modes and times on disk, gave another zip")
	}
	r, err := zip.NewReader(bytes.NewReader(z1.Bytes()), int64(z1.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
		if f.Method != zip.Deflate {
			t.Errorf("%s: method %d, want Deflate", f.Name, f.Method)
		}
	}
	if want := []string{"a", "bootstrap", "z/b"}; !slices.Equal(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
}

func TestOutputFolder(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, out string)
		wantErr string
		// previous is what the earlier run's marker lists; kept must survive untouched, gone must go.
		previous, kept, gone []string
	}{
		{name: "missing folder is created", setup: func(t *testing.T, out string) {}},
		{name: "empty folder", setup: func(t *testing.T, out string) { mkdir(t, out) }},
		{
			name: "folder with someone's files",
			setup: func(t *testing.T, out string) {
				mkdir(t, out)
				writeTestFile(t, filepath.Join(out, "notes.txt"), "mine")
			},
			wantErr: "not written by devserver package",
			kept:    []string{"notes.txt"},
		},
		{
			name:    "a file",
			setup:   func(t *testing.T, out string) { writeTestFile(t, out, "mine") },
			wantErr: "is a file, not a folder",
		},
		{
			name: "earlier package output",
			setup: func(t *testing.T, out string) {
				mkdir(t, out)
				// A run with another function and YAML; since then the user added a file. The
				// marker's "../escape.txt" must not reach outside the folder.
				writeTestFile(t, filepath.Join(out, Marker), markerHeader+"Old.zip\nsam.yaml\ndeployment.zip\n../escape.txt\n")
				writeTestFile(t, filepath.Join(out, "Old.zip"), "old")
				writeTestFile(t, filepath.Join(out, "sam.yaml"), "old")
				writeTestFile(t, filepath.Join(out, "deployment.zip"), "old")
				writeTestFile(t, filepath.Join(out, "packaged.yaml"), "the user's")
				writeTestFile(t, filepath.Join(out, "..", "escape.txt"), "outside")
			},
			previous: []string{"Old.zip", "sam.yaml", "deployment.zip"},
			kept:     []string{"packaged.yaml", "../escape.txt"},
			gone:     []string{"Old.zip", "sam.yaml"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			tc.setup(t, out)
			before := snapshot(t, out, tc.kept)
			claimed, err := claimOut(out)
			previous := claimed.previous
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("claimOut error = %v, want one containing %q", err, tc.wantErr)
				}
				if _, err := os.Stat(filepath.Join(out, Marker)); err == nil {
					t.Errorf("%s written into a folder package refused", Marker)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(previous, tc.previous) {
				t.Errorf("claimOut = %v, want %v", previous, tc.previous)
			}
			if tc.wantErr == "" {
				// What Package does once everything is written.
				writeTestFile(t, filepath.Join(out, "deployment.zip"), "new")
				writeTestFile(t, filepath.Join(out, "sam.json"), "new")
				if err := finishOut(out, previous, []string{"sam.json", "deployment.zip"}, io.Discard); err != nil {
					t.Fatal(err)
				}
				if got, want := readMarker(readFile(t, filepath.Join(out, Marker))), []string{"deployment.zip", "sam.json"}; !slices.Equal(got, want) {
					t.Errorf("marker lists %v, want %v", got, want)
				}
				if again, err := claimOut(out); err != nil || !slices.Equal(again.previous, []string{"deployment.zip", "sam.json"}) {
					t.Errorf("claimOut of our own output = %v, %v; want our two files", again, err)
				}
			}
			if got := snapshot(t, out, tc.kept); !maps.Equal(got, before) {
				t.Errorf("files changed: before %v, after %v", before, got)
			}
			for _, name := range tc.gone {
				if _, err := os.Stat(filepath.Join(out, name)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s survived (stat: %v), want it removed", name, err)
				}
			}
		})
	}
}

// TestPackageAgainIntoItsOutput packages into the same folder twice, switching to YAML with a merge
// template: the second run replaces its own files and leaves the user's alone.
func TestPackageAgainIntoItsOutput(t *testing.T) {
	t.Parallel()
	p := load(t, "..", "config.yaml")
	out := filepath.Join(t.TempDir(), "out")
	pkg(t, p, Options{Out: out})
	writeTestFile(t, filepath.Join(out, "packaged.yaml"), "the user's")

	var log bytes.Buffer
	res := pkg(t, p, Options{Out: out, Format: "yaml", MergeTemplate: "testdata/overlay.yaml", Log: &log})
	if res.Template != filepath.Join(out, "sam.yaml") {
		t.Errorf("Template = %s, want sam.yaml", res.Template)
	}
	body := string(readFile(t, res.Template))
	for _, want := range []string{"Tracing: Active", "CodeUri: ./deployment.zip", "Runtime: provided.al2023"} {
		if !strings.Contains(body, want) {
			t.Errorf("sam.yaml lacks %q:\n%s", want, body)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "sam.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the first run's sam.json survived beside sam.yaml")
	}
	if !strings.Contains(log.String(), "removed "+filepath.Join(out, "sam.json")) {
		t.Errorf("log does not say sam.json was removed:\n%s", log.String())
	}
	if got := string(readFile(t, filepath.Join(out, "packaged.yaml"))); got != "the user's" {
		t.Errorf("packaged.yaml = %q, want the user's file untouched", got)
	}
}

func TestOptionErrorsComeFirst(t *testing.T) {
	p := load(t, "..", "config.yaml")
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"missing merge template", Options{MergeTemplate: "testdata/absent.yaml"}, "testdata/absent.yaml"},
		{"invalid merge template", Options{MergeTemplate: "testdata/multi/alpha/main.go"}, "main.go:12:1: invalid YAML"},
		{"unknown format", Options{Format: "toml"}, `unknown template format "toml"`},
		{"unknown architecture", Options{Arch: "riscv64"}, `unknown "riscv64"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Out = filepath.Join(t.TempDir(), "out")
			_, err := Package(context.Background(), p, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Package error = %v, want one containing %q", err, tc.want)
			}
			// Nothing is built or written before the options are known to be good.
			if _, err := os.Stat(tc.opts.Out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output folder created although the options were wrong")
			}
		})
	}
}

func TestWithArch(t *testing.T) {
	p := &project.Project{Functions: []*project.Function{
		{Name: "A", Architecture: project.ArchARM},
		{Name: "B", Architecture: project.ArchX86},
	}}
	tests := []struct {
		arch string
		want []string
	}{
		{"", []string{"arm64", "x86_64"}},
		{"x86_64", []string{"x86_64", "x86_64"}},
		{"amd64", []string{"x86_64", "x86_64"}},
		{"arm64", []string{"arm64", "arm64"}},
	}
	for _, tc := range tests {
		q, err := withArch(p, tc.arch)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range q.Functions {
			got = append(got, f.Architecture)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("withArch(%q) = %v, want %v", tc.arch, got, tc.want)
		}
	}
	if p.Functions[0].Architecture != project.ArchARM || p.Functions[1].Architecture != project.ArchX86 {
		t.Errorf("withArch changed the project it was given")
	}
}

// TestPackageRefusesReservedFunctionNames checks that a model that did not come from config.yaml
// (which refuses these names itself) still cannot package a function over another logical id.
func TestPackageRefusesReservedFunctionNames(t *testing.T) {
	tests := []struct {
		name      string
		functions []string
		want      string
	}{
		{"REST API", []string{"RestAPI"}, "function name RestAPI is the logical id of the API"},
		{"HTTP API", []string{"HttpAPI"}, "function name HttpAPI is the logical id of the API"},
		{"another function's role", []string{"Pets", "PetsRole"}, "function name PetsRole is the logical id of the role SAM creates for Pets"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &project.Project{AppName: "app", API: project.API{Kind: project.KindREST, Stage: "api"}}
			for _, name := range tc.functions {
				p.Functions = append(p.Functions, &project.Function{Name: name, Source: "./sample", Dir: "../sample", MemoryMB: 128, TimeoutSec: 3})
			}
			out := filepath.Join(t.TempDir(), "out")
			_, err := Package(context.Background(), p, Options{Out: out})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Package error = %v, want one containing %q", err, tc.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output folder created for a model Package refuses")
			}
		})
	}
}

// TestWithArchFillsTheDefault checks a hand-built model that names no architecture is built, zipped
// and templated for project.DefaultArchitecture alike, not built for it and reported as "".
func TestWithArchFillsTheDefault(t *testing.T) {
	tests := []struct {
		arch string
		want string
	}{
		{"", project.DefaultArchitecture},
		{"arm64", project.ArchARM},
		{"amd64", project.ArchX86},
	}
	for _, tc := range tests {
		t.Run("arch="+tc.arch, func(t *testing.T) {
			p := &project.Project{Functions: []*project.Function{{Name: "A"}}}
			q, err := withArch(p, tc.arch)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Functions[0].Architecture; got != tc.want {
				t.Errorf("withArch(%q) gives architecture %q, want %q", tc.arch, got, tc.want)
			}
		})
	}
}

// TestBuildErrorCarriesCompilerOutput packages two functions, the second of which does not
// compile: the error is the compiler's, and the earlier output stays as it was, with neither the
// first function's new zip nor a temporary file beside it.
func TestBuildErrorCarriesCompilerOutput(t *testing.T) {
	t.Parallel()
	p := load(t, "testdata/broken", "config.yaml")
	out := t.TempDir()
	earlier := map[string]string{Marker: markerHeader + "Alpha.zip\nBroken.zip\nsam.json\n", "Alpha.zip": "old", "Broken.zip": "old", "sam.json": "old"}
	for name, content := range earlier {
		writeTestFile(t, filepath.Join(out, name), content)
	}
	_, err := Package(context.Background(), p, Options{Out: out})
	var be *gobuild.Error
	if !errors.As(err, &be) {
		t.Fatalf("Package error = %v, want a *gobuild.Error", err)
	}
	if !strings.Contains(be.Output, "main.go:7") || !strings.Contains(err.Error(), "package function Broken") {
		t.Errorf("error does not point at the function and the line:\n%v", err)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	now := map[string]string{}
	for _, e := range entries {
		now[e.Name()] = string(readFile(t, filepath.Join(out, e.Name())))
	}
	if !maps.Equal(now, earlier) {
		t.Errorf("a failed package changed its output folder: %v", slices.Sorted(maps.Keys(now)))
	}
}

// TestFailedFirstPackageLeavesNothing: a package that fails into a folder it created, or into an
// empty one, gives the folder back as it found it: gone, or empty (no stray marker).
func TestFailedFirstPackageLeavesNothing(t *testing.T) {
	t.Parallel()
	p := load(t, "testdata/broken", "config.yaml")
	missing := filepath.Join(t.TempDir(), "out")
	if _, err := Package(context.Background(), p, Options{Out: missing}); err == nil {
		t.Fatal("Package succeeded on a broken function")
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed package left the folder it created: %v", err)
	}
	empty := t.TempDir()
	if _, err := Package(context.Background(), p, Options{Out: empty}); err == nil {
		t.Fatal("Package succeeded on a broken function")
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("a failed package left %v in a folder that was empty", entries)
	}
}

func TestContextCancelStopsPackage(t *testing.T) {
	p := load(t, "..", "config.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Package(ctx, p, Options{Out: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Package with a cancelled context: error = %v, want context.Canceled", err)
	}
}

// BenchmarkPackage, BenchmarkLambdaGoBuild and BenchmarkPlainGoBuild compare `devserver package`
// on the sample (a Lambda build, the zip, the template) with the Lambda build alone and with a
// plain host `go build` of the same package, all with a warm build cache:
//
//	go test ./packager -run '^$' -bench . -benchtime 5x
func BenchmarkPackage(b *testing.B) {
	p, err := project.Load(project.Options{Dir: ".."})
	if err != nil {
		b.Fatal(err)
	}
	var zipSize int64
	for b.Loop() {
		res, err := Package(context.Background(), p, Options{Out: filepath.Join(b.TempDir(), "out")})
		if err != nil {
			b.Fatal(err)
		}
		zipSize = res.Zips[0].Size
	}
	b.ReportMetric(float64(zipSize), "zip-bytes")
}

func BenchmarkLambdaGoBuild(b *testing.B) {
	for b.Loop() {
		err := gobuild.Build(context.Background(), gobuild.Options{
			Dir: "..", Package: "./sample", Output: filepath.Join(b.TempDir(), "bootstrap"),
			GOOS: "linux", GOARCH: "amd64", Lambda: true,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlainGoBuild(b *testing.B) {
	for b.Loop() {
		cmd := exec.Command("go", "build", "-o", filepath.Join(b.TempDir(), "sample"), "./sample")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
	}
}

// checkBootstrap opens the zip as Lambda would and checks its only entry.
func checkBootstrap(t *testing.T, path string, machine elf.Machine, modTime time.Time) {
	t.Helper()
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.File) != 1 || r.File[0].Name != "bootstrap" {
		var names []string
		for _, f := range r.File {
			names = append(names, f.Name)
		}
		t.Fatalf("zip holds %v, want only bootstrap", names)
	}
	f := r.File[0]
	if f.CreatorVersion>>8 != 3 {
		t.Errorf("creator OS %d, want 3 (Unix), or the mode is not read", f.CreatorVersion>>8)
	}
	if f.Mode() != 0o755 {
		t.Errorf("mode %v, want -rwxr-xr-x", f.Mode())
	}
	if !f.Modified.Equal(modTime) {
		t.Errorf("modified %v, want %v", f.Modified, modTime)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("bootstrap is not an ELF file: %v", err)
	}
	if ef.Machine != machine || ef.Class != elf.ELFCLASS64 || ef.Type != elf.ET_EXEC {
		t.Errorf("bootstrap is %v %v %v, want %v ELFCLASS64 ET_EXEC", ef.Machine, ef.Class, ef.Type, machine)
	}
	for _, prog := range ef.Progs {
		// A static executable has no interpreter (dynamic loader) and no dynamic section.
		if prog.Type == elf.PT_INTERP || prog.Type == elf.PT_DYNAMIC {
			t.Errorf("bootstrap has a %v program header: not a static executable", prog.Type)
		}
	}
	// -ldflags=-s strips the symbol table.
	if s := ef.Section(".symtab"); s != nil {
		t.Errorf("bootstrap keeps its symbol table; -s was not applied")
	}
}

// samTemplate is the part of sam.json the tests read.
type samTemplate struct {
	Resources map[string]struct {
		Type       string
		Properties struct {
			CodeUri       string
			Architectures []string
		}
	}
}

func readTemplate(t *testing.T, path string) samTemplate {
	t.Helper()
	var tmpl samTemplate
	if err := json.Unmarshal(readFile(t, path), &tmpl); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return tmpl
}

func load(t testing.TB, dir, config string) *project.Project {
	t.Helper()
	p, err := project.Load(project.Options{Dir: dir, Config: config})
	if err != nil {
		t.Fatalf("load %s: %v", filepath.Join(dir, config), err)
	}
	return p
}

func pkg(t *testing.T, p *project.Project, opts Options) Result {
	t.Helper()
	res, err := Package(context.Background(), p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256(readFile(t, path))
	return hex.EncodeToString(sum[:])
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// snapshot reads the named files under dir (a missing file reads as "<missing>").
func snapshot(t *testing.T, dir string, names []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		switch {
		case errors.Is(err, os.ErrNotExist):
			out[n] = "<missing>"
		case err != nil:
			t.Fatal(err)
		default:
			out[n] = string(b)
		}
	}
	return out
}
