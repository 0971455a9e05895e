// Command plain is the benchmark baseline: a bare net/http server answering what the sample
// answers, so that the gateway's round trip can be reported as a ratio of it.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8100", "address to listen on")
	flag.Parse()
	body := []byte(`{"hello":"world"}`)
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})))
}
