package apigateway

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/devserver/devserver/project"
)

// FuzzRouter matches an arbitrary request against an arbitrary valid route set, decoded from the
// fuzzer's bytes by fuzzRoutes. Whatever they are, lookup must not panic; a match must be a route
// the request fits, with parameters that put back into the route's path give the request's path;
// no other route that fits may be more specific (literal > {param} > {proxy+}, segment by segment
// from the left, then a method before ANY); and no match means no route fits. What fits is said
// by refFit, a matcher written apart from the router. The committed corpus is in
// testdata/fuzz/FuzzRouter:
//
//	go test ./emulator/apigateway -run XXX -fuzz FuzzRouter -fuzztime 1m
func FuzzRouter(f *testing.F) {
	precedence := fuzzSpec("ANY /{proxy+}", "GET /pets/{proxy+}", "GET /pets/a/{p}", "GET /pets/{p}", "ANY /pets/{p}", "GET /pets", "GET /")
	for _, req := range [][2]string{{"GET", "/pets/a/1"}, {"GET", "/pets/b/1"}, {"POST", "/pets/7"}, {"GET", "/pets/"}, {"POST", "/"}, {"HEAD", "/pets"}, {"GET", "/pets/a%2Fb"}} {
		f.Add(precedence, req[0], req[1])
	}
	f.Add(fuzzSpec("GET /{p0}/b", "GET /a/{p1}", "ANY /a/b"), "GET", "/a/b")
	f.Add(fuzzSpec("POST /x.y/{proxy+}", "ANY /{p0}/{p1}/{proxy+}"), "POST", "/x.y/%41//b/")
	f.Add(fuzzSpec("GET /A", "GET /%41"), "GET", "/%41?q=1")
	f.Add(fuzzSpec(), "get", "*")
	f.Fuzz(func(t *testing.T, spec []byte, method, target string) {
		routes := fuzzRoutes(spec)
		rt := newRouter(routes)
		// Any string, for the panics; then the escaped path a server hands the gateway for it.
		rt.lookup(method, target)
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(u.EscapedPath(), "/") {
			return
		}
		path := u.EscapedPath()
		m, ok := rt.lookup(method, path)
		var fits []project.Route
		for _, r := range routes {
			if _, fit := refFit(r, method, path); fit {
				fits = append(fits, r)
			}
		}
		if !ok {
			if len(fits) > 0 {
				t.Fatalf("%s %s: no match, but %s fits (routes %v)", method, path, fits[0].Key(), routes)
			}
			return
		}
		want, fit := refFit(m.route, method, path)
		if !fit {
			t.Fatalf("%s %s matched %s, which does not fit (routes %v)", method, path, m.route.Key(), routes)
		}
		if !maps.Equal(m.params, want) {
			t.Errorf("%s %s matched %s with params %q, want %q", method, path, m.route.Key(), m.params, want)
		}
		if got := fillPath(m.route.Path, m.params); got != project.CleanPath(path) {
			t.Errorf("%s %s matched %s with params %q, which give back %q", method, path, m.route.Key(), m.params, got)
		}
		for _, r := range fits {
			if moreSpecific(r, m.route) {
				t.Errorf("%s %s matched %s, but %s fits and is more specific (routes %v)", method, path, m.route.Key(), r.Key(), routes)
			}
		}
	})
}

// fuzzLiterals are the literal segments fuzzRoutes chooses from.
var fuzzLiterals = []string{"a", "b", "pets", "x.y", "A", "%41"}

