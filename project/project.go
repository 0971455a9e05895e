// Package project owns the route model: the functions, routes, API kind and stage that both
// `devserver run` and `devserver package` are built from, and loading it from config.yaml.
package project

import (
	"fmt"
	"slices"
	"strings"
)

// API kinds.
const (
	KindREST = "rest"
	KindHTTP = "http"
)

// Architectures, spelled as SAM spells them.
const (
	ArchX86 = "x86_64"
	ArchARM = "arm64"
)

// Methods lists the HTTP methods a route may name, ANY included.
var Methods = []string{"ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// AnyMethods is what ANY stands for on API Gateway.
var AnyMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// Project is the route model of one application with one stage applied.
type Project struct {
	// Dir is the absolute project root; sources are relative to it.
	Dir string
	// ConfigFile is the absolute path of the config the model came from.
	ConfigFile string
	// AppName names the application (and the stack, when packaged).
	AppName string
	// StageName is the named stage applied, "" for the defaults.
	StageName string
	API       API
	// Functions sorted by name.
	Functions []*Function
	// Routes in the order the config lists them.
	Routes []Route
	// Warnings are what the config allows but likely did not mean (no routes at all), sorted by
	// position, for the caller to print; they do not stop the model from being served.
	Warnings []Problem
}

// API describes the API Gateway front.
type API struct {
	// Kind is KindREST or KindHTTP.
	Kind string
	// KindPos is where Kind is set (by the applied stage when it overrides it), or where the
	// top-level map starts when the config leaves it out. A caller that refuses a kind points there.
	KindPos Position
	// Stage is the API Gateway stage name (the first path segment of REST invoke URLs).
	Stage string
	// TimeoutMS is the integration timeout: DefaultRESTTimeoutMS or DefaultHTTPTimeoutMS unless
	// set lower.
	TimeoutMS int
	// BinaryMediaTypes are the media types REST treats as binary (e.g. "image/png", "*/*").
	BinaryMediaTypes []string
	// CORS is the API's cross-origin configuration; nil when the config sets none.
	CORS *CORS
	// StageVariables are the stage's variables, as events carry them in stageVariables.
	StageVariables map[string]string
	// Authorizers are the Lambda authorizers, sorted by name.
	Authorizers []*Authorizer
	// DefaultAuthorizer names the authorizer of every route that names none; "" for none.
	DefaultAuthorizer string
}

// Function is one Lambda function.
type Function struct {
	Name string
	// Source is the Go main package folder as written in the config ("./sample").
	Source string
	// Dir is Source made absolute.
	Dir string
	// MemoryMB is 128–10240.
	MemoryMB int
	// TimeoutSec is 1–900.
	TimeoutSec int
	// Architecture is ArchX86 or ArchARM; "" in a hand-built model means DefaultArchitecture.
	Architecture string
	// Environment holds the user's variables.
	Environment map[string]string
	// ReservedConcurrency caps concurrent executions when > 0; 0 means unreserved.
	ReservedConcurrency int
	// ModuleDir is where the go command runs to build Dir: the folder of the go.mod that holds
	// it. "" means Project.Dir (config.yaml projects are one module); a SAM project read by
	// template.Read often gives each function a module of its own, as `sam init` does.
	ModuleDir string
	// Prebuilt is the absolute path of a ready executable (a `bootstrap` unpacked from a zip) to
	// run instead of building; "" means build Dir. Source and Dir are empty when it is set.
	Prebuilt string
	// PrebuiltFrom is the zip or folder Prebuilt was taken from, absolute: the file to watch for
	// a newer package.
	PrebuiltFrom string
	// URL is the function's Lambda function URL; nil when it has none.
	URL *FunctionURL
}

// Route sends one method and path to a function.
type Route struct {
	// Method is upper case, or "ANY".
	Method string
	// Path is an API Gateway resource path: "/", "/pets/{id}", "/files/{proxy+}".
	Path     string
	Function string
	// PayloadFormat is the event format the function gets: Payload10 or Payload20 (HTTP APIs
	// only; a REST API always sends Payload10). It is resolved at load: the route's, else the
	// function's, else the API kind's.
	PayloadFormat string
	// Authorizer names the authorizer that guards the route, resolved at load: the route's, else
	// the API's default; "" when the route is open.
	Authorizer string
}

// Key is the HTTP API route key, "GET /pets/{id}", or "$default" for the default route.
func (r Route) Key() string {
	if r.Path == DefaultRoute {
		return DefaultRoute
	}
	return r.Method + " " + r.Path
}

// Function returns the function named name, or nil.
func (p *Project) Function(name string) *Function {
	i, ok := slices.BinarySearchFunc(p.Functions, name, func(f *Function, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		return nil
	}
	return p.Functions[i]
}

// Position is a place in a config file.
type Position struct {
	// File names the file as errors show it ("config.yaml").
	File string
	// Line and Col count from 1; Col counts characters.
	Line int
	Col  int
}

// String formats pos as errors show it: "config.yaml:3:9".
func (pos Position) String() string {
	return fmt.Sprintf("%s:%d:%d", pos.File, pos.Line, pos.Col)
}

// Problem is one thing wrong in a config file, located by line and column.
type Problem struct {
	Position
	// Key is the dotted path of the offending key: "routes[2].function".
	Key string
	Msg string
}

func (p Problem) String() string {
	if p.Key == "" {
		return fmt.Sprintf("%s: %s", p.Position, p.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", p.Position, p.Key, p.Msg)
}

// ConfigError lists every problem found in a config file, sorted by position.
type ConfigError struct {
	Problems []Problem
}

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
