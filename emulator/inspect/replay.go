package inspect

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Edit is a recorded request as the page sends it back to be replayed: every field is sent, as
// is or edited.
type Edit struct {
	Method string      `json:"method"`
	URI    string      `json:"uri"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
	// Base64 is set when Body is base64 (a binary body).
	Base64 bool `json:"base64,omitempty"`
}

// Errors a replay can end in before it reached the front.
var (
	ErrNoEntry      = errors.New("no such entry (it may have been cleared or pushed out)")
	ErrNotReplay    = errors.New("the entry has no HTTP request to replay")
	ErrBodyCut      = errors.New("the recorded body was cut at the inspector's limit; edit it to replay")
	ErrNoReplayPath = errors.New("the entry's front takes no replays")
)

// Replay sends the request of entry id again through the same front, as recorded when edit is
// nil, and returns the new entry. It is served in process by the front's whole handler chain
// (the access log and the dev loop included), as a request from outside would be; the new
// entry notes which one it replays.
func (r *Recorder) Replay(ctx context.Context, id uint64, edit *Edit) (Entry, error) {
	e, ok := r.Entry(id)
	switch {
	case !ok:
		return Entry{}, fmt.Errorf("replay %d: %w", id, ErrNoEntry)
	case e.Request == nil:
		return Entry{}, fmt.Errorf("replay %d: %w", id, ErrNotReplay)
	}
	r.mu.Lock()
	front := r.fronts[e.Front]
	r.mu.Unlock()
	if front == nil {
		return Entry{}, fmt.Errorf("replay %d (%s): %w", id, e.Front, ErrNoReplayPath)
	}
	q := e.Request
	if edit == nil {
		if q.Body.Truncated {
			return Entry{}, fmt.Errorf("replay %d: %w", id, ErrBodyCut)
		}
		edit = &Edit{Method: q.Method, URI: q.URI, Header: q.Header, Body: string(q.Body.Data)}
	}
	body := []byte(edit.Body)
	if edit.Base64 {
		var err error
		if body, err = base64.StdEncoding.DecodeString(edit.Body); err != nil {
			return Entry{}, fmt.Errorf("replay %d: decode body: %w", id, err)
		}
	}
	if !strings.HasPrefix(edit.URI, "/") {
		return Entry{}, fmt.Errorf("replay %d: path %q does not start with /", id, edit.URI)
	}
	mark := &replayMark{of: id}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, replayKey{}, mark), edit.Method, "http://"+q.Host+edit.URI, bytes.NewReader(body))
	if err != nil {
		return Entry{}, fmt.Errorf("replay %d: %w", id, err)
	}
	req.RequestURI, req.Host, req.RemoteAddr = edit.URI, q.Host, q.RemoteAddr
	req.Header = edit.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	// A stale length would lie to the function about an edited body.
	req.Header.Del("Content-Length")
	if len(body) > 0 || q.Header.Get("Content-Length") != "" {
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	front.ServeHTTP(&discardWriter{header: http.Header{}}, req)
	if mark.id == 0 {
		return Entry{}, fmt.Errorf("replay %d: the front's chain did not record it", id)
	}
	got, ok := r.Entry(mark.id)
	if !ok {
		return Entry{}, fmt.Errorf("replay %d: %w", id, ErrNoEntry)
	}
	return got, nil
}

// discardWriter answers a replay: the recorder keeps what is written, nobody else reads it.
type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// Curl is a shell command that sends q again with curl.
func Curl(q *Request) string {
	parts := []string{"curl"}
	if q.Method != http.MethodGet {
		parts = append(parts, "-X "+shellQuote(q.Method))
	}
	parts = append(parts, shellQuote("http://"+q.Host+q.URI))
	keys := make([]string, 0, len(q.Header))
	for k := range q.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if http.CanonicalHeaderKey(k) == "Content-Length" {
			continue // curl counts the body itself
		}
		for _, v := range q.Header[k] {
			parts = append(parts, "-H "+shellQuote(k+": "+v))
		}
	}
	var note string
	switch b := q.Body; {
	case len(b.Data) == 0:
	case !utf8.Valid(b.Data) || bytes.IndexByte(b.Data, 0) >= 0:
		note = fmt.Sprintf("\n# the body (%d bytes) is binary: save it to a file and add --data-binary @FILE", b.Size)
	default:
		parts = append(parts, "--data-binary "+shellQuote(string(b.Data)))
		if b.Truncated {
			note = fmt.Sprintf("\n# the body was cut at %d of %d bytes", len(b.Data), b.Size)
		}
	}
	return strings.Join(parts, " \\\n  ") + note
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
