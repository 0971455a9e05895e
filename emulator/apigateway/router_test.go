package apigateway

import (
	"testing"

	"github.com/devserver/devserver/project"
)

func TestRoutePrecedence(t *testing.T) {
	routes := []project.Route{
		{Method: "ANY", Path: "/{proxy+}", Function: "anyProxy"},
		{Method: "GET", Path: "/pets/{proxy+}", Function: "petsProxy"},
		{Method: "GET", Path: "/pets/dog/{id}", Function: "dog"},
		{Method: "GET", Path: "/pets/{id}", Function: "pet"},
		{Method: "ANY", Path: "/pets/{id}", Function: "petAny"},
		{Method: "GET", Path: "/pets", Function: "pets"},
		{Method: "GET", Path: "/", Function: "root"},
	}
	rt := newRouter(routes)
	tests := []struct {
		method, path, want string
		params             map[string]string
	}{
		{"GET", "/pets/dog/1", "dog", map[string]string{"id": "1"}},
		{"GET", "/pets/cat/1", "petsProxy", map[string]string{"proxy": "cat/1"}},
		{"GET", "/pets/7", "pet", map[string]string{"id": "7"}},
		{"POST", "/pets/7", "petAny", map[string]string{"id": "7"}},
		{"GET", "/pets", "pets", map[string]string{}},
		{"GET", "/pets/", "pets", map[string]string{}},
		{"GET", "/", "root", map[string]string{}},
		{"POST", "/", "", nil}, // {proxy+} does not match "/"
		{"DELETE", "/a/b", "anyProxy", map[string]string{"proxy": "a/b"}},
		{"HEAD", "/pets", "anyProxy", map[string]string{"proxy": "pets"}}, // HEAD is not GET
		{"GET", "/pets/a%2Fb", "pet", map[string]string{"id": "a%2Fb"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			m, ok := rt.lookup(tt.method, tt.path)
			if tt.want == "" {
				if ok {
					t.Fatalf("matched %s, want no route", m.route.Function)
				}
				return
			}
			if !ok || m.route.Function != tt.want {
				t.Fatalf("matched %q (ok %v), want %s", m.route.Function, ok, tt.want)
			}
			if len(m.params) != len(tt.params) {
				t.Errorf("params = %v, want %v", m.params, tt.params)
			}
			for k, v := range tt.params {
				if m.params[k] != v {
					t.Errorf("param %s = %q, want %q", k, m.params[k], v)
				}
			}
		})
	}
}

func TestMethodNotRouted(t *testing.T) {
	rt := newRouter([]project.Route{{Method: "GET", Path: "/pets", Function: "f"}})
	for _, m := range []string{"POST", "HEAD", "OPTIONS"} {
		if _, ok := rt.lookup(m, "/pets"); ok {
			t.Errorf("%s /pets matched a GET-only route", m)
		}
	}
}
