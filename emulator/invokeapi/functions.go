package invokeapi

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/devserver/devserver/emulator/invocation"
	"github.com/devserver/devserver/project"
)

// Fixed parts of every function's configuration: what `devserver package` deploys.
const (
	runtime     = "provided.al2023"
	handler     = "bootstrap"
	packageType = "Zip"
	// lastModifiedLayout is how Lambda writes LastModified.
	lastModifiedLayout = "2006-01-02T15:04:05.000-0700"
	// defaultMaxItems is how many functions ListFunctions returns per page unless asked.
	defaultMaxItems = 50
)

// configuration is Lambda's FunctionConfiguration, with the members the route model can fill.
type configuration struct {
	FunctionName     string
	FunctionArn      string
	Runtime          string
	Role             string
	Handler          string
	CodeSize         int64
	Description      string
	Timeout          int
	MemorySize       int
	LastModified     string
	Version          string
	Environment      *environment `json:",omitempty"`
	TracingConfig    struct{ Mode string }
	State            string
	LastUpdateStatus string
	PackageType      string
	Architectures    []string
	EphemeralStorage struct{ Size int }
	LoggingConfig    struct{ LogFormat, LogGroup string }
}

type environment struct {
	Variables map[string]string
}

// configuration describes f as Lambda would once `devserver package` output is deployed.
// LastModified is when devserver started; CodeSize and CodeSha256 are unknown here (the host
// build is not the deployed zip), so CodeSize is 0 and CodeSha256 is left out.
func (a *API) configuration(p *project.Project, f *project.Function) configuration {
	c := configuration{
		FunctionName:     f.Name,
		FunctionArn:      a.arn(f.Name),
		Runtime:          runtime,
		Role:             "arn:aws:iam::" + a.cfg.AccountID + ":role/" + p.AppName + "-" + f.Name + "Role",
		Handler:          handler,
		Timeout:          f.TimeoutSec,
		MemorySize:       f.MemoryMB,
		LastModified:     a.started.UTC().Format(lastModifiedLayout),
		Version:          Latest,
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      packageType,
		Architectures:    []string{cmp.Or(f.Architecture, project.DefaultArchitecture)},
	}
	if len(f.Environment) > 0 {
		c.Environment = &environment{Variables: f.Environment}
	}
	c.TracingConfig.Mode = "PassThrough"
	c.EphemeralStorage.Size = 512
	c.LoggingConfig.LogFormat = "Text"
	c.LoggingConfig.LogGroup = "/aws/lambda/" + f.Name
	return c
}

// listFunctions serves ListFunctions: GET /2015-03-31/functions/, in pages of MaxItems, the
// next one starting after Marker (the last name of the page before).
func (a *API) listFunctions(w http.ResponseWriter, r *http.Request) {
	a.routed(w, r, "ListFunctions")
	q := r.URL.Query()
	maxItems := defaultMaxItems
	if s := q.Get("MaxItems"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			validation("1 validation error detected: Value '" + s + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000").write(w)
			return
		}
		maxItems = n
	}
	marker := q.Get("Marker")
	p := a.cfg.Model()
	var out struct {
		Functions  []configuration
		NextMarker *string `json:",omitempty"`
	}
	out.Functions = []configuration{}
	for _, f := range p.Functions { // sorted by name
		if marker != "" && f.Name <= marker {
			continue
		}
		if len(out.Functions) == maxItems {
			last := out.Functions[maxItems-1].FunctionName
			out.NextMarker = &last
			break
		}
		out.Functions = append(out.Functions, a.configuration(p, f))
	}
	writeJSON(w, out)
}

// getFunction serves GetFunction: GET /2015-03-31/functions/{name}.
func (a *API) getFunction(w http.ResponseWriter, r *http.Request) {
	a.routed(w, r, "GetFunction")
	p := a.cfg.Model()
	t, aerr := a.resolve(p, r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if aerr != nil {
		aerr.write(w)
		return
	}
	type concurrency struct{ ReservedConcurrentExecutions int }
	out := struct {
		Configuration configuration
		// Code is where the code is: in the cloud a presigned URL of the zip; here the
		// function's source folder, or the zip or folder its prebuilt bootstrap came from.
		Code        struct{ RepositoryType, Location string }
		Concurrency *concurrency `json:",omitempty"`
	}{Configuration: a.configuration(p, t.fn)}
	out.Code.RepositoryType = "S3"
	out.Code.Location = (&url.URL{Scheme: "file", Path: cmp.Or(t.fn.PrebuiltFrom, t.fn.Dir)}).String()
	if n := t.fn.ReservedConcurrency; n > 0 {
		out.Concurrency = &concurrency{n}
	}
	writeJSON(w, out)
}

// getFunctionConfiguration serves GetFunctionConfiguration:
// GET /2015-03-31/functions/{name}/configuration.
func (a *API) getFunctionConfiguration(w http.ResponseWriter, r *http.Request) {
	a.routed(w, r, "GetFunctionConfiguration")
	p := a.cfg.Model()
	t, aerr := a.resolve(p, r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if aerr != nil {
		aerr.write(w)
		return
	}
	writeJSON(w, a.configuration(p, t.fn))
}

// routed gives a request that invokes nothing its id and records it on the Exchange under the
// operation's name.
func (a *API) routed(w http.ResponseWriter, r *http.Request, op string) {
	id := invocation.NewRequestID()
	w.Header()[HeaderRequestID] = []string{id}
	invocation.ExchangeFrom(r.Context()).Routed(front, id, op)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // client gone.
}
