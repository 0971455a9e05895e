package template

import (
	"archive/zip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// zipLimits bound what unpacking a deployment zip may write. The defaults are Lambda's own: a
// function's code may unzip to at most 250 MB (262,144,000 bytes), so a zip that claims or
// yields more could not be deployed either, and a zip bomb stops there.
type zipLimits struct {
	// entries caps the number of entries, directories included.
	entries int
	// entryBytes caps one file, as its header claims and as it really decompresses.
	entryBytes int64
	// totalBytes caps everything written.
	totalBytes int64
}

func lambdaZipLimits() zipLimits {
	return zipLimits{entries: 10000, entryBytes: 262_144_000, totalBytes: 262_144_000}
}

// unpacked is a zip unpacked into its own folder.
type unpacked struct {
	// dir holds the files.
	dir string
	// modes are the permission bits each entry recorded (name → mode), before any fix-up.
	modes map[string]fs.FileMode
}

// unpackZip unpacks the zip file src into a folder of its own under into, named after fn and
// the zip's sha256 so that an unchanged zip is unpacked once and a changed one never overwrites
// files a running instance uses. It refuses, before writing anything outside a fresh temporary
// folder inside into, entries whose names leave the folder (absolute, "..", backslashes),
// symbolic links and other special files, duplicate names, and anything over limits.
func unpackZip(src, into, fn string, limits zipLimits) (unpacked, error) {
	// A zip cannot be larger than what it unpacks to, give or take its headers; checked first so
	// that a huge file is not read just to be hashed.
	if st, err := os.Stat(src); err != nil {
		return unpacked{}, fmt.Errorf("read zip: %w", err)
	} else if st.Size() > limits.totalBytes+int64(limits.entries)*1024 {
		return unpacked{}, fmt.Errorf("refuse zip: %d bytes, more than a function's code may unpack to", st.Size())
	}
	sum, err := fileSHA256(src)
	if err != nil {
		return unpacked{}, err
	}
	zr, err := zip.OpenReader(src)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return unpacked{}, fmt.Errorf("open zip: %w", err)
	}
	if zr == nil {
		return unpacked{}, fmt.Errorf("open zip: %w", err)
	}
	defer zr.Close()
	modes, err := checkZip(&zr.Reader, limits)
	if err != nil {
		return unpacked{}, err
	}

	final := filepath.Join(into, fn+"-"+sum[:16])
	if st, err := os.Stat(final); err == nil && st.IsDir() {
		return unpacked{dir: final, modes: modes}, nil
	}
	if err := os.MkdirAll(into, 0o755); err != nil {
		return unpacked{}, fmt.Errorf("create unpack folder: %w", err)
	}
	tmp, err := os.MkdirTemp(into, "."+fn+"-*")
	if err != nil {
		return unpacked{}, fmt.Errorf("create unpack folder: %w", err)
	}
	// The temporary folder goes away on every failure; after the rename it is gone anyway.
	defer os.RemoveAll(tmp)
	if err := extract(&zr.Reader, tmp, limits); err != nil {
		return unpacked{}, err
	}
	if err := os.Rename(tmp, final); err != nil {
		// Another reader of the same template may have unpacked the same zip meanwhile.
		if st, serr := os.Stat(final); serr == nil && st.IsDir() {
			return unpacked{dir: final, modes: modes}, nil
		}
		return unpacked{}, fmt.Errorf("move unpacked zip into place: %w", err)
	}
	return unpacked{dir: final, modes: modes}, nil
}

// checkZip refuses a zip whose entries are unsafe to unpack, judging by the central directory
// alone; extract checks again what it really reads. It returns each file entry's recorded mode.
func checkZip(zr *zip.Reader, limits zipLimits) (map[string]fs.FileMode, error) {
	if len(zr.File) > limits.entries {
		return nil, fmt.Errorf("refuse zip: %d entries, more than the %d allowed", len(zr.File), limits.entries)
	}
	modes := map[string]fs.FileMode{}
	seen := map[string]bool{}
	var claimed uint64
	for _, f := range zr.File {
		name, err := entryName(f.Name)
		if err != nil {
			return nil, err
		}
		mode := f.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("refuse zip: entry %q is a symbolic link", f.Name)
		case mode.IsDir():
		case !mode.IsRegular():
			return nil, fmt.Errorf("refuse zip: entry %q is not a regular file (%v)", f.Name, mode.Type())
		case f.UncompressedSize64 > uint64(limits.entryBytes):
			return nil, fmt.Errorf("refuse zip: entry %q unpacks to %d bytes, more than the %d allowed", f.Name, f.UncompressedSize64, limits.entryBytes)
		}
		if seen[name] {
			return nil, fmt.Errorf("refuse zip: entry %q appears twice", name)
		}
		seen[name] = true
		claimed += f.UncompressedSize64
		if claimed > uint64(limits.totalBytes) {
			return nil, fmt.Errorf("refuse zip: its entries unpack to more than the %d bytes allowed", limits.totalBytes)
		}
		if !mode.IsDir() {
			modes[name] = mode.Perm()
		}
	}
	return modes, nil
}

