// Package watcher tells the reloader which watched source files really changed. It watches Go
// package folders, single files (go.mod, go.sum, config.yaml) and whole trees with fsnotify, and
// reports, after a quiet period, the paths whose content differs from what it last saw.
//
// A file counts when the go command would compile it into the binary: a .go file that is not a
// _test.go file and whose name does not start with "." or "_", plus go.mod and go.sum, plus the
// files named in [Targets.Files]. Editor temporary and swap files (x.go~, .x.go.swp, .x.go.swx,
// 4913, .#x.go, x.go.tmp, x.go___jb_tmp___) never match that rule, so they never count. Embedded
// assets (//go:embed) and cgo sources are out of scope: name them in [Targets.Files] to watch them.
package watcher

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is the quiet period used when [Options.Debounce] is zero: long enough to join the
// writes of one editor save or a formatter run, short enough not to be noticed.
const DefaultDebounce = 120 * time.Millisecond

// Options configure a Watcher.
type Options struct {
	// Debounce is how long the watched files must stay quiet before a batch is sent (trailing edge).
	// Zero means DefaultDebounce.
	Debounce time.Duration
	// Ignore lists absolute folders that are never watched, nor anything below them: the build
	// cache, the package output folder.
	Ignore []string
	// Changing, when set, is called (from Run) as soon as a relevant file is touched, before the
	// quiet period and before its content is compared. Every call is followed by a Batch, empty
	// when nothing really changed, so that the caller can hold requests back until then.
	Changing func()
	// Started, when set, is called once Run watches every target, before it reports anything.
	Started func()
}

// Targets are what a Watcher watches. All paths are absolute.
type Targets struct {
	// Dirs are Go package folders (as listed by go list -deps), each watched on its own, without
	// its sub-folders: every package folder that matters is listed.
	Dirs []string
	// Trees are roots watched recursively, so that a package folder that go list does not know yet
	// (it is created before the import that uses it) is seen too. Sub-folders are added as they
	// appear and dropped as they go. Like the go command, a tree skips folders named testdata or
	// starting with "." or "_" (.git among them), and does not follow symbolic links to folders.
	Trees []string
	// Files are single files, such as go.mod, go.sum and config.yaml. A file may not exist yet; its
	// parent folder is watched and filtered, because editors save by renaming a new file over the
	// old one.
	Files []string
}

// Batch is one quiet period's worth of real changes.
type Batch struct {
	// Paths are the sorted absolute paths of the relevant files that were created, removed, or
	// whose content changed since the last batch.
	Paths []string
}

// kind says why a folder is watched; one folder can be watched for several reasons.
type kind uint8

const (
	kindPackage kind = 1 << iota // in Targets.Dirs: its Go files count
	kindTree                     // inside one of Targets.Trees: its Go files count
	kindParent                   // holds one of Targets.Files: only that file counts
)

type digest [sha256.Size]byte

// Watcher watches a set of folders and files and reports debounced batches of real changes.
// Set may be called at any time, also while Run runs.
type Watcher struct {
	log      *slog.Logger
	debounce time.Duration
	ignore   []string
	changing func()
	started  func()

	mu    sync.Mutex
	trees []string
	dirs  map[string]kind
	files map[string]bool
	// known holds the content last reported (or seen at Set) of every relevant file that exists.
	known map[string]digest
	// pending holds the relevant paths touched since the last batch; their content decides.
	pending map[string]bool
	// fsw is the running fsnotify watcher; nil when Run is not running.
	fsw *fsnotify.Watcher
}

// New returns a Watcher that watches nothing until Set is called. It opens no file: Run does.
func New(log *slog.Logger, opts Options) (*Watcher, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Debounce < 0 {
		return nil, fmt.Errorf("create watcher: negative debounce %v", opts.Debounce)
	}
	if opts.Debounce == 0 {
		opts.Debounce = DefaultDebounce
	}
	ignore, err := cleanAbs(opts.Ignore)
	if err != nil {
		return nil, fmt.Errorf("create watcher: ignore: %w", err)
	}
	return &Watcher{
		log:      log,
		debounce: opts.Debounce,
		ignore:   ignore,
		changing: opts.Changing,
		started:  opts.Started,
		dirs:     map[string]kind{},
		files:    map[string]bool{},
		known:    map[string]digest{},
		pending:  map[string]bool{},
	}, nil
}

