package inspect

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

//go:embed ui
var uiFiles embed.FS

// page is the inspector's page; the rest of what it shows is drawn by ui/app.js.
var page = template.Must(template.ParseFS(uiFiles, "ui/index.html"))

// maxEdit bounds an edited request sent back for replay (API Gateway's own payload limit).
const maxEdit = 10 << 20

// Handler serves the inspector: the page and its assets, a JSON API over what r recorded, and a
// stream of changes (Server-Sent Events). Streams end when ctx is done, so that shutting the
// server down does not wait for an open page. Requests from another site's pages are refused.
func (r *Recorder) Handler(ctx context.Context) http.Handler {
	u := &ui{r: r, ctx: ctx}
	assets, _ := fs.Sub(uiFiles, "ui")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", u.index)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /api/stream", u.stream)
	mux.HandleFunc("GET /api/entries", u.entries)
	mux.HandleFunc("DELETE /api/entries", u.clear)
	mux.HandleFunc("GET /api/entries/{id}", u.entry)
	mux.HandleFunc("GET /api/entries/{id}/invocations/{n}/event", u.event)
	mux.HandleFunc("POST /api/entries/{id}/replay", u.replay)
	mux.HandleFunc("GET /api/builds", u.builds)
	return machineHostsOnly(http.NewCrossOriginProtection().Handler(mux))
}

// machineHostsOnly refuses requests addressed to a host name other than localhost: the recorded
// requests may hold credentials, and a page on a name that its owner points at 127.0.0.1 (DNS
// rebinding) would otherwise read them as if it were the inspector's own. An IP address cannot
// be rebound, so --host 0.0.0.0 still serves other machines that use the address.
func machineHostsOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		host = strings.TrimSuffix(strings.ToLower(host), ".")
		if host != "localhost" && !strings.HasSuffix(host, ".localhost") && net.ParseIP(strings.Trim(host, "[]")) == nil {
			http.Error(w, "the inspector answers only requests addressed to an IP address or localhost", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

type ui struct {
	r   *Recorder
	ctx context.Context
}

func (u *ui) index(w http.ResponseWriter, _ *http.Request) {
	var b bytes.Buffer
	data := struct {
		Size                        int
		BodyLimitText, MaxBytesText string
	}{u.r.size, byteSize(u.r.limit), byteSize(int(u.r.maxBytes))}
	if err := page.Execute(&b, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes()) //nolint:errcheck // client gone.
}

// byteSize reads n bytes as a person would write it: "256 KB".
func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KB"
	}
	return strconv.Itoa(n) + " bytes"
}

// Detail is an entry as the page opens it.
type Detail struct {
	Entry
	Summary Summary `json:"summary"`
	// Curl sends the request again from a shell; "" without an HTTP request.
	Curl string `json:"curl,omitempty"`
}

func detail(e Entry) Detail {
	d := Detail{Entry: e, Summary: e.summary()}
	if e.Request != nil {
		d.Curl = Curl(e.Request)
	}
	return d
}

func (u *ui) entries(w http.ResponseWriter, _ *http.Request) {
	es := u.r.Entries()
	out := make([]Summary, len(es))
	for i := range es {
		out[i] = es[i].summary()
	}
	writeJSON(w, http.StatusOK, out)
}

func (u *ui) clear(w http.ResponseWriter, _ *http.Request) {
	u.r.Clear()
	w.WriteHeader(http.StatusNoContent)
}

func (u *ui) builds(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, u.r.Builds())
}

// lookup finds the entry the request's {id} names, or answers 404.
func (u *ui) lookup(w http.ResponseWriter, req *http.Request) (Entry, bool) {
	id, err := strconv.ParseUint(req.PathValue("id"), 10, 64)
	if err == nil {
		if e, ok := u.r.Entry(id); ok {
			return e, true
		}
	}
	writeError(w, http.StatusNotFound, ErrNoEntry)
	return Entry{}, false
}

func (u *ui) entry(w http.ResponseWriter, req *http.Request) {
	if e, ok := u.lookup(w, req); ok {
		writeJSON(w, http.StatusOK, detail(e))
	}
}

// unsafeName is what may not go into a download's file name.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// event downloads the event of one invocation as a JSON file, for `devserver invoke --event`.
func (u *ui) event(w http.ResponseWriter, req *http.Request) {
	e, ok := u.lookup(w, req)
	if !ok {
		return
	}
	n, err := strconv.Atoi(req.PathValue("n"))
	if err != nil || n < 0 || n >= len(e.Invocations) {
		writeError(w, http.StatusNotFound, errors.New("no such invocation"))
		return
	}
	ev := e.Invocations[n].Event
	if ev.Truncated {
		writeError(w, http.StatusConflict, fmt.Errorf("the event was cut at %d of %d bytes: it would not be valid JSON", len(ev.Data), ev.Size))
		return
	}
	var b bytes.Buffer
	if json.Indent(&b, ev.Data, "", "  ") != nil {
		b.Reset()
		b.Write(ev.Data) // not JSON (an Invoke API payload may be anything): as it was sent
	}
	b.WriteByte('\n')
	name := unsafeName.ReplaceAllString(fmt.Sprintf("event-%s-%d.json", e.Invocations[n].Function, e.ID), "_")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(b.Bytes()) //nolint:errcheck // client gone.
}

func (u *ui) replay(w http.ResponseWriter, req *http.Request) {
	id, err := strconv.ParseUint(req.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, ErrNoEntry)
		return
	}
	var edit *Edit
	body, err := io.ReadAll(io.LimitReader(req.Body, maxEdit+1))
	switch {
	case err != nil:
		writeError(w, http.StatusBadRequest, fmt.Errorf("read replay: %w", err))
		return
	case len(body) > maxEdit:
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("read replay: over %d bytes", maxEdit))
		return
	case len(bytes.TrimSpace(body)) > 0:
		edit = &Edit{}
		if err := json.Unmarshal(body, edit); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("decode replay: %w", err))
			return
		}
	}
	e, err := u.r.Replay(req.Context(), id, edit)
	switch {
	case errors.Is(err, ErrNoEntry):
		writeError(w, http.StatusNotFound, err)
	case err != nil:
		writeError(w, http.StatusUnprocessableEntity, err)
	default:
		writeJSON(w, http.StatusOK, detail(e))
	}
}

// stream sends the page a snapshot, then every change as it happens.
func (u *ui) stream(w http.ResponseWriter, req *http.Request) {
	snap, sub := u.r.subscribe()
	defer u.r.unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	rc := http.NewResponseController(w)
	// A page that fell behind or lost the stream reconnects and starts again from a snapshot.
	io.WriteString(w, "retry: 1000\n") //nolint:errcheck // checked on flush.
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		return err
	}
	if send("snapshot", snap) != nil || rc.Flush() != nil {
		return
	}
	for {
		select {
		case <-u.ctx.Done():
			return
		case <-req.Context().Done():
			return
		case <-sub.lagged:
			return
		case m := <-sub.ch:
			for more := true; more; {
				var err error
				switch {
				case m.sum != nil:
					err = send("entry", m.sum)
				case m.build != nil:
					err = send("build", m.build)
				case m.cleared:
					err = send("clear", struct{}{})
				}
				if err != nil {
					return
				}
				select {
				case m = <-sub.ch:
				default:
					more = false
				}
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // client gone.
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{err.Error()})
}
