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
	for _, i := range order {
		r := routes[i]
		methods := []string{r.Method}
		if r.Method == "ANY" {
			methods = project.AnyMethods
		}
		m.Path(muxTemplate(r.Path)).Methods(methods...).Name(strconv.Itoa(i))
	}
	return &router{mux: m, routes: routes}
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
