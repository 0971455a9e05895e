package scaffold

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/devserver/devserver/internal/testkit"
	"github.com/devserver/devserver/project"
)

// TestGolden writes a project of each kind and compares every file with testdata/golden/<kind>/
// (go test -update rewrites them); each project is a valid config for project.Load, with the
// route and the kind asked for.
func TestGolden(t *testing.T) {
	for _, kind := range []string{project.KindREST, project.KindHTTP} {
		t.Run(kind, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my_api")
			res, err := Write(Options{Dir: dir, Kind: kind})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{".gitignore", "README.md", "config.yaml", "go.mod", "go.sum", "hello/main.go", "hello/main_test.go"}
			if strings.Join(res.Files, " ") != strings.Join(want, " ") || res.AppName != "my-api" || res.Module != "example.com/my-api" || res.Dir != dir {
				t.Errorf("Write = %+v, want my-api, example.com/my-api in %s with %v", res, dir, want)
			}
			for _, f := range res.Files {
				got, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				testkit.Golden(t, filepath.Join("testdata", "golden", kind, f), got)
			}
			p, err := project.Load(project.Options{Dir: dir})
			if err != nil {
				t.Fatalf("the generated config does not load: %v", err)
			}
			if p.AppName != "my-api" || p.API.Kind != kind || len(p.Routes) != 1 || p.Routes[0].Key() != "GET /hello/{name}" ||
				p.Function("Hello") == nil || len(p.Warnings) > 0 {
				t.Errorf("model = %+v (routes %v, warnings %v)", p, p.Routes, p.Warnings)
			}
		})
	}
}

// TestPinsMatchDevserver: the project requires the aws-lambda-go devserver is built with, with
// its go.sum lines, and a go line devserver's own satisfies, so that it builds offline from the
// module cache that built devserver.
func TestPinsMatchDevserver(t *testing.T) {
	root := testkit.RepoRoot(t)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/aws/aws-lambda-go (v\S+)`).FindSubmatch(gomod)
	if m == nil || string(m[1]) != LambdaVersion {
		t.Errorf("devserver's go.mod requires aws-lambda-go %s, scaffold.LambdaVersion is %s: make them one", m, LambdaVersion)
	}
	for _, line := range strings.Split(strings.TrimSpace(lambdaSums), "\n") {
		if !strings.Contains(string(gosum), line+"\n") {
			t.Errorf("devserver's go.sum lacks %q: copy aws-lambda-go's lines from it into lambdaSums", line)
		}
		if !strings.Contains(line, " "+LambdaVersion+" ") && !strings.Contains(line, " "+LambdaVersion+"/go.mod ") {
			t.Errorf("lambdaSums line %q is not for %s", line, LambdaVersion)
		}
	}
	goLine := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(gomod)
	if goLine == nil || !strings.HasPrefix(string(goLine[1])+".", GoVersion+".") {
		t.Errorf("devserver's go.mod says go %s, the project's go line is %s", goLine, GoVersion)
	}
}

// TestRefusals: nothing is written into a folder that holds anything, over a file, or with a
// kind or module the project could not use; what was there stays as it was.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // makes what is at dir
		opts  Options
		want  string
	}{
		{"a folder with a file", func(t *testing.T, dir string) {
			testkit.WriteFiles(t, dir, map[string]string{"notes.txt": "mine"})
		}, Options{}, "holds notes.txt: folder is not empty"},
		{"a folder with a hidden folder", func(t *testing.T, dir string) {
			testkit.WriteFiles(t, dir, map[string]string{".idea/x": "mine"})
		}, Options{}, "holds .idea: folder is not empty"},
		{"a file", func(t *testing.T, dir string) {
			testkit.WriteFiles(t, filepath.Dir(dir), map[string]string{filepath.Base(dir): "mine"})
		}, Options{}, "is a file, not a folder"},
		{"an unknown kind", nil, Options{Kind: "websocket"}, `kind "websocket": want rest or http`},
		{"a module path with a space", nil, Options{Module: "my api"}, `module path "my api"`},
		{"a module path ending in a dot", nil, Options{Module: "example.com/x."}, `element "x." starts or ends with a dot`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "proj")
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			before := snapshot(t, filepath.Dir(dir))
			tt.opts.Dir = dir
			_, err := Write(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write = %v, want an error with %q", err, tt.want)
			}
			if after := snapshot(t, filepath.Dir(dir)); after != before {
				t.Errorf("a refused Write changed what was there:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestGitOnly: a folder holding only .git (a repository made for the project) is taken, and
// .git is left as it was.
func TestGitOnly(t *testing.T) {
	dir := t.TempDir()
	testkit.WriteFiles(t, dir, map[string]string{".git/HEAD": "ref: refs/heads/main\n"})
	if _, err := Write(Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".git", "HEAD")); err != nil || string(b) != "ref: refs/heads/main\n" {
		t.Errorf(".git/HEAD = %q, %v", b, err)
	}
	if _, err := Write(Options{Dir: dir}); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("a second Write into the project = %v, want ErrNotEmpty", err)
	}
}

// TestUndo: a Write that fails part way leaves nothing of its own behind, and a folder it did
// not create stays.
func TestUndo(t *testing.T) {
	dir := t.TempDir()
	res := []string{".gitignore", "README.md"}
	for _, f := range res {
		if err := create(dir, f, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	undo(dir, res, false)
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("after undo %s holds %v (%v)", dir, ents, err)
	}
	if err := create(dir, "config.yaml", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := create(dir, "config.yaml", []byte("y")); err == nil {
		t.Error("create replaced a file")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "config.yaml")); string(b) != "x" {
		t.Errorf("config.yaml = %q after a refused create", b)
	}
}

func TestAppName(t *testing.T) {
	tests := []struct{ base, want string }{
		{"my-api", "my-api"},
		{"my_api", "my-api"},
		{"API v2", "API-v2"},
		{"-lead", "lead"},
		{"___", "app"},
		{"über", "ber"},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			if got := AppName(tt.base); got != tt.want {
				t.Errorf("AppName(%q) = %q, want %q", tt.base, got, tt.want)
			}
		})
	}
}

// snapshot lists every file under dir with its content, to compare before and after.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p)
		if !d.IsDir() {
			c, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.WriteString("=" + string(c))
		}
		b.WriteString("; ")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
