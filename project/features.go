package project

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Event payload formats, as SAM spells PayloadFormatVersion.
const (
	Payload10 = "1.0"
	Payload20 = "2.0"
)

// DefaultRoute is the path of an HTTP API's catch-all route, and its route key.
const DefaultRoute = "$default"

// DefaultHTTPStage is the HTTP API stage served at the root of the invoke URL, with no prefix.
const DefaultHTTPStage = "$default"

// Authorizer types.
const (
	AuthToken   = "token"
	AuthRequest = "request"
)

// AuthNone on a route opens it when the API has a default authorizer.
const AuthNone = "NONE"

// Function URL auth types, as Lambda spells them.
const (
	URLAuthNone = "NONE"
	URLAuthIAM  = "AWS_IAM"
)

// DefaultAuthorizerTTL is API Gateway's default authorizer result cache time, in seconds.
const DefaultAuthorizerTTL = 300

// Identity source kinds: where an authorizer's identity is read from.
const (
	IdentityHeader = "header"
	IdentityQuery  = "query"
	IdentityStage  = "stage"
)

// CORS is the cross-origin configuration of an API or a function URL.
type CORS struct {
	// AllowOrigins are origins like "https://app.example.com", or "*". A REST API takes one.
	AllowOrigins []string
	// AllowMethods are methods, or "*"; empty lets a REST API list the path's own methods.
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	MaxAgeSec        int
	AllowCredentials bool
}

// Authorizer is a Lambda authorizer: a function of the application that decides whether a
// request may reach its route.
type Authorizer struct {
	Name string
	// Function is the authorizer's function.
	Function string
	// Type is AuthToken (REST only) or AuthRequest.
	Type string
	// Identity lists where the identity is read; a TOKEN authorizer reads one header.
	Identity []IdentitySource
	// Validation is a TOKEN authorizer's regular expression the token must match; "" for none.
	Validation string
	// TTLSec is how long a result is cached per identity; 0 turns caching off.
	TTLSec int
	// PayloadFormat is the authorizer event's format on an HTTP API (Payload10 or Payload20).
	PayloadFormat string
	// SimpleResponses says an HTTP API authorizer answers {"isAuthorized": ...} rather than a policy.
	SimpleResponses bool
}

// IdentitySource is one place an authorizer's identity is read from: a request header, a query
// string parameter, or a stage variable.
type IdentitySource struct {
	// Kind is IdentityHeader, IdentityQuery or IdentityStage.
	Kind string
	Name string
}

func (s IdentitySource) String() string { return s.Kind + "." + s.Name }

// FunctionURL is a Lambda function URL.
type FunctionURL struct {
	// Auth is URLAuthNone or URLAuthIAM.
	Auth string
	CORS *CORS
}

// Authorizer returns the authorizer named name, or nil.
func (a *API) Authorizer(name string) *Authorizer {
	for _, z := range a.Authorizers {
		if z.Name == name {
			return z
		}
	}
	return nil
}

// raw forms of the settings above, with their positions for problems found after decoding.

type rawCORS struct {
	pos
	origins, methods, headers, expose []str
	maxAge                            num
	credentials                       rawBool
}

type rawBool struct {
	pos
	v, set bool
}

type rawAuthorizer struct {
	pos
	function, typ, validation, payload str
	identity                           []str
	ttl                                num
	simple                             rawBool
}

type rawURL struct {
	pos
	auth str
	cors *rawCORS
}

func (d *decoder) boolean(n *yaml.Node, key string) rawBool {
	b := rawBool{pos: pos{n.Line, n.Column}}
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!bool" && (n.Value == "true" || n.Value == "false"):
		b.v, b.set = n.Value == "true", true
	default:
		d.problem(n.Line, n.Column, key, fmt.Sprintf("%q must be true or false", n.Value))
	}
	return b
}

// strList decodes a list of strings; a single string is taken as a list of one.
func (d *decoder) strList(n *yaml.Node, key string) []str {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []str{d.str(n, key, nil)}
	}
	if n.Kind != yaml.SequenceNode {
		d.problem(n.Line, n.Column, key, "must be a list of strings")
		return nil
	}
	out := make([]str, 0, len(n.Content))
	for i, e := range n.Content {
		out = append(out, d.str(e, fmt.Sprintf("%s[%d]", key, i), nil))
	}
	return out
}

