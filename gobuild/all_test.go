package gobuild

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// wordMain is a main package that prints lib.Word and word.
func wordMain(word string) string {
	return "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/lib\"\n)\n\nfunc main() { fmt.Println(lib.Word, \"" + word + "\") }\n"
}

const (
	libGood   = "package lib\n\nconst Word = \"hi\"\n"
	brokenLib = "package lib\n\nconst Word = missing\n"
	// brokenMain fails at main.go:3:15.
	brokenMain = "package main\n\nfunc main() { undefinedThing() }\n"
)

// events records what BuildAll reports, per job.
type events map[string][]Event

func (e events) record(name string, ev Event) { e[name] = append(e[name], ev) }

func (e events) kinds(name string) []EventKind {
	var kinds []EventKind
	for _, ev := range e[name] {
		kinds = append(kinds, ev.Kind)
	}
	return kinds
}

// jobs makes one host job per name → package, each writing out/<name>/bootstrap.
func jobs(dir, out string, pkgs ...string) []Job {
	var js []Job
	for i := 0; i+1 < len(pkgs); i += 2 {
		js = append(js, Job{Name: pkgs[i], Options: Options{Dir: dir, Package: pkgs[i+1], Output: filepath.Join(out, pkgs[i], "bootstrap")}})
	}
	return js
}

