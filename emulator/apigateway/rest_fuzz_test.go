package apigateway

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
)

// FuzzWriteRESTResponse decodes an arbitrary function answer as a payload 1.0 response, asked for
// with an arbitrary Accept header and with image/png and text/* as binary media types. Whatever
// the answer, writeRESTResponse must not panic; it may accept only a JSON object, and then must
// write a status in 200–599 and a Content-Length that is the length of the body it wrote; when it
// refuses the answer it must have set no header and written nothing, so that the 502 that follows
// carries none of the function's headers; and the same answer must always give the same response. The committed corpus is in
// testdata/fuzz/FuzzWriteRESTResponse:
//
//	go test ./emulator/apigateway -run XXX -fuzz FuzzWriteRESTResponse -fuzztime 1m
func FuzzWriteRESTResponse(f *testing.F) {
	for _, seed := range []struct{ payload, accept string }{
		{`{"statusCode":200,"headers":null,"multiValueHeaders":null,"body":""}`, ""},
		{`{"statusCode":"201","headers":{"X-A":"1","Content-Length":"99"},"multiValueHeaders":{"X-A":["1","3"],"X-B":[true]},"body":"x"}`, ""},
		{`{"headers":{"Content-Type":"image/png"},"body":"aGk=","isBase64Encoded":true}`, "image/png, */*"},
		{`{"body":"%%%","isBase64Encoded":true}`, "text/html"},
		{`{"statusCode":101}`, ""},
		{`{"body":"a"} {}`, ""},
		{` "hello" `, ""},
		{`[{"statusCode":200}]`, ""},
	} {
		f.Add([]byte(seed.payload), seed.accept)
	}
	f.Fuzz(func(t *testing.T, payload []byte, accept string) {
		write := func() (*httptest.ResponseRecorder, bool) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept", accept)
			return w, writeRESTResponse(w, r, payload, []string{"image/png", "text/*"}, false)
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
		if p := bytes.TrimSpace(payload); !json.Valid(p) || p[0] != '{' {
			t.Fatalf("accepted %q, which is not a JSON object", payload)
		}
		if w.Code < 200 || w.Code > 599 {
			t.Errorf("accepted %q with status %d", payload, w.Code)
		}
		if got, want := w.Header().Values("Content-Length"), []string{strconv.Itoa(w.Body.Len())}; len(got) != 1 || got[0] != want[0] {
			t.Errorf("accepted %q: Content-Length %q for a body of %d bytes", payload, got, w.Body.Len())
		}
	})
}
