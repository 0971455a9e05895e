package emulator_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/project"
)

// BenchmarkRoundTrip measures full round trips through the gateway to warm sample instances,
// next to a plain net/http handler answering the same JSON, in the same run, at 1 and 32
// concurrent clients:
//
//	go test ./emulator -run XXX -bench RoundTrip
//
// Compare devserver's req/s with net-http's for the same number of clients.
func BenchmarkRoundTrip(b *testing.B) {
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { roundTrips(b, clients) })
	}
}

func roundTrips(b *testing.B, clients int) {
	b.Run("net-http", func(b *testing.B) {
		body := []byte(`{"hello":"world"}`)
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}))
		defer hs.Close()
		drive(b, hs.URL, clients)
	})
	b.Run("devserver", func(b *testing.B) {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..")
		p, err := project.Load(project.Options{Dir: root})
		if err != nil {
			b.Fatal(err)
		}
		s := emulator.New(emulator.Config{Project: p, CacheDir: b.TempDir(), MaxInstances: 64})
		if err := s.Build(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		hs := httptest.NewServer(s.Handler())
		defer hs.Close()
		drive(b, hs.URL, clients)
	})
}

// drive sends b.N requests from the given number of concurrent clients.
func drive(b *testing.B, url string, clients int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	get := func() error {
		resp, err := client.Get(url + "/")
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	if err := get(); err != nil {
		b.Fatal(err)
	}
	var sent atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			for sent.Add(1) <= int64(b.N) {
				if get() != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
}
