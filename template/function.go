package template

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/devserver/devserver/project"
)

// goRuntimeNames lists the runtimes a Go function runs on, for messages.
const goRuntimeNames = "provided.al2023, provided.al2 or go1.x"

// isGoRuntime says whether rt is a runtime a Go function runs on: the OS-only runtimes, and
// the retired go1.x.
func isGoRuntime(rt string) bool {
	return rt == "provided.al2023" || rt == "provided.al2" || rt == "go1.x"
}

// Lambda's own limits on a function's settings.
const (
	minMemoryMB, maxMemoryMB     = 128, 10240
	minTimeoutSec, maxTimeoutSec = 1, 900
)

// lambdaEnvName is the name Lambda accepts for an environment variable.
var lambdaEnvName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)

// reservedEnv says whether Lambda refuses to let a function set the variable name: the runtime
// sets it (FIDELITY §4), so a deploy that sets it fails.
func reservedEnv(name string) bool {
	switch name {
	case "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
		"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT",
		"LAMBDA_RUNTIME_DIR":
		return true
	}
	return false
}

// functionProperty says why a property of AWS::Serverless::Function is not emulated, or "" when
// it is read or changes nothing a function can observe locally.
func functionProperty(name, id string) string {
	switch name {
	case "Runtime", "CodeUri", "Handler", "MemorySize", "Timeout", "Architectures", "Environment",
		"ReservedConcurrentExecutions", "Events", "PackageType", "InlineCode", "ImageUri", "ImageConfig",
		// No local effect: metadata, versions and aliases (the local function is always $LATEST),
		// deployment and signing settings, encryption at rest.
		"Description", "Tags", "PropagateTags", "AutoPublishAlias", "AutoPublishAliasAllProperties",
		"AutoPublishCodeSha256", "VersionDescription", "DeploymentPreference", "CodeSigningConfigArn",
		"KmsKeyArn", "RuntimeManagementConfig", "RecursiveLoop", "SourceKMSKeyArn":
		return ""
	case "Policies", "Role", "RolePath", "PermissionsBoundary", "AssumeRolePolicyDocument":
		return "IAM is not emulated: locally the function runs with the AWS credentials devserver passes on (your own), not this role's"
	case "Layers":
		return "layers are not emulated: nothing of theirs is under /opt"
	case "VpcConfig":
		return "VPC networking is not emulated: the function reaches whatever this machine reaches"
	case "Tracing":
		return "X-Ray tracing is not emulated"
	case "LoggingConfig":
		return "log settings are not emulated: the function's output goes to the terminal as plain text"
	case "EphemeralStorage":
		return "the size of /tmp is not emulated: the function uses this machine's /tmp"
	case "FileSystemConfigs":
		return "EFS mounts are not emulated"
	case "DeadLetterQueue", "EventInvokeConfig":
		return "asynchronous invocation settings (retries, destinations) are not emulated"
	case "ProvisionedConcurrencyConfig", "SnapStart":
		return "not emulated: every new instance starts cold, as an on-demand one does"
	case "FunctionUrlConfig":
		return "function URLs are not served; only Api and HttpApi events are"
	case "FunctionName":
		return fmt.Sprintf("locally the function is named %s (its logical id)", id)
	}
	return fmt.Sprintf("%s is not emulated", name)
}

