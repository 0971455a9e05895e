package template

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// fakeELF is the 64-byte header of an ELF executable for machine: enough for debug/elf, and so
// for checkExecutable, without building anything.
func fakeELF(machine elf.Machine, osabi elf.OSABI) []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION], b[elf.EI_OSABI] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(osabi)
	binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint16(b[18:], uint16(machine))
	binary.LittleEndian.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	binary.LittleEndian.PutUint16(b[52:], 64) // header size
	binary.LittleEndian.PutUint16(b[54:], 56) // program header entry size
	binary.LittleEndian.PutUint16(b[58:], 64) // section header entry size
	return b
}

// machines maps GOARCH to its ELF machine and SAM name.
func machineOf(goarch string) (elf.Machine, string) {
	if goarch == "arm64" {
		return elf.EM_AARCH64, "arm64"
	}
	return elf.EM_X86_64, "x86_64"
}

// otherArch is the Lambda architecture this machine is not.
func otherArch() string {
	if runtime.GOARCH == "arm64" {
		return "amd64"
	}
	return "arm64"
}

// hostELF is an executable this machine could run, as far as checkExecutable can tell.
func hostELF() []byte {
	m, _ := machineOf(runtime.GOARCH)
	return fakeELF(m, elf.ELFOSABI_NONE)
}

type testEntry struct {
	name string
	body string
	// mode defaults to 0644; fs.ModeSymlink makes a link to body, fs.ModeDir a folder.
	mode fs.FileMode
	// claim, when set, writes the entry raw with a header that claims this size.
	claim uint64
}

// makeZip writes entries, in order, as a Unix zip tool would, and returns the zip's path.
func makeZip(t testing.TB, entries ...testEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if e.claim > 0 {
			w, err := zw.CreateRaw(&zip.FileHeader{
				Name: e.name, Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte(e.body)),
				CompressedSize64: uint64(len(e.body)), UncompressedSize64: e.claim,
			})
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(e.body))
			continue
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(cmpMode(e.mode))
		h.CreatorVersion = creatorUnixForTests
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if !e.mode.IsDir() {
			w.Write([]byte(e.body))
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "code.zip")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// creatorUnixForTests marks entries as made on Unix, so that readers take the mode bits.
const creatorUnixForTests = 3<<8 | 20

func cmpMode(m fs.FileMode) fs.FileMode {
	if m == 0 {
		return 0o644
	}
	return m
}