func (d *decoder) cors(n *yaml.Node, path string) *rawCORS {
	c := &rawCORS{pos: pos{n.Line, n.Column}}
	for k, v := range d.fields(n, path, "allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age", "allow_credentials") {
		key := path + "." + k
		switch k {
		case "allow_origins":
			c.origins = d.strList(v, key)
			for i, o := range c.origins {
				if o.v != "" && o.v != "*" && !origin.MatchString(o.v) {
					d.problem(o.line, o.col, fmt.Sprintf("%s[%d]", key, i), fmt.Sprintf("%q is not an origin like https://app.example.com or *", o.v))
				}
			}
		case "allow_methods":
			c.methods = d.strList(v, key)
			for i, m := range c.methods {
				if m.v != "*" && !slices.Contains(AnyMethods, strings.ToUpper(m.v)) {
					d.problem(m.line, m.col, fmt.Sprintf("%s[%d]", key, i), fmt.Sprintf("unknown method %q (want *, or some of %s)", m.v, strings.Join(AnyMethods, ", ")))
				}
			}
		case "allow_headers":
			c.headers = d.strList(v, key)
		case "expose_headers":
			c.expose = d.strList(v, key)
		case "max_age":
			c.maxAge = d.num(v, key)
			if c.maxAge.set && (c.maxAge.v < 0 || c.maxAge.v > 86400) {
				d.problem(v.Line, v.Column, key, fmt.Sprintf("%d s is outside 0–86400", c.maxAge.v))
			}
		case "allow_credentials":
			c.credentials = d.boolean(v, key)
		}
	}
	return c
}

func (d *decoder) stageVariables(n *yaml.Node, path string) map[string]string {
	vars := map[string]string{}
	if n.Kind != yaml.MappingNode {
		d.problem(n.Line, n.Column, path, "must be a map of name: value")
		return vars
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		key := path + "." + kn.Value
		if !stageVarName.MatchString(kn.Value) {
			d.problem(kn.Line, kn.Column, key, "a stage variable name must be letters, digits and _")
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			d.problem(v.Line, v.Column, key, "must be a string")
			continue
		}
		// API Gateway's own rule for stage variable values.
		if !stageVarValue.MatchString(v.Value) {
			d.problem(v.Line, v.Column, key, fmt.Sprintf("%q may hold only letters, digits and - . _ ~ : / ? # & = ,", v.Value))
		}
		vars[kn.Value] = v.Value
	}
	return vars
}

func (d *decoder) authorizers(n *yaml.Node, path string) map[string]*rawAuthorizer {
	out := map[string]*rawAuthorizer{}
	if n.Kind != yaml.MappingNode {
		d.problem(n.Line, n.Column, path, "must be a map of authorizer name to settings")
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		key := path + "." + kn.Value
		if !authorizerName.MatchString(kn.Value) || kn.Value == AuthNone {
			d.problem(kn.Line, kn.Column, key, "an authorizer name must be letters and digits, starting with a letter, and not NONE")
		}
		a := &rawAuthorizer{pos: pos{kn.Line, kn.Column}}
		for k, av := range d.fields(v, key, "function", "type", "identity", "validation", "ttl", "payload_format", "simple_responses") {
			akey := key + "." + k
			switch k {
			case "function":
				a.function = d.str(av, akey, nil)
			case "type":
				a.typ = d.str(av, akey, []string{AuthToken, AuthRequest})
			case "identity":
				a.identity = d.strList(av, akey)
				for j, s := range a.identity {
					where, name, _ := strings.Cut(s.v, ".")
					if s.v != "" && (name == "" || !slices.Contains([]string{IdentityHeader, IdentityQuery, IdentityStage}, where)) {
						d.problem(s.line, s.col, fmt.Sprintf("%s[%d]", akey, j), fmt.Sprintf("%q is not header.NAME, query.NAME or stage.NAME", s.v))
					}
				}
			case "validation":
				a.validation = d.str(av, akey, nil)
				if _, err := regexp.Compile(a.validation.v); err != nil {
					d.problem(av.Line, av.Column, akey, fmt.Sprintf("not a regular expression: %v", err))
				}
			case "ttl":
				a.ttl = d.num(av, akey)
				if a.ttl.set && (a.ttl.v < 0 || a.ttl.v > 3600) {
					d.problem(av.Line, av.Column, akey, fmt.Sprintf("%d s is outside 0–3600", a.ttl.v))
				}
			case "payload_format":
				a.payload = d.str(av, akey, []string{Payload10, Payload20})
			case "simple_responses":
				a.simple = d.boolean(av, akey)
			}
		}
		out[kn.Value] = a
	}
	return out
}

// url decodes a function's url setting: true, false, or {auth, cors}.
func (d *decoder) url(n *yaml.Node, path string) *rawURL {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		if d.boolean(n, path).v {
			return &rawURL{pos: pos{n.Line, n.Column}}
		}
		return nil
	}
	u := &rawURL{pos: pos{n.Line, n.Column}}
	for k, v := range d.fields(n, path, "auth", "cors") {
		switch k {
		case "auth":
			u.auth = d.str(v, path+"."+k, []string{URLAuthNone, URLAuthIAM})
		case "cors":
			u.cors = d.cors(v, path+"."+k)
		}
	}
	return u
}