// function reads an AWS::Serverless::Function. It returns nil, with a warning, for a function
// devserver does not serve: another language, a container image, code in S3.
func (r *reader) function(res *resource) *project.Function {
	props := res.props
	if pt, ok := r.str(props["PackageType"], r.propPath(res, "PackageType")); ok && pt == "Image" {
		r.warn(res.path, "not served: a container image function; devserver serves zip functions with runtime %s", goRuntimeNames)
		return nil
	}
	rtPath := r.propPath(res, "Runtime")
	if props["Runtime"] == nil {
		r.warn(res.path, "not served: no Runtime; devserver serves functions with runtime %s", goRuntimeNames)
		return nil
	}
	v, ok := r.eval(props["Runtime"], rtPath)
	if !ok {
		return nil
	}
	rt, isString := v.(string)
	switch {
	case !isString:
		r.warn(rtPath, "not served: the runtime is %s", describe(v))
		return nil
	case !isGoRuntime(rt):
		r.warn(rtPath, "not served: runtime %s is not one Go functions use (%s)", rt, goRuntimeNames)
		return nil
	case rt == "go1.x":
		r.warn(rtPath, "go1.x was retired by AWS on 2023-12-31 and new functions cannot use it; devserver runs the function as provided.al2023 would (switch the template to provided.al2023 with Handler: bootstrap)")
	}
	buildMethod, _ := res.meta["BuildMethod"].(string)
	switch buildMethod {
	case "", "go1.x", "makefile":
	default:
		r.warn(pathOf(res.path, "Metadata", "BuildMethod"), "not served: BuildMethod %s does not build Go", buildMethod)
		return nil
	}
	if props["InlineCode"] != nil {
		r.warn(r.propPath(res, "InlineCode"), "not served: a Go function cannot be inline code")
		return nil
	}
	cuPath := r.propPath(res, "CodeUri")
	if props["CodeUri"] == nil {
		r.problem(cuPath, "missing: the folder of the function's Go main package, or its zip")
		return nil
	}
	v, ok = r.eval(props["CodeUri"], cuPath)
	if !ok {
		return nil
	}
	var uri string
	switch v := v.(type) {
	case string:
		if strings.HasPrefix(v, "s3://") {
			r.warn(cuPath, "not served: the code is in S3 (%s) and devserver does not fetch it; point CodeUri at the function's folder or zip", v)
			return nil
		}
		uri = v
	case map[string]any:
		if _, ok := v["Bucket"]; ok {
			r.warn(cuPath, "not served: the code is in S3 and devserver does not fetch it; point CodeUri at the function's folder or zip")
			return nil
		}
		r.problem(cuPath, "want a folder, a zip, or {Bucket, Key}")
		return nil
	case unresolved:
		r.problem(cuPath, "must be known locally: %s", v.reason)
		return nil
	default:
		r.problem(cuPath, "want a folder or a zip, not %s", describe(v))
		return nil
	}

	// Served from here on: say what of it is not emulated.
	for _, k := range r.orderedProps(res) {
		if reason := functionProperty(k, res.id); reason != "" {
			r.warn(r.propPath(res, k), "%s", reason)
		}
	}
	f := &project.Function{
		Name:         res.id,
		MemoryMB:     project.DefaultMemoryMB,
		TimeoutSec:   project.DefaultTimeoutSec,
		Architecture: project.DefaultArchitecture,
		Environment:  map[string]string{},
	}
	if raw := props["MemorySize"]; raw != nil {
		p := r.propPath(res, "MemorySize")
		if n, ok := r.num(raw, p); ok {
			if n < minMemoryMB || n > maxMemoryMB {
				r.problem(p, "%d MB is outside %d–%d", n, minMemoryMB, maxMemoryMB)
			}
			f.MemoryMB = n
		}
	}
	if raw := props["Timeout"]; raw != nil {
		p := r.propPath(res, "Timeout")
		if n, ok := r.num(raw, p); ok {
			if n < minTimeoutSec || n > maxTimeoutSec {
				r.problem(p, "%d s is outside %d–%d", n, minTimeoutSec, maxTimeoutSec)
			}
			f.TimeoutSec = n
		}
	}
	if raw := props["Architectures"]; raw != nil {
		f.Architecture = r.architecture(raw, r.propPath(res, "Architectures"))
	}
	if raw := props["ReservedConcurrentExecutions"]; raw != nil {
		p := r.propPath(res, "ReservedConcurrentExecutions")
		if n, ok := r.num(raw, p); ok {
			switch {
			case n < 0:
				r.problem(p, "must be 0 or more")
			case n == 0:
				r.warn(p, "0 reserves no concurrency: in the cloud every invocation is throttled; devserver serves the function unreserved")
			default:
				f.ReservedConcurrency = n
			}
		}
	}
	r.environment(res, f)
	r.code(res, f, uri, rt, buildMethod, cuPath)
	return f
}

// orderedProps are the names of res's properties in file order (its own, then Globals').
func (r *reader) orderedProps(res *resource) []string {
	keys := slices.Sorted(maps.Keys(res.props))
	slices.SortStableFunc(keys, func(a, b string) int {
		pa, pb := r.where(r.propPath(res, a)), r.where(r.propPath(res, b))
		return cmp.Or(cmp.Compare(pa.line, pb.line), cmp.Compare(pa.col, pb.col))
	})
	return keys
}

func (r *reader) architecture(raw any, p string) string {
	v, ok := r.eval(raw, p)
	if !ok {
		return project.DefaultArchitecture
	}
	list, isList := v.([]any)
	if !isList || len(list) != 1 {
		r.problem(p, "want a list of one architecture, [x86_64] or [arm64]")
		return project.DefaultArchitecture
	}
	switch a, _ := list[0].(string); a {
	case project.ArchX86, project.ArchARM:
		return a
	}
	r.problem(p, "%s is not x86_64 or arm64", describe(list[0]))
	return project.DefaultArchitecture
}

