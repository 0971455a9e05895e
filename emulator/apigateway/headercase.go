package apigateway

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/textproto"
	"sync"
)

// net/http canonicalises request header names as it parses them ("x-lower-case" becomes
// "X-Lower-Case"); API Gateway passes them to the function as the client sent them, and HTTP/2
// clients such as browsers send them in lower case. Code that reads Headers["content-type"]
// must work here as it does in the cloud, so the front keeps the bytes of each connection's
// latest request head and reads the names' spelling back from them.

// headBuffer bounds what a connection keeps: a request head larger than this falls back to the
// canonical names.
const headBuffer = 64 << 10

// Listener wraps ln so that the gateway can recover the spelling of header names. Serve it with
// ConnContext as the http.Server's ConnContext.
func Listener(ln net.Listener) net.Listener { return spellingListener{ln} }

type spellingListener struct{ net.Listener }

func (l spellingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &spellingConn{Conn: c}, nil
}

// spellingConn remembers the bytes read since the last request head was taken.
type spellingConn struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

func (c *spellingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if len(c.buf)+n > headBuffer {
			// Keep the newest bytes: a request head is read before its handler runs.
			drop := min(len(c.buf), len(c.buf)+n-headBuffer)
			c.buf = append(c.buf[:0], c.buf[drop:]...)
		}
		if n <= headBuffer {
			c.buf = append(c.buf, p[:n]...)
		}
		c.mu.Unlock()
	}
	return n, err
}

type connKey struct{}

// ConnContext is the http.Server ConnContext that goes with Listener.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*spellingConn); ok {
		return context.WithValue(ctx, connKey{}, sc)
	}
	return ctx
}

// spelling returns, for r's header names as net/http keys them, the names as the client wrote
// them. It must run before r's body is read. Names it cannot recover keep their canonical form.
func spelling(r *http.Request) map[string]string {
	c, _ := r.Context().Value(connKey{}).(*spellingConn)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	line := []byte(r.Method + " " + r.RequestURI + " ")
	// The newest request line at the start of a line is this request's: the server parsed the
	// head just before calling the handler, and only the body's first bytes can follow it.
	start := -1
	for end := len(c.buf); end > 0; {
		i := bytes.LastIndex(c.buf[:end], line)
		if i < 0 {
			break
		}
		if i == 0 || c.buf[i-1] == '\n' {
			start = i
			break
		}
		end = i
	}
	if start < 0 {
		return nil
	}
	head := c.buf[start:]
	stop := bytes.Index(head, []byte("\r\n\r\n"))
	if stop < 0 {
		return nil
	}
	names := map[string]string{}
	lines := bytes.Split(head[:stop], []byte("\r\n"))
	for _, l := range lines[1:] {
		name, _, ok := bytes.Cut(l, []byte(":"))
		if !ok || len(name) == 0 {
			continue
		}
		key := textproto.CanonicalMIMEHeaderKey(string(name))
		if _, seen := names[key]; !seen {
			names[key] = string(name)
		}
	}
	// What follows the head is body, or the next request: keep it for that one.
	c.buf = append(c.buf[:0], c.buf[start+stop+4:]...)
	return names
}
