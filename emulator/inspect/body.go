package inspect

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"unicode/utf8"
)

// Body is a recorded body: at most the recorder's limit of it, and how big it was.
type Body struct {
	Data []byte
	// Size is the size of the whole body; -1 when it is not known (a body cut before its end
	// that came without a Content-Length).
	Size int64
	// Truncated is set when Data holds only the first part of the body.
	Truncated bool
}

// cut records b, keeping at most limit bytes. What it keeps is copied when cut, so that a
// recorded prefix never pins the whole of a large body in memory; a body within the limit is
// kept as it is (callers hand over slices nobody writes to afterwards).
func cut(b []byte, limit int) Body {
	if len(b) <= limit {
		return Body{Data: b, Size: int64(len(b))}
	}
	return Body{Data: slices.Clone(b[:limit]), Size: int64(len(b)), Truncated: true}
}

// MarshalJSON writes the body as text when it is UTF-8 and as base64 otherwise.
func (b Body) MarshalJSON() ([]byte, error) {
	v := struct {
		Text      string `json:"text"`
		Base64    bool   `json:"base64,omitempty"`
		Size      int64  `json:"size"`
		Truncated bool   `json:"truncated,omitempty"`
	}{Size: b.Size, Truncated: b.Truncated}
	text := b.Data
	if b.Truncated {
		text = trimPartialRune(text)
	}
	if utf8.Valid(text) {
		v.Text = string(text)
	} else {
		v.Text, v.Base64 = base64.StdEncoding.EncodeToString(b.Data), true
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (b *Body) UnmarshalJSON(data []byte) error {
	var v struct {
		Text      string `json:"text"`
		Base64    bool   `json:"base64"`
		Size      int64  `json:"size"`
		Truncated bool   `json:"truncated"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	b.Data, b.Size, b.Truncated = []byte(v.Text), v.Size, v.Truncated
	if v.Base64 {
		var err error
		if b.Data, err = base64.StdEncoding.DecodeString(v.Text); err != nil {
			return fmt.Errorf("decode body: %w", err)
		}
	}
	return nil
}

// trimPartialRune drops a rune that a cut split in two, so that cut text still reads as text.
func trimPartialRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && i < len(b); i++ {
		if r, _ := utf8.DecodeLastRune(b[:len(b)-i]); r != utf8.RuneError {
			return b[:len(b)-i]
		}
	}
	return b
}

// capture keeps the first limit bytes written to it and counts them all.
type capture struct {
	limit int
	buf   []byte
	n     int64
}

func (c *capture) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if room := c.limit - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// body is what was captured. Appends may have left the buffer well over what it holds: then it
// is copied, so that a ring of entries holds what it counts.
func (c *capture) body() Body {
	data := c.buf
	if cap(data) > len(data)+len(data)/4+64 {
		data = slices.Clone(data)
	}
	return Body{Data: data, Size: c.n, Truncated: c.n > int64(len(data))}
}

// requestBody stands in for a request's body, read through the recorder.
type requestBody struct {
	io.Reader
	closer io.Closer
}

func (b *requestBody) Close() error { return b.closer.Close() }

// headerBytes is what h holds, as the recorder counts it.
func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		n += len(k)
		for _, v := range vs {
			n += len(v) + 4
		}
	}
	return n
}

// cutHeader copies h, dropping whole headers (in name order) once limit bytes are reached.
func cutHeader(h http.Header, limit int) (http.Header, bool) {
	out := make(http.Header, len(h))
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	n := 0
	for _, k := range keys {
		size := headerBytes(http.Header{k: h[k]})
		if n+size > limit {
			return out, true
		}
		n += size
		out[k] = slices.Clone(h[k])
	}
	return out, false
}
