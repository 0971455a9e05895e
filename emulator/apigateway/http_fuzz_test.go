package apigateway

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
)

// FuzzWriteHTTPResponse decodes an arbitrary function answer as a payload 2.0 response, with and
// without the API's CORS taking the function's CORS headers' place. Whatever the answer,
// writeHTTPResponse must not panic; it may accept only JSON, and then must write a status in
// 200–599 and a Content-Length that is the length of the body it wrote; when it refuses the
// answer it must have set no header and written nothing; and the same answer must always give
// the same response. The committed corpus is in testdata/fuzz/FuzzWriteHTTPResponse:
//
//	go test ./emulator/apigateway -run XXX -fuzz FuzzWriteHTTPResponse -fuzztime 1m
func FuzzWriteHTTPResponse(f *testing.F) {
	for _, seed := range []string{
		`{"statusCode":200,"headers":{"Content-Type":"text/plain"},"body":"ok","cookies":["a=1","b=2"]}`,
		`{"hello":"world"}`,
		`"just a string"`,
		`[1,2]`,
		`null`,
		`{"statusCode":"201","body":{"a":1},"extra":true}`,
		`{"statusCode":"abc"}`,
		`{"statusCode":200,"body":"aGk=","isBase64Encoded":true,"headers":{"X-A":"1","x-a":"2","Access-Control-Allow-Origin":"*"}}`,
		`{"statusCode":200,"body":"%%%","isBase64Encoded":true}`,
		`{"statusCode":99}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, payload []byte, dropCORS bool) {
		write := func() (*httptest.ResponseRecorder, bool) {
			w := httptest.NewRecorder()
			return w, writeHTTPResponse(w, payload, dropCORS)
		}
		w, ok := write()
		// Go randomizes map order on every range: a few more runs show whether it reaches the answer.
		for range 3 {
			again, _ := write()
			if again.Code != w.Code || !reflect.DeepEqual(again.Header(), w.Header()) || !bytes.Equal(again.Body.Bytes(), w.Body.Bytes()) {
				t.Fatalf("%q answered twice: %d %v %q, then %d %v %q", payload, w.Code, w.Header(), w.Body.Bytes(), again.Code, again.Header(), again.Body.Bytes())
			}
		}
		if !ok {
			if len(w.Header()) != 0 || w.Body.Len() != 0 || w.Code != 200 {
				t.Fatalf("refused %q, but wrote %d %v %q", payload, w.Code, w.Header(), w.Body.Bytes())
			}
			return
		}
		if !json.Valid(payload) {
			t.Fatalf("accepted %q, which is not JSON", payload)
		}
		if w.Code < 200 || w.Code > 599 {
			t.Errorf("accepted %q with status %d", payload, w.Code)
		}
		if got := w.Header().Values("Content-Length"); len(got) != 1 || got[0] != strconv.Itoa(w.Body.Len()) {
			t.Errorf("accepted %q: Content-Length %q for a body of %d bytes", payload, got, w.Body.Len())
		}
		if dropCORS && w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("accepted %q: the function's CORS header went out beside the API's", payload)
		}
	})
}
