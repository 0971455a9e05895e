package emulator_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/devserver/devserver/emulator"
	"github.com/devserver/devserver/project"
)

// BenchmarkRoundTrip measures full round trips through the gateway to warm sample instances,
// next to a plain net/http handler answering the same JSON, in the same run:
//
//	go test ./emulator -run XXX -bench RoundTrip -cpu 1,32
//
// -cpu sets both GOMAXPROCS and, through RunParallel, the number of concurrent clients.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("net-http", func(b *testing.B) {
		body := []byte(`{"hello":"world"}`)
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}))
		defer hs.Close()
		drive(b, hs.URL)
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
		drive(b, hs.URL)
	})
}

func drive(b *testing.B, url string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	get := func() {
		resp, err := client.Get(url + "/")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	get()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			get()
		}
	})
}