// entryName checks a zip entry's name and returns it cleaned ("./a//b" → "a/b"). Names are
// slash-separated; one that is absolute, climbs with "..", holds a backslash or a drive letter,
// or is empty would land outside the folder (or somewhere unintended on Windows).
func entryName(name string) (string, error) {
	clean := path.Clean(strings.TrimSuffix(name, "/"))
	switch {
	case name == "" || clean == ".":
		return "", fmt.Errorf("refuse zip: an entry has an empty name")
	case strings.ContainsAny(name, "\\\x00") || strings.Contains(name, ":"):
		return "", fmt.Errorf("refuse zip: entry %q has a backslash, colon or NUL in its name", name)
	case path.IsAbs(name):
		return "", fmt.Errorf("refuse zip: entry %q has an absolute path", name)
	case !filepath.IsLocal(filepath.FromSlash(clean)) || slices.Contains(strings.Split(name, "/"), ".."):
		return "", fmt.Errorf("refuse zip: entry %q leaves the folder it is unpacked into", name)
	}
	return clean, nil
}

// extract writes the checked entries of zr into dir through an os.Root, so that even a check
// missed here could not write outside dir, and counts the bytes really written, since a header
// can lie about sizes.
func extract(zr *zip.Reader, dir string, limits zipLimits) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("unpack zip: %w", err)
	}
	defer root.Close()
	var total int64
	for _, f := range zr.File {
		name, err := entryName(f.Name)
		if err != nil {
			return err
		}
		if f.Mode().IsDir() {
			if err := root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", f.Name, err)
			}
			continue
		}
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", f.Name, err)
			}
		}
		n, err := extractFile(root, name, f, min(limits.entryBytes, limits.totalBytes-total))
		total += n
		if err != nil {
			return err
		}
	}
	return nil
}

// extractFile writes one entry of at most limit bytes.
func extractFile(root *os.Root, name string, f *zip.File, limit int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("unpack %s: %w", f.Name, err)
	}
	defer rc.Close()
	// Executable bits are kept, nothing else: no set-uid, no world-writable files.
	perm := fs.FileMode(0o644)
	if f.Mode().Perm()&0o111 != 0 {
		perm = 0o755
	}
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, fmt.Errorf("unpack %s: %w", f.Name, err)
	}
	n, err := io.Copy(out, io.LimitReader(rc, limit+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("unpack %s: %w", f.Name, err)
	}
	if n > limit {
		return n, fmt.Errorf("refuse zip: entry %q unpacks to more than the %d bytes allowed", f.Name, limit)
	}
	return n, nil
}

func fileSHA256(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("read zip: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read zip: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// goArch maps a SAM architecture to GOARCH.
func goArch(samArch string) string {
	if samArch == "arm64" {
		return "arm64"
	}
	return "amd64"
}

// checkExecutable says why the file at exe cannot run as the function: it must be a Linux ELF
// executable for the function's architecture (what Lambda would run), and this machine must be
// able to run it, which only a Linux host of the same architecture can.
func checkExecutable(exe, samArch string) error {
	f, err := elf.Open(exe)
	if err != nil {
		return fmt.Errorf("%s is not a Linux executable (ELF): %w", filepath.Base(exe), err)
	}
	defer f.Close()
	var arch string
	switch f.Machine {
	case elf.EM_X86_64:
		arch = "amd64"
	case elf.EM_AARCH64:
		arch = "arm64"
	default:
		return fmt.Errorf("%s is built for %v, which Lambda does not run (want x86_64 or arm64)", filepath.Base(exe), f.Machine)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return fmt.Errorf("%s is built for %v, not Linux", filepath.Base(exe), f.OSABI)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is an ELF %v, not an executable", filepath.Base(exe), f.Type)
	}
	if want := goArch(samArch); arch != want {
		return fmt.Errorf("%s is built for linux/%s but the function's Architectures is %s: Lambda could not run it", filepath.Base(exe), arch, samArch)
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != arch {
		return fmt.Errorf("%s is a linux/%s executable; this machine (%s/%s) cannot run it: point CodeUri at the function's source folder, or package for %s", filepath.Base(exe), arch, runtime.GOOS, runtime.GOARCH, hostSAMArch())
	}
	return nil
}

// hostSAMArch is this machine's architecture as SAM spells it.
func hostSAMArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}