// Set replaces what is watched. Files that become watched are read now and only their later changes
// are reported; a change already pending for a file that stays watched is kept. Folders that do not
// exist are skipped (a folder that appears later inside a tree is picked up). While Run runs, the
// new folders are watched before Set returns. A folder that cannot be watched makes Set return an
// error, but the other targets are in place all the same.
func (w *Watcher) Set(t Targets) error {
	dirs, err := cleanAbs(t.Dirs)
	if err != nil {
		return fmt.Errorf("set targets: dirs: %w", err)
	}
	trees, err := cleanAbs(t.Trees)
	if err != nil {
		return fmt.Errorf("set targets: trees: %w", err)
	}
	files, err := cleanAbs(t.Files)
	if err != nil {
		return fmt.Errorf("set targets: files: %w", err)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	oldDirs, oldFiles := w.dirs, w.files
	w.trees = trees
	w.dirs = map[string]kind{}
	w.files = map[string]bool{}
	for _, d := range dirs {
		if !w.ignored(d) {
			w.dirs[d] |= kindPackage
		}
	}
	for _, f := range files {
		w.files[f] = true
		w.dirs[filepath.Dir(f)] |= kindParent
	}

	// A file that was already relevant keeps its baseline, so that a change seen before this Set
	// but not yet reported is still reported.
	err = w.scan(func(p string) {
		if !relevant(oldDirs, oldFiles, p) {
			w.remember(p)
		}
	})
	for d := range oldDirs {
		if _, ok := w.dirs[d]; !ok {
			w.unwatch(d)
		}
	}
	for p := range w.known {
		if !w.relevant(p) {
			delete(w.known, p)
		}
	}
	for p := range w.pending {
		if !w.relevant(p) {
			delete(w.pending, p)
		}
	}
	if err != nil {
		return fmt.Errorf("set targets: %w", err)
	}
	return nil
}

// Run watches until ctx is done, and returns nil then. Each time the watched files have been quiet
// for the debounce period and some of them really changed, it sends one Batch on out. It does not
// read further events until out takes the batch (the kernel queues them; should its queue overflow,
// every watched file is checked again), so the receiver should keep receiving while it rebuilds.
//
// Run owns the fsnotify watcher (one inotify descriptor and one goroutine) and closes it before it
// returns. Changes made while no Run was running, since Set or since the last Run, are reported by
// its first batch. Only one Run may run at a time; another may start after it returns.
func (w *Watcher) Run(ctx context.Context, out chan<- Batch) error {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("start watcher: %w", err)
	}
	defer fsw.Close()
	if err := w.attach(fsw); err != nil {
		return err
	}
	defer w.detach()
	if w.started != nil {
		w.started()
	}

	quiet := time.NewTimer(w.debounce) // the first period checks what changed before Run
	defer quiet.Stop()
	announced := false // Changing was called for the current quiet period
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fsw.Events:
			if !ok {
				return errors.New("watch files: fsnotify closed its events")
			}
			if w.handle(ev) {
				if w.changing != nil && !announced {
					announced = true
					w.changing()
				}
				quiet.Reset(w.debounce)
			}
		case err, ok := <-fsw.Errors:
			if !ok {
				return errors.New("watch files: fsnotify closed its errors")
			}
			// An overflow loses events; anything else is as bad for the same reason. Recheck all.
			w.log.Warn("file watcher lost events; rechecking every watched file", "err", err)
			w.rescan()
			quiet.Reset(w.debounce)
		case <-quiet.C:
			paths := w.flush()
			if len(paths) == 0 && !announced {
				continue
			}
			announced = false
			w.log.Debug("files changed", "count", len(paths))
			select {
			case out <- Batch{Paths: paths}:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// attach makes fsw the running watcher and watches every target with it. Everything is marked
// pending, so that the first quiet period reports what changed while nothing was watching.
func (w *Watcher) attach(fsw *fsnotify.Watcher) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fsw != nil {
		return errors.New("start watcher: already running")
	}
	w.fsw = fsw
	if err := w.scanAll(); err != nil {
		w.fsw = nil
		return fmt.Errorf("start watcher: %w", err)
	}
	return nil
}

func (w *Watcher) detach() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fsw = nil
}

func (w *Watcher) rescan() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.scanAll(); err != nil {
		w.log.Warn("rewatch files", "err", err)
	}
}

// scanAll rewatches every target and marks every known and every present relevant file pending.
func (w *Watcher) scanAll() error {
	err := w.scan(w.mark)
	for p := range w.known {
		w.mark(p)
	}
	return err
}