// resolveCORS checks what depends on the API kind and builds the model's CORS.
func (d *decoder) resolveCORS(c *rawCORS, key string, rest bool) *CORS {
	if c == nil {
		return nil
	}
	out := &CORS{MaxAgeSec: c.maxAge.v, AllowCredentials: c.credentials.v}
	for _, s := range c.origins {
		out.AllowOrigins = append(out.AllowOrigins, s.v)
	}
	for _, s := range c.methods {
		out.AllowMethods = append(out.AllowMethods, strings.ToUpper(s.v))
	}
	for _, s := range c.headers {
		out.AllowHeaders = append(out.AllowHeaders, s.v)
	}
	for _, s := range c.expose {
		out.ExposeHeaders = append(out.ExposeHeaders, s.v)
	}
	if len(out.AllowOrigins) == 0 {
		d.problem(c.line, c.col, key+".allow_origins", "missing: the origins that may call, or [\"*\"]")
	}
	if rest && len(out.AllowOrigins) > 1 {
		// SAM's Cors on a REST API has one AllowOrigin, answered as is by the OPTIONS mock.
		d.problem(c.origins[1].line, c.origins[1].col, key+".allow_origins", "a REST API allows one origin (SAM's AllowOrigin); use an HTTP API for several")
	}
	if rest && len(c.expose) > 0 {
		d.problem(c.expose[0].line, c.expose[0].col, key+".expose_headers", "a REST API's CORS cannot expose headers (the function sets Access-Control-Expose-Headers itself)")
	}
	if out.AllowCredentials && slices.Contains(out.AllowOrigins, "*") {
		d.problem(c.credentials.line, c.credentials.col, key+".allow_credentials", "browsers refuse credentials with origin *: list the origins")
	}
	return out
}

// resolveAPI completes p.API with what needs the functions and the kind: the stage default of
// an HTTP API, CORS, stage variables and authorizers.
func (d *decoder) resolveAPI(raw rawConfig, p *Project) {
	a := raw.api
	rest := p.API.Kind == KindREST
	if a.stage.v == "" && !rest {
		p.API.Stage = DefaultHTTPStage
	}
	if a.stage.v == DefaultHTTPStage && rest {
		d.problem(a.stage.line, a.stage.col, "api.stage", "$default is an HTTP API stage; a REST API's stage needs a name")
	}
	if !rest && p.API.TimeoutMS > httpMaxTimeoutMS && a.timeoutMS.set {
		d.problem(a.timeoutMS.line, a.timeoutMS.col, "api.timeout_ms", fmt.Sprintf("an HTTP API integration times out after at most %d ms", httpMaxTimeoutMS))
	}
	if !rest && len(a.binary) > 0 {
		d.problem(a.binaryPos.line, a.binaryPos.col, "api.binary_media_types", "an HTTP API has no binary media types: it base64-encodes every body that is not text")
	}
	p.API.CORS = d.resolveCORS(a.cors, "api.cors", rest)
	if len(a.stageVars) > 0 {
		p.API.StageVariables = a.stageVars
	}
	for _, name := range slices.Sorted(maps.Keys(a.authorizers)) {
		ra := a.authorizers[name]
		key := "api.authorizers." + name
		z := &Authorizer{Name: name, Function: ra.function.v, Type: ra.typ.v, Validation: ra.validation.v,
			TTLSec: ra.ttl.or(DefaultAuthorizerTTL), PayloadFormat: ra.payload.v, SimpleResponses: ra.simple.v}
		switch {
		case ra.function.v == "":
			d.problem(ra.line, ra.col, key+".function", "missing: the function that authorizes")
		case raw.functions[ra.function.v] == nil:
			d.problem(ra.function.line, ra.function.col, key+".function", fmt.Sprintf("no function %q", ra.function.v))
		}
		if z.Type == "" {
			z.Type = AuthRequest
			if rest {
				z.Type = AuthToken
			}
		}
		if !rest && z.Type == AuthToken {
			d.problem(ra.typ.line, ra.typ.col, key+".type", "an HTTP API's Lambda authorizers are request authorizers")
		}
		for _, s := range ra.identity {
			where, name, _ := strings.Cut(s.v, ".")
			z.Identity = append(z.Identity, IdentitySource{Kind: where, Name: name})
		}
		if len(ra.identity) == 0 && z.Type == AuthToken {
			z.Identity = []IdentitySource{{Kind: IdentityHeader, Name: "Authorization"}}
		}
		if z.Type == AuthToken && (len(z.Identity) != 1 || z.Identity[0].Kind != IdentityHeader) {
			d.problem(ra.identity[0].line, ra.identity[0].col, key+".identity", "a token authorizer reads one header: [header.NAME]")
		}
		if z.Type == AuthRequest && len(z.Identity) == 0 && z.TTLSec > 0 {
			d.problem(ra.line, ra.col, key+".identity", "a cached request authorizer needs an identity (e.g. [header.Authorization]); or set ttl: 0")
		}
		if ra.validation.v != "" && z.Type != AuthToken {
			d.problem(ra.validation.line, ra.validation.col, key+".validation", "only a token authorizer validates its token")
		}
		if rest {
			for _, s := range []str{ra.payload} {
				if s.v != "" {
					d.problem(s.line, s.col, key+".payload_format", "a REST API's authorizers have one format; payload_format is for an HTTP API")
				}
			}
			if ra.simple.set {
				d.problem(ra.simple.line, ra.simple.col, key+".simple_responses", "a REST API's authorizers answer with a policy; simple_responses is for an HTTP API")
			}
		} else {
			if z.PayloadFormat == "" {
				z.PayloadFormat = Payload20
			}
			if !ra.simple.set {
				// SAM's and the console's default for a 2.0 authorizer: the simple {"isAuthorized"} answer.
				z.SimpleResponses = z.PayloadFormat == Payload20
			}
			if z.SimpleResponses && z.PayloadFormat != Payload20 {
				d.problem(ra.simple.line, ra.simple.col, key+".simple_responses", "simple responses need payload_format 2.0")
			}
		}
		p.API.Authorizers = append(p.API.Authorizers, z)
	}
	if a.defaultAuth.v != "" {
		if p.API.Authorizer(a.defaultAuth.v) == nil {
			d.problem(a.defaultAuth.line, a.defaultAuth.col, "api.default_authorizer", fmt.Sprintf("no authorizer %q in api.authorizers", a.defaultAuth.v))
		} else {
			p.API.DefaultAuthorizer = a.defaultAuth.v
		}
	}
}