// tree lists every path under dir, relative, with symlinks marked.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&fs.ModeSymlink != 0 {
			rel += " -> (symlink)"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUnpackZipRefuses(t *testing.T) {
	small := zipLimits{entries: 3, entryBytes: 500, totalBytes: 1000}
	tests := []struct {
		name    string
		entries func(parent string) []testEntry
		limits  zipLimits
		want    string
	}{
		{"parent folder", func(string) []testEntry {
			return []testEntry{{name: "bootstrap", body: "ok"}, {name: "../evil", body: "x"}}
		}, lambdaZipLimits(), `"../evil" leaves the folder`},
		{"parent folder further down", func(string) []testEntry {
			return []testEntry{{name: "a/../../evil", body: "x"}}
		}, lambdaZipLimits(), "leaves the folder"},
		{"absolute path", func(parent string) []testEntry {
			return []testEntry{{name: filepath.ToSlash(filepath.Join(parent, "evil")), body: "x"}}
		}, lambdaZipLimits(), "absolute path"},
		{"backslashes", func(string) []testEntry {
			return []testEntry{{name: `..\evil`, body: "x"}}
		}, lambdaZipLimits(), "backslash"},
		{"symbolic link", func(parent string) []testEntry {
			return []testEntry{{name: "link", body: parent, mode: fs.ModeSymlink | 0o777}, {name: "link/evil", body: "x"}}
		}, lambdaZipLimits(), `"link" is a symbolic link`},
		{"entry claiming more than Lambda unpacks", func(string) []testEntry {
			return []testEntry{{name: "bootstrap", body: "tiny", claim: 1 << 40}}
		}, lambdaZipLimits(), "unpacks to 1099511627776 bytes, more than the 262144000 allowed"},
		{"oversized entry", func(string) []testEntry {
			return []testEntry{{name: "big", body: strings.Repeat("a", 600)}}
		}, small, `"big" unpacks to 600 bytes, more than the 500 allowed`},
		{"oversized in total", func(string) []testEntry {
			return []testEntry{{name: "a", body: strings.Repeat("a", 400)}, {name: "b", body: strings.Repeat("b", 400)}, {name: "c", body: strings.Repeat("c", 400)}}
		}, small, "more than the 1000 bytes allowed"},
		{"too many entries", func(string) []testEntry {
			return []testEntry{{name: "a"}, {name: "b"}, {name: "c"}, {name: "d"}}
		}, small, "4 entries, more than the 3 allowed"},
		{"the same name twice", func(string) []testEntry {
			return []testEntry{{name: "bootstrap", body: "1"}, {name: "./bootstrap", body: "2"}}
		}, lambdaZipLimits(), `"bootstrap" appears twice`},
		{"a device", func(string) []testEntry {
			return []testEntry{{name: "dev", mode: fs.ModeDevice | 0o644}}
		}, lambdaZipLimits(), "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			into := filepath.Join(parent, "project", "code")
			if err := os.MkdirAll(into, 0o755); err != nil {
				t.Fatal(err)
			}
			zipFile := makeZip(t, tc.entries(parent)...)
			_, err := unpackZip(zipFile, into, "Fn", tc.limits)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("unpackZip error = %v, want one containing %q", err, tc.want)
			}
			if got := tree(t, parent); !slices.Equal(got, []string{"project", "project/code"}) {
				t.Errorf("after a refused zip the folder holds %q, want only the empty unpack folder", got)
			}
		})
	}
}

// TestExtractCountsRealBytes: headers can lie, so extract stops on what it really writes.
func TestExtractCountsRealBytes(t *testing.T) {
	zipFile := makeZip(t, testEntry{name: "a", body: strings.Repeat("a", 300)}, testEntry{name: "b", body: strings.Repeat("b", 300)})
	zr, err := zip.OpenReader(zipFile)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	err = extract(&zr.Reader, t.TempDir(), zipLimits{entries: 10, entryBytes: 1000, totalBytes: 500})
	if err == nil || !strings.Contains(err.Error(), `"b" unpacks to more than the 200 bytes allowed`) {
		t.Fatalf("extract error = %v, want the second entry refused at the total's remaining 200 bytes", err)
	}
}