// scan walks the trees, watches every folder when running, and calls seen with each relevant file
// found. Missing folders are skipped; an unreadable folder inside a tree is logged and skipped.
func (w *Watcher) scan(seen func(string)) error {
	var errs []error
	for _, root := range w.trees {
		if err := w.addTree(root, seen); err != nil {
			errs = append(errs, err)
		}
	}
	for d, k := range w.dirs {
		if k&kindTree != 0 {
			continue // done by addTree
		}
		if _, err := w.watchDir(d, seen); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// addTree adds dir and the folders below it as tree folders. Each folder is watched before it is
// listed, so that a file or folder created meanwhile is either listed or reported by an event.
func (w *Watcher) addTree(dir string, seen func(string)) error {
	if w.skipTreeDir(dir) {
		return nil
	}
	w.dirs[dir] |= kindTree
	entries, err := w.watchDir(dir, seen)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if err := w.addTree(filepath.Join(dir, e.Name()), seen); err != nil {
			w.log.Warn("skip folder", "err", err)
		}
	}
	return nil
}

// watchDir watches dir when running, then lists it and calls seen with each relevant file in it.
// A folder that does not exist is not an error: it may come back, or go list may drop it.
func (w *Watcher) watchDir(dir string, seen func(string)) ([]os.DirEntry, error) {
	if w.fsw != nil {
		if err := w.fsw.Add(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		} else if err != nil {
			return nil, fmt.Errorf("watch %s: %w", dir, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if p := filepath.Join(dir, e.Name()); !e.IsDir() && w.relevant(p) {
			seen(p)
		}
	}
	return entries, nil
}

// unwatch stops watching dir. fsnotify may have dropped the watch already (the folder was removed),
// so its error says nothing useful.
func (w *Watcher) unwatch(dir string) {
	if w.fsw != nil {
		_ = w.fsw.Remove(dir)
	}
}

// handle records one fsnotify event and reports whether it touched anything relevant.
func (w *Watcher) handle(ev fsnotify.Event) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := filepath.Clean(ev.Name)
	touched := false
	mark := func(p string) {
		w.mark(p)
		touched = true
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if _, ok := w.dirs[p]; ok {
			w.dropDir(p, mark)
		}
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
			var err error
			if w.dirs[filepath.Dir(p)]&kindTree != 0 {
				err = w.addTree(p, mark)
			} else if _, ok := w.dirs[p]; ok {
				_, err = w.watchDir(p, mark) // a package folder that was removed is back
			}
			if err != nil {
				w.log.Warn("watch new folder", "err", err)
			}
		}
	}
	// A change of mode or times alone cannot change what is built.
	if ev.Op&^fsnotify.Chmod != 0 && w.relevant(p) {
		mark(p)
	}
	return touched
}

// dropDir forgets a removed or renamed folder and the tree folders below it, and marks the files
// known below it pending, so that the next batch reports them removed. A package or parent folder
// stays a target: Set or a Create event in a tree watches it again.
func (w *Watcher) dropDir(dir string, mark func(string)) {
	for d, k := range w.dirs {
		if !within(d, dir) {
			continue
		}
		w.unwatch(d)
		if k &^= kindTree; k == 0 {
			delete(w.dirs, d)
		} else {
			w.dirs[d] = k
		}
	}
	for p := range w.known {
		if within(p, dir) {
			mark(p)
		}
	}
}

// flush compares every pending file with what is known of it, updates what is known, and returns the
// sorted paths that differ.
func (w *Watcher) flush() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var changed []string
	for p := range w.pending {
		now, exists := w.hash(p)
		before, existed := w.known[p]
		if exists == existed && now == before {
			continue
		}
		changed = append(changed, p)
		if exists {
			w.known[p] = now
		} else {
			delete(w.known, p)
		}
	}
	clear(w.pending)
	slices.Sort(changed)
	return changed
}

func (w *Watcher) mark(p string) { w.pending[p] = true }

// remember records the current content of p as already seen.
func (w *Watcher) remember(p string) {
	if d, ok := w.hash(p); ok {
		w.known[p] = d
	}
}

// hash returns the digest of the regular file p, or false if there is none. A file that cannot be
// read counts as absent: it cannot be built either.
func (w *Watcher) hash(p string) (digest, bool) {
	f, err := os.Open(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			w.log.Debug("read watched file", "err", err)
		}
		return digest{}, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return digest{}, false
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		w.log.Debug("read watched file", "err", err)
		return digest{}, false
	}
	return digest(h.Sum(nil)), true
}

func (w *Watcher) relevant(p string) bool { return relevant(w.dirs, w.files, p) }

// relevant reports whether p counts given the watched folders and named files.
func relevant(dirs map[string]kind, files map[string]bool, p string) bool {
	if files[p] {
		return true
	}
	return dirs[filepath.Dir(p)]&(kindPackage|kindTree) != 0 && isSource(filepath.Base(p))
}

// isSource reports whether a file of this name in a package folder is built into the binary, the way
// the go command decides it (build constraints aside: a file for another platform still counts).
func isSource(name string) bool {
	if name == "go.mod" || name == "go.sum" {
		return true
	}
	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") &&
		!strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_")
}

// skipTreeDir reports whether a folder below a tree root is left out, as the go command leaves it
// out of ./... patterns, or because it is ignored.
func (w *Watcher) skipTreeDir(dir string) bool {
	if w.ignored(dir) {
		return true
	}
	for _, root := range w.trees {
		if dir == root {
			return false
		}
	}
	name := filepath.Base(dir)
	return name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

func (w *Watcher) ignored(dir string) bool {
	for _, ig := range w.ignore {
		if within(dir, ig) {
			return true
		}
	}
	return false
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

// cleanAbs cleans paths and rejects relative ones: a relative path would depend on the working folder.
func cleanAbs(paths []string) ([]string, error) {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("path %q is not absolute", p)
		}
		out = append(out, filepath.Clean(p))
	}
	return out, nil
}