// fuzzRoutes decodes a route set that project validation accepts: the first byte says how many
// routes (at most 8), then for each one a byte for the method (low nibble) and the number of
// segments (high nibble, at most 4), and one byte per segment: a literal, a {param} named after
// its place (so no name repeats in a path), or a {proxy+} (only last). A route with the method and
// shape of an earlier one is left out, as validation refuses it. Literals are few and short so
// that routes overlap and requests hit them.
func fuzzRoutes(spec []byte) []project.Route {
	next := func() byte {
		if len(spec) == 0 {
			return 0
		}
		b := spec[0]
		spec = spec[1:]
		return b
	}
	var routes []project.Route
	seen := map[string]bool{}
	for n := int(next()) % 9; n > 0; n-- {
		b := next()
		method := project.Methods[int(b&0x0f)%len(project.Methods)]
		nseg := int(b>>4) % 5
		segs := make([]string, nseg)
		for i := range segs {
			s := next()
			switch kind := s % 8; {
			case kind == 7 && i == nseg-1:
				segs[i] = "{proxy+}"
			case kind >= 5:
				segs[i] = "{p" + string(rune('0'+i)) + "}"
			default:
				segs[i] = fuzzLiterals[int(s>>3)%len(fuzzLiterals)]
			}
		}
		r := project.Route{Method: method, Path: "/" + strings.Join(segs, "/"), Function: "f" + string(rune('0'+len(routes)))}
		if shape := r.Method + " " + project.Shape(r.Path); !seen[shape] {
			seen[shape] = true
			routes = append(routes, r)
		}
	}
	return routes
}

// fuzzSpec encodes routes ("GET /pets/{id}") for fuzzRoutes, to write seeds with. A literal must
// be one of fuzzLiterals; a {param}'s name is not kept (fuzzRoutes names it after its place).
func fuzzSpec(routes ...string) []byte {
	spec := []byte{byte(len(routes))}
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		segs := project.Segments(path)
		spec = append(spec, byte(len(segs))<<4|byte(slices.Index(project.Methods, method)))
		for _, s := range segs {
			switch {
			case s == "{proxy+}":
				spec = append(spec, 7)
			case strings.HasPrefix(s, "{"):
				spec = append(spec, 5)
			default:
				spec = append(spec, byte(slices.Index(fuzzLiterals, s))<<3)
			}
		}
	}
	return spec
}

// refFit says whether the escaped path and method fit route r, and with which parameters: a
// literal segment is the same text, a {param} is one non-empty segment, a {proxy+} is what is
// left (at least one character), ANY stands for project.AnyMethods, and one trailing slash
// does not count.
func refFit(r project.Route, method, path string) (map[string]string, bool) {
	if r.Method == "ANY" && !slices.Contains(project.AnyMethods, method) || r.Method != "ANY" && r.Method != method {
		return nil, false
	}
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	var got []string
	if path != "/" {
		got = strings.Split(strings.TrimPrefix(path, "/"), "/")
	}
	params := map[string]string{}
	var tpl []string
	if r.Path != "/" {
		tpl = strings.Split(strings.TrimPrefix(r.Path, "/"), "/")
	}
	for i, s := range tpl {
		switch {
		case strings.HasSuffix(s, "+}"):
			rest := strings.Join(got[min(i, len(got)):], "/")
			if rest == "" {
				return nil, false
			}
			params[s[1:len(s)-2]] = rest
			return params, true
		case i >= len(got):
			return nil, false
		case strings.HasPrefix(s, "{"):
			if got[i] == "" {
				return nil, false
			}
			params[s[1:len(s)-1]] = got[i]
		case s != got[i]:
			return nil, false
		}
	}
	return params, len(tpl) == len(got)
}

// moreSpecific says whether a beats b for a path both fit: at the first segment where they
// differ in kind, the more literal one; with no such segment, a method before ANY.
func moreSpecific(a, b project.Route) bool {
	kind := func(s string) int {
		switch {
		case strings.HasSuffix(s, "+}"):
			return 2
		case strings.HasPrefix(s, "{"):
			return 1
		}
		return 0
	}
	as, bs := project.Segments(a.Path), project.Segments(b.Path)
	for i := 0; i < len(as) && i < len(bs); i++ {
		if ka, kb := kind(as[i]), kind(bs[i]); ka != kb {
			return ka < kb
		}
	}
	return a.Method != "ANY" && b.Method == "ANY"
}

// fillPath puts the parameters back into a route's path.
func fillPath(tpl string, params map[string]string) string {
	segs := project.Segments(tpl)
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = params[strings.TrimSuffix(strings.Trim(s, "{}"), "+")]
		}
	}
	return "/" + strings.Join(segs, "/")
}
