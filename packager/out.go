package packager

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Marker is the file package keeps in every output folder it writes. package writes only into a
// folder that is missing, empty, or holds this file, so a mistyped OUT never overwrites a user's
// folder. The marker lists the files package wrote there, the only ones it ever removes.
const Marker = ".devserver-package"

const markerHeader = "# Written by `devserver package`. It writes only into folders holding this file,\n" +
	"# and removes only the files listed below when a later run no longer produces them.\n"

// claim is what claimOut found in the output folder.
type claim struct {
	// previous are the files an earlier run wrote there.
	previous []string
	// created: the folder did not exist; fresh: it did not hold our output before (it was
	// missing or empty). A failed first run gives such a folder back as it found it.
	created, fresh bool
}

// claimOut makes out a folder package may write into, creating it if needed.
func claimOut(out string) (claim, error) {
	st, err := os.Stat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(out, 0o755); err != nil {
			return claim{}, fmt.Errorf("create output folder: %w", err)
		}
		return claim{created: true, fresh: true}, writeMarker(out, nil)
	case err != nil:
		return claim{}, fmt.Errorf("inspect output folder: %w", err)
	case !st.IsDir():
		return claim{}, fmt.Errorf("refuse to write into %s: it is a file, not a folder", out)
	}
	data, err := os.ReadFile(filepath.Join(out, Marker))
	if err == nil {
		return claim{previous: readMarker(data)}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return claim{}, fmt.Errorf("read %s: %w", Marker, err)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return claim{}, fmt.Errorf("read output folder: %w", err)
	}
	if len(entries) > 0 {
		return claim{}, fmt.Errorf("refuse to write into %s: it is not empty and was not written by devserver package (it has no %s); choose a new or empty folder", out, Marker)
	}
	return claim{fresh: true}, writeMarker(out, nil)
}

// release gives a fresh folder back as claimOut found it after a failed run: without the marker,
// and gone if this run created it. Anything else found there stays.
func (c claim) release(out string) {
	if !c.fresh {
		return
	}
	os.Remove(filepath.Join(out, Marker))
	if c.created {
		os.Remove(out) // only if empty: nothing but ours is ever removed
	}
}

// finishOut records the files this run wrote in the marker and removes the files an earlier run
// wrote that this one did not (a function since removed, the other template format): ours, and
// misleading beside the new template. Nothing else in out is touched.
func finishOut(out string, previous, written []string, log io.Writer) error {
	for _, old := range previous {
		if slices.Contains(written, old) {
			continue
		}
		switch err := os.Remove(filepath.Join(out, old)); {
		case err == nil:
			fmt.Fprintf(log, "removed %s (not produced any more)\n", filepath.Join(out, old))
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("remove stale output: %w", err)
		}
	}
	return writeMarker(out, written)
}

// readMarker returns the file names listed in a marker, keeping only plain names inside the
// folder: a hand-edited marker must not point package at files elsewhere.
func readMarker(data []byte) []string {
	var files []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" || strings.HasPrefix(name, "#") || name == Marker || name == "." || name == ".." ||
			strings.ContainsAny(name, `/\`) {
			continue
		}
		files = append(files, name)
	}
	return files
}

func writeMarker(out string, files []string) error {
	files = slices.Sorted(slices.Values(files))
	return writeFile(out, Marker, func(w io.Writer) error {
		_, err := io.WriteString(w, markerHeader+strings.Join(append(files, ""), "\n"))
		return err
	})
}

// staged is a file written in full under a temporary name in its final folder, so that renaming
// it into place is one step: an interrupted or failed run never leaves a half-written zip, nor new
// zips beside the previous run's template.
type staged struct {
	tmp, final string
}

// stage writes out/name under a temporary name; commit puts it in place.
func stage(out, name string, write func(io.Writer) error) (s staged, err error) {
	f, err := os.CreateTemp(out, "."+name+".tmp-*")
	if err != nil {
		return staged{}, fmt.Errorf("write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return staged{}, fmt.Errorf("write %s: %w", name, err)
	}
	// CreateTemp makes the file private; these are ordinary build outputs.
	if err := f.Chmod(0o644); err != nil {
		return staged{}, fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return staged{}, fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return staged{}, fmt.Errorf("write %s: %w", name, err)
	}
	return staged{tmp: f.Name(), final: filepath.Join(out, name)}, nil
}

func (s staged) commit() error {
	if err := os.Rename(s.tmp, s.final); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(s.final), err)
	}
	return nil
}

// discard removes the temporary file; after commit there is none, and it does nothing.
func (s staged) discard() { os.Remove(s.tmp) }

// writeFile writes out/name in one step.
func writeFile(out, name string, write func(io.Writer) error) error {
	s, err := stage(out, name, write)
	if err != nil {
		return err
	}
	return s.commit()
}