// resolveFunction completes f with its payload format and function URL.
func (d *decoder) resolveFunction(rf *rawFunction, f *Function, kind string) {
	key := "functions." + f.Name
	if rf.payload.v != "" && kind == KindREST && rf.payload.v != Payload10 {
		d.problem(rf.payload.line, rf.payload.col, key+".payload_format", "a REST API sends payload 1.0 only")
	}
	if rf.url != nil {
		f.URL = &FunctionURL{Auth: rf.url.auth.v, CORS: d.resolveCORS(rf.url.cors, key+".url.cors", false)}
		if f.URL.Auth == "" {
			f.URL.Auth = URLAuthNone
		}
	}
}

// resolveRoute completes r with its payload format and authorizer.
func (d *decoder) resolveRoute(rr rawRoute, r *Route, key string, raw rawConfig, p *Project) {
	rest := p.API.Kind == KindREST
	if r.Path == DefaultRoute {
		switch {
		case rest:
			d.problem(rr.path.line, rr.path.col, key+".path", "$default is an HTTP API route; a REST API uses ANY /{proxy+}")
		case r.Method != "ANY":
			d.problem(rr.method.line, rr.method.col, key+".method", "the $default route takes every method: leave method out, or ANY")
		}
	}
	if rest && p.API.CORS != nil && r.Method == "OPTIONS" {
		// SAM's Cors puts its own OPTIONS method (the preflight mock) on every path.
		d.problem(rr.method.line, rr.method.col, key+".method", "a REST API with api.cors answers OPTIONS itself (SAM's preflight mock); drop this route or the cors")
	}
	r.PayloadFormat = Payload10
	if !rest {
		r.PayloadFormat = Payload20
		if rf := raw.functions[r.Function]; rf != nil && rf.payload.v != "" {
			r.PayloadFormat = rf.payload.v
		}
	}
	if rr.payload.v != "" {
		if rest && rr.payload.v != Payload10 {
			d.problem(rr.payload.line, rr.payload.col, key+".payload_format", "a REST API sends payload 1.0 only")
		}
		r.PayloadFormat = rr.payload.v
	}
	r.Authorizer = p.API.DefaultAuthorizer
	switch name := rr.authorizer.v; {
	case name == "":
	case name == AuthNone:
		r.Authorizer = ""
	case p.API.Authorizer(name) == nil:
		d.problem(rr.authorizer.line, rr.authorizer.col, key+".authorizer", fmt.Sprintf("no authorizer %q in api.authorizers (or NONE)", name))
	default:
		r.Authorizer = name
	}
}

var (
	origin         = regexp.MustCompile(`^https?://[^/\s]+$`)
	stageVarName   = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	stageVarValue  = regexp.MustCompile(`^[A-Za-z0-9\-._~:/?#&=,]*$`)
	authorizerName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
)

// httpMaxTimeoutMS is the longest integration timeout of an HTTP API (also its default).
const httpMaxTimeoutMS = 30000
