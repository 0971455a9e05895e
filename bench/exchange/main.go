// Command exchange measures the floor of any Lambda Runtime API emulator on this machine: a function
// process doing its per-invoke loop (GET an event, POST a chunked result with trailers) against
// the cheapest Runtime API there can be, one that answers every request with canned bytes. The
// function is either a real aws-lambda-go binary (-function) or a bare net/http client doing the
// same two requests. It prints the time and the function's CPU per invoke, to set next to
// devserver's round trip.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", 5000, "invokes to time")
	function := flag.String("function", "", "a built aws-lambda-go function to drive; empty means a bare net/http client")
	baseline := flag.Float64("baseline", 0, "plain net/http req/s at 1 client measured in the same run, to print the ceiling this floor sets")
	baseline32 := flag.Float64("baseline32", 0, "the same at 32 clients")
	client := flag.String("client", "", "internal: run as the bare client against this address")
	flag.Parse()
	if *client != "" {
		runClient(*client)
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	name := "bare net/http client"
	cmd := exec.Command(os.Args[0], "-client", ln.Addr().String())
	if *function != "" {
		name = "aws-lambda-go function"
		cmd = exec.Command(*function)
		cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		log.Fatal(err)
	}
	// Warm up, then time n invokes.
	if err := serve(c, 200); err != nil {
		log.Fatal(err)
	}
	before := cpuOf(cmd.Process.Pid)
	began := time.Now()
	if err := serve(c, *n); err != nil {
		log.Fatal(err)
	}
	elapsed := time.Since(began)
	cpu := (cpuOf(cmd.Process.Pid) - before) / time.Duration(*n)
	cmd.Process.Kill() //nolint:errcheck // it loops until killed.
	cmd.Wait()         //nolint:errcheck // killed on purpose.
	per := elapsed / time.Duration(*n)
	fmt.Printf("%s against a canned Runtime API: %v per invoke, function CPU %v per invoke\n",
		name, per.Round(time.Microsecond), cpu.Round(time.Microsecond))
	if *baseline > 0 {
		// At 1 client a request cannot finish faster than the function's own loop comes round.
		ceiling := float64(time.Second) / float64(per)
		fmt.Printf("  the ceiling this sets at 1 client, for a gateway that cost nothing: %.0f req/s, %.1f%% of net/http\n",
			ceiling, 100*ceiling / *baseline)
	}
	if *baseline32 > 0 {
		// With many clients the machine is busy: no more invokes than the cores can run functions.
		ceiling := float64(runtime.NumCPU()) * float64(time.Second) / float64(cpu)
		fmt.Printf("  the ceiling this sets at 32 clients, with %d cores running nothing but functions: %.0f req/s, %.1f%% of net/http\n",
			runtime.NumCPU(), ceiling, 100*ceiling / *baseline32)
	}
}

// serve answers the function's requests on c until it has posted n results.
func serve(c net.Conn, n int) error {
	br, bw := bufio.NewReader(c), bufio.NewWriter(c)
	event := []byte(`{"resource":"/","path":"/","httpMethod":"GET","headers":{"Host":"127.0.0.1"},"requestContext":{"stage":"api"}}`)
	deadline := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	for done := 0; done < n; {
		req, err := http.ReadRequest(br)
		if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		if strings.HasSuffix(req.URL.Path, "/response") {
			bw.WriteString("HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}") //nolint:errcheck // seen by Flush.
			done++
		} else {
			fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nLambda-Runtime-Aws-Request-Id: r%d\r\nLambda-Runtime-Deadline-Ms: %s\r\n"+
				"Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:F\r\n\r\n", len(event), done, deadline)
			bw.Write(event) //nolint:errcheck // seen by Flush.
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	return nil
}

// cpuOf reads the CPU time pid has used so far, from /proc (the process is still running).
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		log.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: utime and stime are the 12th and
	// 13th of them, in clock ticks of 1/100 s.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func runClient(addr string) {
	c := &http.Client{}
	for {
		resp, err := c.Get("http://" + addr + "/2018-06-01/runtime/invocation/next")
		if err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // drained for keep-alive only.
		resp.Body.Close()
		body := struct{ io.Reader }{bytes.NewReader([]byte(`{"statusCode":200,"body":"{\"hello\":\"world\"}"}`))} // unknown length: chunked
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/2018-06-01/runtime/invocation/r/response", body)
		req.Trailer = http.Header{"Lambda-Runtime-Function-Error-Type": nil}
		if resp, err = c.Do(req); err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // drained for keep-alive only.
		resp.Body.Close()
	}
}
