package template

import (
	"cmp"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/devserver/devserver/project"
)

// FuzzRead: reading any bytes as a template never panics, and whatever Read accepts is a model
// the emulator can serve. The seeds (testdata/fuzz/FuzzRead) name ./fn, a Go main package, and
// ./fn.zip, a zip holding a bootstrap, which every input can find beside it.
func FuzzRead(f *testing.F) {
	for _, file := range []string{"testdata/sam/template.yaml", "testdata/golden/three.json", "testdata/golden/http.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	base := f.TempDir()
	goModule(f, base, "fn")
	if err := os.Rename(makeZip(f, testEntry{name: "bootstrap", body: string(hostELF()), mode: 0o755}), filepath.Join(base, "fn.zip")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// No extension: Read sniffs JSON or YAML, so both parsers see every input.
		tf, err := os.CreateTemp(base, "template-*")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(tf.Name())
		if _, err := tf.Write(data); err != nil {
			t.Fatal(err)
		}
		tf.Close()
		p, ws, err := Read(tf.Name(), ReadOptions{
			UnpackDir:          t.TempDir(),
			ParameterOverrides: map[string]string{"Stage": "prod"},
			DisplayName:        "template",
		})
		for _, w := range ws {
			if w.File != "template" || w.Line < 1 || w.Col < 1 || w.Key == "" || w.Msg == "" {
				t.Errorf("warning without a place or reason: %+v", w)
			}
		}
		if err != nil {
			if p != nil {
				t.Errorf("Read returned a model with its error %v", err)
			}
			return
		}
		checkServable(t, p)
	})
}

// checkServable checks what the emulator relies on in a model.
func checkServable(t *testing.T, p *project.Project) {
	t.Helper()
	if p.API.Kind != project.KindREST && p.API.Kind != project.KindHTTP || p.API.Stage == "" || p.API.TimeoutMS < 50 {
		t.Errorf("API = %+v", p.API)
	}
	if len(p.Functions) == 0 {
		t.Errorf("no functions, and no error")
	}
	if !slices.IsSortedFunc(p.Functions, func(a, b *project.Function) int { return cmp.Compare(a.Name, b.Name) }) {
		t.Errorf("functions are not sorted by name")
	}
	for _, f := range p.Functions {
		if f.MemoryMB < 128 || f.MemoryMB > 10240 || f.TimeoutSec < 1 || f.TimeoutSec > 900 || f.Environment == nil {
			t.Errorf("function %+v", *f)
		}
		if (f.Dir == "") == (f.Prebuilt == "") {
			t.Errorf("function %s has Dir %q and Prebuilt %q; want exactly one", f.Name, f.Dir, f.Prebuilt)
		}
		if f.Prebuilt != "" && runtime.GOOS == "linux" {
			if st, err := os.Stat(f.Prebuilt); err != nil || st.Mode().Perm()&0o111 == 0 {
				t.Errorf("function %s: prebuilt %s is not an executable file: %v", f.Name, f.Prebuilt, err)
			}
		}
	}
	for _, r := range p.Routes {
		if p.Function(r.Function) == nil || !slices.Contains(project.Methods, r.Method) || project.CheckPath(r.Path) != "" {
			t.Errorf("route %+v", r)
		}
	}
}