// runBinary runs bin and returns what it printed.
func runBinary(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Errorf("run %s: %v\n%s", bin, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestBuildAll builds three main packages, two of them with the same folder name (so the same
// binary name under `go build -o DIR/`), and a fourth job of an already listed package: every
// binary is the right program, and the jobs whose names differ share one go command.
func TestBuildAll(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"lib/lib.go":    libGood,
		"a/fn/main.go":  wordMain("a"),
		"b/fn/main.go":  wordMain("b"),
		"c/main.go":     wordMain("c"),
		"lib/x_test.go": "package lib\n",
	})
	out := t.TempDir()
	ev := events{}
	res := BuildAll(t.Context(), BuildAllOptions{
		Jobs:     jobs(dir, out, "A", "a/fn", "B", "./b/fn", "C", "./c", "C2", filepath.Join(dir, "c")),
		Progress: ev.record,
	})
	want := map[string]struct {
		prints   string
		together int
	}{
		"A":  {"hi a", 3},
		"B":  {"hi b", 1}, // its own go command: its binary would be named fn too
		"C":  {"hi c", 3},
		"C2": {"hi c", 3},
	}
	if len(res) != len(want) {
		t.Fatalf("%d results for %d jobs", len(res), len(want))
	}
	for _, r := range res {
		w := want[r.Name]
		if r.Err != nil {
			t.Errorf("%s: %v", r.Name, r.Err)
			continue
		}
		if got := runBinary(t, filepath.Join(out, r.Name, "bootstrap")); got != w.prints {
			t.Errorf("%s's binary prints %q, want %q", r.Name, got, w.prints)
		}
		if k := ev.kinds(r.Name); !slices.Equal(k, []EventKind{Started, Built}) {
			t.Errorf("%s's events = %v, want [started built]", r.Name, k)
			continue
		}
		if got := ev[r.Name][1].Together; got != w.together {
			t.Errorf("%s was built with %d jobs in one go command, want %d", r.Name, got, w.together)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(out, "*", ".gobuild-*")); len(left) > 0 {
		t.Errorf("temporary folders left: %v", left)
	}
}

// TestBuildAllAttributesErrors breaks one function, a package they share, or a function's imports:
// each failed job's *Error holds its own compiler output alone, and the others are built.
func TestBuildAllAttributesErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		jobs  []string
		// want maps each job that fails to a line of its output; the others must build.
		want map[string]string
	}{
		{
			name:  "one function does not compile",
			files: map[string]string{"lib/lib.go": libGood, "a/main.go": wordMain("a"), "b/main.go": brokenMain, "c/main.go": wordMain("c")},
			jobs:  []string{"A", "./a", "B", "./b", "C", "./c"},
			want:  map[string]string{"B": "b/main.go:3:15: undefined: undefinedThing"},
		},
		{
			name:  "a shared package does not compile",
			files: map[string]string{"lib/lib.go": brokenLib, "a/main.go": wordMain("a"), "b/main.go": wordMain("b"), "c/main.go": brokenMain},
			jobs:  []string{"A", "./a", "B", "./b", "C", "./c"},
			want: map[string]string{
				"A": "lib/lib.go:3:14: undefined: missing",
				"B": "lib/lib.go:3:14: undefined: missing",
				"C": "c/main.go:3:15: undefined: undefinedThing",
			},
		},
		{
			name: "one function imports a package that does not exist",
			files: map[string]string{"lib/lib.go": libGood, "a/main.go": wordMain("a"), "c/main.go": wordMain("c"),
				"b/main.go": "package main\n\nimport \"example.com/m/nope\"\n\nfunc main() { nope.X() }\n"},
			jobs: []string{"A", "./a", "B", "./b", "C", "./c"},
			want: map[string]string{"B": "b/main.go:3:8: no required module provides package example.com/m/nope"},
		},
		{
			name:  "one function's folder does not exist",
			files: map[string]string{"lib/lib.go": libGood, "a/main.go": wordMain("a"), "c/main.go": wordMain("c")},
			jobs:  []string{"A", "./a", "B", "./b", "C", "./c"},
			want:  map[string]string{"B": "directory not found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeModule(t, tt.files)
			out := t.TempDir()
			ev := events{}
			res := BuildAll(t.Context(), BuildAllOptions{Jobs: jobs(dir, out, tt.jobs...), Progress: ev.record})
			for _, r := range res {
				line, fails := tt.want[r.Name]
				if !fails {
					if r.Err != nil {
						t.Errorf("%s: %v", r.Name, r.Err)
					} else if got, want := runBinary(t, filepath.Join(out, r.Name, "bootstrap")), "hi "+strings.ToLower(r.Name); got != want {
						t.Errorf("%s's binary prints %q, want %q", r.Name, got, want)
					}
					continue
				}
				var berr *Error
				if !errors.As(r.Err, &berr) {
					t.Errorf("%s: err = %v, want a *gobuild.Error", r.Name, r.Err)
					continue
				}
				if !strings.Contains(berr.Output, line) {
					t.Errorf("%s's compiler output lacks %q:\n%s", r.Name, line, berr.Output)
				}
				if other := othersNamed(berr.Output, r.Name, tt.want); other != "" {
					t.Errorf("%s's compiler output names %s, whose output is not its own:\n%s", r.Name, other, berr.Output)
				}
				if k := ev.kinds(r.Name); !slices.Equal(k, []EventKind{Started, Failed}) || ev[r.Name][1].Err != r.Err {
					t.Errorf("%s's events = %v, want [started failed] with its error", r.Name, k)
				}
				if _, err := os.Stat(filepath.Join(out, r.Name, "bootstrap")); err == nil {
					t.Errorf("%s failed but has a binary", r.Name)
				}
			}
		})
	}
}

// othersNamed returns the first line of output that points into another job's folder ("c/main.go:…").
func othersNamed(output, name string, jobs map[string]string) string {
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		for other := range jobs {
			if other != name && strings.HasPrefix(sc.Text(), strings.ToLower(other)+"/") {
				return sc.Text()
			}
		}
	}
	return ""
}

