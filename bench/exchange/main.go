// Command exchange measures the floor of any Lambda Runtime API emulator on this machine: a bare
// net/http client in a child process doing what aws-lambda-go does per invoke (GET an event, POST
// a chunked result with trailers) against a bare net/http server. It prints the time per
// exchange and the child's CPU per exchange, to set next to devserver's round trip.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 5000, "exchanges to time")
	client := flag.String("client", "", "internal: run as the client against this address")
	flag.Parse()
	if *client != "" {
		runClient(*client)
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	var count atomic.Int64
	done := make(chan struct{})
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { //nolint:errcheck // ends with the process.
		io.Copy(io.Discard, r.Body) //nolint:errcheck // drained for keep-alive only.
		if r.URL.Path == "/response" {
			w.WriteHeader(http.StatusAccepted)
			if count.Add(1) == int64(*n) {
				close(done)
			}
			return
		}
		w.Write([]byte(`{"path":"/","httpMethod":"GET"}`)) //nolint:errcheck // the client sees it.
	}))
	cmd := exec.Command(os.Args[0], "-client", ln.Addr().String())
	began := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	<-done
	elapsed := time.Since(began)
	cmd.Process.Kill() //nolint:errcheck // it loops until killed.
	cmd.Wait()         //nolint:errcheck // killed on purpose.
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("bare client exchange: %v per exchange, client CPU %v per exchange\n",
		(elapsed / time.Duration(*n)).Round(time.Microsecond), (cpu / time.Duration(*n)).Round(time.Microsecond))
}

func runClient(addr string) {
	c := &http.Client{}
	for {
		resp, err := c.Get("http://" + addr + "/next")
		if err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // drained for keep-alive only.
		resp.Body.Close()
		body := struct{ io.Reader }{bytes.NewReader([]byte(`{"statusCode":200,"body":"{\"hello\":\"world\"}"}`))} // unknown length: chunked
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/response", body)
		req.Trailer = http.Header{"Lambda-Runtime-Function-Error-Type": nil}
		if resp, err = c.Do(req); err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // drained for keep-alive only.
		resp.Body.Close()
	}
}