func TestUnpackZip(t *testing.T) {
	into := filepath.Join(t.TempDir(), "code")
	zipFile := makeZip(t,
		testEntry{name: "bootstrap", body: string(hostELF()), mode: 0o755},
		testEntry{name: "static/", mode: fs.ModeDir | 0o755},
		testEntry{name: "static/index.html", body: "<h1>hi</h1>", mode: 0o600},
		testEntry{name: "./tool", body: "#!/bin/sh\n", mode: fs.ModeSetuid | 0o777},
	)
	u, err := unpackZip(zipFile, into, "Fn", lambdaZipLimits())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(u.dir) != into || !strings.HasPrefix(filepath.Base(u.dir), "Fn-") {
		t.Errorf("unpacked into %s, want a folder Fn-<sha256> in %s", u.dir, into)
	}
	want := map[string]fs.FileMode{"bootstrap": 0o755, "static/index.html": 0o600, "tool": 0o777}
	if !equalModes(u.modes, want) {
		t.Errorf("recorded modes %v, want %v", u.modes, want)
	}
	// Executable bits survive, nothing else: no set-uid, no files others may write.
	for name, mode := range map[string]fs.FileMode{"bootstrap": 0o755, "static/index.html": 0o644, "tool": 0o755} {
		st, err := os.Stat(filepath.Join(u.dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != mode {
			t.Errorf("%s has mode %v, want %v", name, st.Mode(), mode)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(u.dir, "static", "index.html")); string(b) != "<h1>hi</h1>" {
		t.Errorf("static/index.html holds %q", b)
	}

	again, err := unpackZip(zipFile, into, "Fn", lambdaZipLimits())
	if err != nil || again.dir != u.dir {
		t.Errorf("unpacking the same zip again gave %s, %v; want the same folder %s", again.dir, err, u.dir)
	}
	other, err := unpackZip(makeZip(t, testEntry{name: "bootstrap", body: "v2", mode: 0o755}), into, "Fn", lambdaZipLimits())
	if err != nil || other.dir == u.dir {
		t.Errorf("a changed zip unpacked into %s, %v; want a new folder beside %s", other.dir, err, u.dir)
	}
	if got := tree(t, into); len(got) != 2+5 {
		t.Errorf("unpack folder holds %q, want the two unpacked zips and no leftovers", got)
	}
}

func equalModes(a, b map[string]fs.FileMode) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCheckExecutable(t *testing.T) {
	_, hostSAM := machineOf(runtime.GOARCH)
	otherMachine, otherSAM := machineOf(otherArch())
	tests := []struct {
		name    string
		content []byte
		arch    string
		want    string // "" means runnable
	}{
		{"host executable", hostELF(), hostSAM, ""},
		{"other architecture", fakeELF(otherMachine, elf.ELFOSABI_NONE), otherSAM, "is a linux/" + otherArch() + " executable; this machine (" + runtime.GOOS + "/" + runtime.GOARCH + ") cannot run it"},
		{"architecture the template does not say", hostELF(), otherSAM, "but the function's Architectures is " + otherSAM},
		{"not an executable", []byte("#!/bin/sh\necho hi\n"), hostSAM, "not a Linux executable (ELF)"},
		{"FreeBSD", fakeELF(elf.EM_X86_64, elf.ELFOSABI_FREEBSD), "x86_64", "not Linux"},
		{"32-bit x86", fakeELF(elf.EM_386, elf.ELFOSABI_NONE), "x86_64", "which Lambda does not run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == "" && runtime.GOOS != "linux" {
				t.Skip("only Linux runs Linux executables")
			}
			exe := filepath.Join(t.TempDir(), "bootstrap")
			if err := os.WriteFile(exe, tc.content, 0o755); err != nil {
				t.Fatal(err)
			}
			err := checkExecutable(exe, tc.arch)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("checkExecutable: %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("checkExecutable error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// FuzzUnpackZip: whatever bytes claim to be a zip, unpacking never panics, never writes outside
// its folder, and leaves only plain files and folders within the limits.
func FuzzUnpackZip(f *testing.F) {
	for _, entries := range [][]testEntry{
		{{name: "bootstrap", body: "#!", mode: 0o755}, {name: "static/", mode: fs.ModeDir | 0o755}, {name: "static/a.txt", body: "a"}},
		{{name: "../evil", body: "x"}},
		{{name: "link", body: "/etc", mode: fs.ModeSymlink | 0o777}, {name: "link/x", body: "x"}},
		{{name: "big", body: "tiny", claim: 1 << 40}},
		{{name: "a", body: "1"}, {name: "./a", body: "2"}},
	} {
		data, err := os.ReadFile(makeZip(f, entries...))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	limits := zipLimits{entries: 50, entryBytes: 1 << 16, totalBytes: 1 << 18}
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		src := filepath.Join(parent, "in.zip")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		into := filepath.Join(parent, "code")
		u, err := unpackZip(src, into, "Fn", limits)
		for _, p := range tree(t, parent) {
			if p != "in.zip" && p != "code" && !strings.HasPrefix(p, "code/") {
				t.Errorf("unpacking wrote %s, outside %s", p, into)
			}
		}
		if err != nil {
			return
		}
		var total int64
		for _, p := range tree(t, u.dir) {
			st, err := os.Lstat(filepath.Join(u.dir, p))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case st.Mode().IsDir():
			case !st.Mode().IsRegular():
				t.Errorf("%s is a %v", p, st.Mode().Type())
			case st.Mode().Perm()&^0o755 != 0:
				t.Errorf("%s has mode %v", p, st.Mode())
			default:
				total += st.Size()
			}
		}
		if total > limits.totalBytes {
			t.Errorf("unpacked %d bytes, over the %d allowed", total, limits.totalBytes)
		}
	})
}