// TestBuildAllLambda builds aws-lambda-go functions for Lambda on both architectures: each binary
// is for its machine, and byte for byte what Build makes of the same function alone.
func TestBuildAllLambda(t *testing.T) {
	dir := lambdaModule(t, "alpha", "beta", "gamma")
	out := t.TempDir()
	arch := map[string]string{"alpha": "arm64", "beta": "amd64", "gamma": "amd64"}
	var js []Job
	for _, name := range []string{"alpha", "beta", "gamma"} {
		js = append(js, Job{Name: name, Options: Options{
			Dir: dir, Package: "./" + name, Output: filepath.Join(out, name, "bootstrap"),
			GOOS: "linux", GOARCH: arch[name], Lambda: true,
		}})
	}
	for _, r := range BuildAll(t.Context(), BuildAllOptions{Jobs: js}) {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Name, r.Err)
		}
	}
	machine := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}
	for _, j := range js {
		f, err := elf.Open(j.Output)
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != machine[j.GOARCH] {
			t.Errorf("%s is for %v, want %v", j.Name, f.Machine, machine[j.GOARCH])
		}
		f.Close()
	}
	for _, name := range []string{"alpha", "beta"} {
		alone := js[slices.IndexFunc(js, func(j Job) bool { return j.Name == name })].Options
		alone.Output = filepath.Join(t.TempDir(), "bootstrap")
		if err := Build(t.Context(), alone); err != nil {
			t.Fatal(err)
		}
		if a, b := readFile(t, alone.Output), readFile(t, filepath.Join(out, name, "bootstrap")); !bytes.Equal(a, b) {
			t.Errorf("%s: BuildAll's binary (%d bytes) differs from Build's (%d bytes)", name, len(b), len(a))
		}
	}
}

// lambdaModule writes a module whose functions call lambda.Start and share a local package,
// requiring aws-lambda-go at the version devserver's own go.mod pins (its go.sum vouches for it).
func lambdaModule(t *testing.T, names ...string) string {
	t.Helper()
	gomod := string(readFile(t, "../go.mod"))
	var require string
	for line := range strings.Lines(gomod) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/aws/aws-lambda-go" {
			require = "require " + f[0] + " " + f[1] + "\n"
		}
	}
	if require == "" {
		t.Fatal("../go.mod does not require github.com/aws/aws-lambda-go")
	}
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.26\n\n" + require,
		"go.sum": string(readFile(t, "../go.sum")),
		"reply/reply.go": "package reply\n\nimport \"github.com/aws/aws-lambda-go/events\"\n\n" +
			"func Hello(who string) events.APIGatewayProxyResponse {\n\treturn events.APIGatewayProxyResponse{StatusCode: 200, Body: \"hello \" + who}\n}\n",
	}
	for _, name := range names {
		files[name+"/main.go"] = "package main\n\nimport (\n\t\"context\"\n\n\t\"github.com/aws/aws-lambda-go/events\"\n\t\"github.com/aws/aws-lambda-go/lambda\"\n\n\t\"example.com/m/reply\"\n)\n\n" +
			"func main() {\n\tlambda.Start(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {\n\t\treturn reply.Hello(\"" + name + "\"), nil\n\t})\n}\n"
	}
	return writeModule(t, files)
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBuildAllDebug: a debug job does not share a go command with the others, so each binary
// has its own flags (read back from the binary).
func TestBuildAllDebug(t *testing.T) {
	dir := writeModule(t, map[string]string{"lib/lib.go": libGood, "a/main.go": wordMain("a"), "d/main.go": wordMain("d")})
	out := t.TempDir()
	js := jobs(dir, out, "A", "./a", "D", "./d")
	js[1].Debug = true
	ev := events{}
	for _, r := range BuildAll(t.Context(), BuildAllOptions{Jobs: js, Progress: ev.record}) {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Name, r.Err)
		}
	}
	for _, j := range js {
		info, err := buildinfo.ReadFile(j.Output)
		if err != nil {
			t.Fatal(err)
		}
		var gcflags string
		for _, s := range info.Settings {
			if s.Key == "-gcflags" {
				gcflags = s.Value
			}
		}
		if want := map[bool]string{true: "all=-N -l"}[j.Debug]; gcflags != want {
			t.Errorf("%s was built with -gcflags %q, want %q", j.Name, gcflags, want)
		}
		if n := len(ev[j.Name]); n != 2 || ev[j.Name][1].Together != 1 {
			t.Errorf("%s's events = %+v, want it built alone", j.Name, ev[j.Name])
		}
	}
}