// environment reads Environment.Variables. A value only the cloud knows (the name of a table)
// becomes its placeholder, with a warning saying so, so that the function still starts.
func (r *reader) environment(res *resource, f *project.Function) {
	raw, present := res.props["Environment"]
	if !present {
		return
	}
	envPath := r.propPath(res, "Environment")
	v, ok := r.eval(raw, envPath)
	if !ok {
		return
	}
	switch v := v.(type) {
	case noValue, nil:
		return
	case unresolved:
		r.warn(envPath, "not set: %s", v.reason)
		return
	}
	env, ok := v.(map[string]any)
	if !ok {
		r.problem(envPath, "want a map with Variables")
		return
	}
	vars, ok := env["Variables"].(map[string]any)
	if !ok {
		if u, isUnresolved := env["Variables"].(unresolved); isUnresolved {
			r.warn(r.propPath(res, "Environment", "Variables"), "not set: %s", u.reason)
		} else if env["Variables"] != nil {
			r.problem(r.propPath(res, "Environment", "Variables"), "want a map of NAME: value")
		}
		return
	}
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		p := r.propPath(res, "Environment", "Variables", name)
		switch {
		case !lambdaEnvName.MatchString(name):
			r.problemKey(p, "Lambda takes variable names of two or more letters, digits and _, starting with a letter")
			continue
		case reservedEnv(name):
			r.problemKey(p, "Lambda reserves %s and refuses to deploy a function that sets it", name)
			continue
		}
		switch x := vars[name].(type) {
		case nil:
			f.Environment[name] = ""
		case unresolved:
			r.warn(p, "%s; locally it is %q", x.reason, x.placeholder)
			f.Environment[name] = x.placeholder
		default:
			s, ok := scalar(x)
			if !ok {
				r.problem(p, "must be a string, not %s", describe(x))
				continue
			}
			f.Environment[name] = s
		}
	}
}

// code finds what runs the function: a Go main package in a folder (built, as `sam build`
// would), a folder `sam build` already filled, or a zip holding the executable (unpacked).
func (r *reader) code(res *resource, f *project.Function, uri, runtime, buildMethod, p string) {
	exe := "bootstrap"
	if runtime == "go1.x" {
		// go1.x runs the executable the Handler names.
		h, ok := r.str(res.props["Handler"], r.propPath(res, "Handler"))
		if !ok {
			r.problem(r.propPath(res, "Handler"), "missing: the go1.x runtime runs the executable it names")
			return
		}
		if _, err := entryName(h); err != nil || strings.Contains(h, "/") {
			r.problem(r.propPath(res, "Handler"), "%q must be a file name", h)
			return
		}
		exe = h
	}
	abs := filepath.FromSlash(uri)
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(r.tplDir, abs)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.problem(p, "%s does not exist (CodeUri is relative to the template's folder)", uri)
		return
	case err != nil:
		r.problem(p, "%v", err)
		return
	case st.IsDir():
		msg := project.CheckMainPackage(abs, uri)
		if msg == "" {
			f.Dir = abs
			f.Source = sourceName(r.dir, abs)
			if f.ModuleDir = moduleRoot(abs); f.ModuleDir == "" {
				r.problem(p, "%s is in no Go module (no go.mod in it or above it)", uri)
			}
			if buildMethod == "makefile" {
				r.warn(pathOf(res.path, "Metadata", "BuildMethod"), "the Makefile is not run: devserver builds the Go main package in %s with go build", uri)
			}
			return
		}
		// A folder `sam build` wrote (.aws-sam/build/<Function>) holds the executable itself.
		bin := filepath.Join(abs, exe)
		if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
			if st.Mode().Perm()&0o111 == 0 {
				r.problem(p, "%s in %s is not executable", exe, uri)
				return
			}
			r.prebuilt(f, bin, abs, p)
			return
		}
		r.problem(p, "%s, and it holds no %s executable either", msg, exe)
		return
	case !st.Mode().IsRegular():
		r.problem(p, "%s is neither a folder nor a zip", uri)
		return
	}
	u, err := unpackZip(abs, r.unpackDir, f.Name, lambdaZipLimits())
	if err != nil {
		r.problem(p, "%s: %v", uri, err)
		return
	}
	mode, ok := u.modes[exe]
	if !ok {
		names := slices.Sorted(maps.Keys(u.modes))
		if len(names) > 5 {
			names = append(names[:5], "…")
		}
		r.problem(p, "%s holds no %s at its root (it holds %s)", uri, exe, cmp.Or(strings.Join(names, ", "), "no files"))
		return
	}
	bin := filepath.Join(u.dir, filepath.FromSlash(path.Clean(exe)))
	if mode&0o111 == 0 {
		r.warn(p, "%s in %s is not executable (mode %v): Lambda would fail to start it (permission denied); devserver runs it anyway", exe, uri, mode)
		if err := os.Chmod(bin, 0o755); err != nil {
			r.problem(p, "make %s executable: %v", exe, err)
			return
		}
	}
	r.prebuilt(f, bin, abs, p)
}

// prebuilt makes f run the executable bin (taken from "from") once sure this machine can run it.
func (r *reader) prebuilt(f *project.Function, bin, from, p string) {
	if err := checkExecutable(bin, f.Architecture); err != nil {
		r.problem(p, "%v", err)
		return
	}
	f.Prebuilt, f.PrebuiltFrom = bin, from
}

// sourceName spells a function folder as config.yaml would: "./fn" inside the project root,
// the absolute path outside it.
func sourceName(root, dir string) string {
	rel, err := filepath.Rel(root, dir)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return dir
	}
	if rel == "." {
		return "."
	}
	return "./" + filepath.ToSlash(rel)
}

// moduleRoot is the folder of the go.mod that holds dir, or "".
func moduleRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && st.Mode().IsRegular() {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}
