// Command coldstart builds the functions of an app through the gobuild API, the way devserver run
// does at start, for bench/coldstart.sh to time: -mode parallel runs gobuild.Build for every
// function at once (devserver's way before BuildAll), -mode all runs one gobuild.BuildAll.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/devserver/devserver/gobuild"
)

func main() {
	mode := flag.String("mode", "all", "parallel (gobuild.Build per function, all at once) or all (gobuild.BuildAll)")
	dir := flag.String("dir", ".", "the app's module folder")
	out := flag.String("out", "", "where to write <package>/bootstrap for each function")
	flag.Parse()
	pkgs := flag.Args()
	if *out == "" || len(pkgs) == 0 {
		log.Fatal("usage: coldstart -mode parallel|all -dir APP -out OUT ./fn01 ./fn02 ...")
	}
	// As devserver does: a build cut short stops every go command it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var jobs []gobuild.Job
	for _, p := range pkgs {
		jobs = append(jobs, gobuild.Job{Name: filepath.Base(p), Options: gobuild.Options{
			Dir: *dir, Package: p, Output: filepath.Join(*out, filepath.Base(p), "bootstrap"),
		}})
	}
	began := time.Now()
	errs := make([]error, len(jobs))
	switch *mode {
	case "parallel":
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Go(func() { errs[i] = gobuild.Build(ctx, j.Options) })
		}
		wg.Wait()
	case "all":
		for i, r := range gobuild.BuildAll(ctx, gobuild.BuildAllOptions{Jobs: jobs}) {
			errs[i] = r.Err
		}
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	failed := 0
	for _, err := range errs {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed++
		}
	}
	if failed > 0 {
		log.Fatalf("%d of %d functions failed to build", failed, len(jobs))
	}
	fmt.Fprintf(os.Stderr, "%s: built %d functions in %s\n", *mode, len(jobs), time.Since(began).Round(time.Millisecond))
}
