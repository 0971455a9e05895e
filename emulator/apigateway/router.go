package apigateway

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/devserver/devserver/project"
)

// router matches requests to routes in API Gateway's order of precedence.
type router struct {
	mux    *mux.Router
	routes []project.Route
	// fallback is the index of the HTTP API's $default route, -1 without one.
	fallback int
}

// match is a matched route with its path parameters as they appeared in the URL (not decoded).
type match struct {
	route  project.Route
	params map[string]string
}

func newRouter(routes []project.Route) *router {
	// gorilla/mux tries routes in the order they were added, so add them most specific first:
	// literal segment > {param} > {proxy+}, segment by segment, then a method before ANY.
	order := make([]int, len(routes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return precedence(routes[a], routes[b]) })
	m := mux.NewRouter().UseEncodedPath()
	fallback := -1
	for _, i := range order {
		r := routes[i]
		if r.Path == project.DefaultRoute {
			fallback = i
			continue
		}
		methods := []string{r.Method}
		if r.Method == "ANY" {
			methods = project.AnyMethods
		}
		m.Path(muxTemplate(r.Path)).Methods(methods...).Name(strconv.Itoa(i))
	}
	return &router{mux: m, routes: routes, fallback: fallback}
}

func precedence(a, b project.Route) int {
	as, bs := project.Segments(a.Path), project.Segments(b.Path)
	for i := 0; i < len(as) && i < len(bs); i++ {
		if c := cmp.Compare(segmentRank(as[i]), segmentRank(bs[i])); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(len(bs), len(as)); c != 0 {
		return c
	}
	return cmp.Compare(methodRank(a.Method), methodRank(b.Method))
}

func segmentRank(s string) int {
	switch {
	case strings.HasSuffix(s, "+}"):
		return 2
	case strings.HasPrefix(s, "{"):
		return 1
	}
	return 0
}

func methodRank(m string) int {
	if m == "ANY" {
		return 1
	}
	return 0
}

// muxTemplate turns "/files/{proxy+}" into gorilla/mux's "/files/{proxy:.+}".
func muxTemplate(p string) string {
	segs := project.Segments(p)
	for i, s := range segs {
		if strings.HasSuffix(s, "+}") {
			segs[i] = "{" + strings.TrimSuffix(s[1:], "+}") + ":.+}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// lookup finds the route for method and an escaped path. found is false when no route matches
// the path and method together (API Gateway does not distinguish a wrong method).
func (rt *router) lookup(method, escapedPath string) (match, bool) {
	p := project.CleanPath(escapedPath)
	u := &url.URL{Path: p, RawPath: p}
	if dec, err := url.PathUnescape(p); err == nil {
		u.Path = dec
	}
	req := &http.Request{Method: method, URL: u}
	var m mux.RouteMatch
	if !rt.mux.Match(req, &m) || m.MatchErr != nil || m.Route == nil {
		// An HTTP API sends what no route takes to its $default route, whatever the method.
		if rt.fallback >= 0 {
			return match{route: rt.routes[rt.fallback]}, true
		}
		return match{}, false
	}
	i, err := strconv.Atoi(m.Route.GetName())
	if err != nil {
		return match{}, false
	}
	r := rt.routes[i]
	params := make(map[string]string, len(m.Vars))
	for _, s := range project.Segments(r.Path) {
		if strings.HasPrefix(s, "{") {
			name := strings.TrimSuffix(strings.TrimSuffix(s[1:], "}"), "+")
			// API Gateway names a greedy parameter without its "+".
			params[name] = m.Vars[name]
		}
	}
	return match{route: r, params: params}, true
}

// resource finds the route a path would reach by any method, the one API Gateway's resource
// tree would pick: the most specific of those that match. It answers what a REST API's CORS
// OPTIONS method needs: whether the path is a resource, and which methods it has.
func (rt *router) resource(escapedPath string) (project.Route, []string, bool) {
	var best project.Route
	found := false
	for _, m := range project.AnyMethods {
		if mt, ok := rt.lookup(m, escapedPath); ok && (!found || precedence(mt.route, best) < 0) {
			best, found = mt.route, true
		}
	}
	if !found {
		return best, nil, false
	}
	var methods []string
	for _, r := range rt.routes {
		if r.Path != best.Path {
			continue
		}
		if r.Method == "ANY" {
			methods = append(methods, project.AnyMethods...)
		} else {
			methods = append(methods, r.Method)
		}
	}
	methods = append(methods, "OPTIONS")
	slices.Sort(methods)
	return best, slices.Compact(methods), true
}
