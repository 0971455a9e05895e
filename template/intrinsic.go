package template

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// unresolved is a value only the cloud knows: the physical name of a table, an imported value,
// an SSM parameter. It says why, and carries a stand-in for places that need some value anyway
// (an environment variable): what the value would be with each unknown replaced by its name.
type unresolved struct {
	reason      string
	placeholder string
}

// noValue is AWS::NoValue: the property or list element it is given to disappears.
type noValue struct{}

// undecided is the error of a condition that depends on an unresolved value.
type undecided struct{ u unresolved }

func (e *undecided) Error() string { return e.u.reason }

// paramValue is one template parameter's value: a string, or a list for List<...> and
// CommaDelimitedList parameters; missing says why there is none.
type paramValue struct {
	value   any
	missing *unresolved
}

// evaluator resolves CloudFormation's intrinsic functions and conditions the way a deploy would,
// for what can be known locally: parameters, pseudo parameters, mappings, conditions, and the
// names and ARNs of the functions devserver itself runs. Everything else becomes unresolved.
type evaluator struct {
	params     map[string]paramValue
	pseudo     map[string]any
	conditions map[string]any
	mappings   map[string]any
	// resources maps each logical id to its Type; absent ones (condition false) map to "".
	resources map[string]string
	// functionARN gives the ARN of a function devserver serves under that name.
	functionARN func(name string) string

	condValue map[string]bool
	condBusy  map[string]bool
	// mapBusy holds the mapping entries being looked up, to name a lookup cycle as such.
	mapBusy map[string]bool
	// depth counts nested evaluations and steps all of them: mappings that look each other up
	// can nest without end, or (each using the next one twice) ask for 2^n lookups.
	depth, steps int
}

// Bounds on evaluation, far beyond what a real template needs.
const (
	maxEvalDepth = 500
	maxEvalSteps = 1_000_000
)

// limitError is an evaluation stopped by a bound. It is not wrapped in the path of every value
// it passed through, which would repeat "[0]: " hundreds of times.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// isFunctionType says whether a resource type is a Lambda function, whose name (the logical id,
// locally) and ARN devserver knows.
func isFunctionType(t string) bool {
	return t == "AWS::Serverless::Function" || t == "AWS::Lambda::Function"
}

// call returns the intrinsic function v is, if it is one: a map with the single key "Ref" or
// "Fn::...".
func call(v any) (name string, arg any, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, a, true
		}
	}
	return "", nil, false
}

// eval resolves every intrinsic in v. An unknowable part makes the result (or the part of it
// that holds it) an unresolved; only a malformed call is an error.
func (e *evaluator) eval(v any) (any, error) {
	if e.steps++; e.steps > maxEvalSteps {
		return nil, &limitError{fmt.Sprintf("evaluating the template takes more than %d steps (do mappings look each other up?)", maxEvalSteps)}
	}
	if e.depth++; e.depth > maxEvalDepth {
		e.depth--
		return nil, &limitError{fmt.Sprintf("functions nest more than %d deep", maxEvalDepth)}
	}
	defer func() { e.depth-- }()
	if name, arg, ok := call(v); ok {
		out, err := e.call(name, arg)
		var limit *limitError
		if errors.As(err, &limit) {
			return nil, limit
		}
		return out, err
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := e.eval(x)
			if err != nil {
				return nil, wrapPath(k, err)
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, x := range v {
			r, err := e.eval(x)
			if err != nil {
				return nil, wrapPath(fmt.Sprintf("[%d]", i), err)
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	}
	return v, nil
}

// wrapPath says under which key or index err happened, unless a bound stopped evaluation.
func wrapPath(key string, err error) error {
	var limit *limitError
	if errors.As(err, &limit) {
		return err
	}
	return fmt.Errorf("%s: %w", key, err)
}

func (e *evaluator) call(name string, arg any) (any, error) {
	switch name {
	case "Ref":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref: want a name, not %s", describe(arg))
		}
		return e.ref(s), nil
	case "Fn::GetAtt":
		return e.getAtt(arg)
	case "Fn::Sub":
		return e.sub(arg)
	case "Fn::Join":
		return e.join(arg)
	case "Fn::If":
		return e.fnIf(arg)
	case "Fn::Select":
		return e.selectFn(arg)
	case "Fn::Split":
		return e.split(arg)
	case "Fn::FindInMap":
		return e.findInMap(arg)
	case "Fn::Base64":
		v, err := e.eval(arg)
		if err != nil {
			return nil, fmt.Errorf("Fn::Base64: %w", err)
		}
		if u, ok := v.(unresolved); ok {
			return u, nil
		}
		s, ok := scalar(v)
		if !ok {
			return nil, fmt.Errorf("Fn::Base64: want a string, not %s", describe(v))
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::Length":
		v, err := e.eval(arg)
		if err != nil {
			return nil, fmt.Errorf("Fn::Length: %w", err)
		}
		if u, ok := v.(unresolved); ok {
			return u, nil
		}
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Length: want a list, not %s", describe(v))
		}
		return json.Number(strconv.Itoa(len(l))), nil
	case "Fn::ToJsonString":
		v, err := e.eval(arg)
		if err != nil {
			return nil, fmt.Errorf("Fn::ToJsonString: %w", err)
		}
		if u, ok := findUnresolved(v); ok {
			return u, nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("Fn::ToJsonString: %w", err)
		}
		return string(b), nil
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		b, err := e.condExpr(map[string]any{name: arg})
		var und *undecided
		if errors.As(err, &und) {
			return und.u, nil
		}
		return b, err
	case "Fn::GetAZs", "Fn::ImportValue", "Fn::Cidr", "Fn::Transform":
		return unresolved{reason: name + " is evaluated by CloudFormation at deploy time"}, nil
	}
	return nil, fmt.Errorf("unknown function %s", name)
}

// ref resolves Ref name.
func (e *evaluator) ref(name string) any {
	if name == "AWS::NoValue" {
		return noValue{}
	}
	if v, ok := e.pseudo[name]; ok {
		return v
	}
	if p, ok := e.params[name]; ok {
		if p.missing != nil {
			return *p.missing
		}
		return p.value
	}
	typ, ok := e.resources[name]
	switch {
	case ok && typ == "":
		return unresolved{reason: fmt.Sprintf("resource %s is not created: its Condition is false", name), placeholder: name}
	case ok && isFunctionType(typ):
		// Locally a function is named by its logical id; the Invoke API and the function's own
		// AWS_LAMBDA_FUNCTION_NAME use the same name.
		return name
	case ok:
		return unresolved{reason: fmt.Sprintf("Ref %s: the name of %s (%s) is only known once deployed", name, name, typ), placeholder: name}
	case strings.HasPrefix(name, "AWS::"):
		return unresolved{reason: fmt.Sprintf("Ref %s: unknown pseudo parameter", name), placeholder: name}
	}
	// SAM generates resources (ServerlessRestApi, <Function>Role) that the template may name.
	return unresolved{reason: fmt.Sprintf("Ref %s: not a parameter or resource of the template (one SAM generates?); only the cloud knows its value", name), placeholder: name}
}

func (e *evaluator) getAtt(arg any) (any, error) {
	var res, attr string
	switch a := arg.(type) {
	case string:
		var ok bool
		if res, attr, ok = strings.Cut(a, "."); !ok {
			return nil, fmt.Errorf("Fn::GetAtt: %q must be Resource.Attribute", a)
		}
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt: want [Resource, Attribute], not %d values", len(a))
		}
		r, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::GetAtt: the resource must be a name, not %s", describe(a[0]))
		}
		v, err := e.eval(a[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::GetAtt: %w", err)
		}
		if u, ok := v.(unresolved); ok {
			return u, nil
		}
		at, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("Fn::GetAtt: the attribute must be a string, not %s", describe(v))
		}
		res, attr = r, at
	default:
		return nil, fmt.Errorf("Fn::GetAtt: want [Resource, Attribute], not %s", describe(arg))
	}
	return e.attribute(res, attr), nil
}

func (e *evaluator) attribute(res, attr string) any {
	typ, ok := e.resources[res]
	if ok && isFunctionType(typ) && attr == "Arn" && e.functionARN != nil {
		return e.functionARN(res)
	}
	reason := fmt.Sprintf("GetAtt %s.%s: only the cloud knows it", res, attr)
	if ok && typ != "" {
		reason = fmt.Sprintf("GetAtt %s.%s: the attributes of %s (%s) are only known once deployed", res, attr, res, typ)
	}
	return unresolved{reason: reason, placeholder: res + "." + attr}
}

func (e *evaluator) sub(arg any) (any, error) {
	var (
		text string
		vars map[string]any
	)
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub: want [String, {Variables}], not %d values", len(a))
		}
		s, ok := a[0].(string)
		m, ok2 := a[1].(map[string]any)
		if !ok || !ok2 {
			return nil, fmt.Errorf("Fn::Sub: want [String, {Variables}]")
		}
		text, vars = s, m
	default:
		return nil, fmt.Errorf("Fn::Sub: want a string or [String, {Variables}], not %s", describe(arg))
	}
	var (
		out, stand strings.Builder
		first      *unresolved
	)
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			out.WriteString(text)
			stand.WriteString(text)
			break
		}
		out.WriteString(text[:i])
		stand.WriteString(text[:i])
		text = text[i+2:]
		// "${!Name}" is the literal text "${Name}".
		if strings.HasPrefix(text, "!") {
			out.WriteString("${")
			stand.WriteString("${")
			text = text[1:]
			continue
		}
		j := strings.IndexByte(text, '}')
		if j < 0 {
			return nil, fmt.Errorf("Fn::Sub: ${ without a closing }")
		}
		name := text[:j]
		text = text[j+1:]
		var v any
		if x, ok := vars[name]; ok {
			r, err := e.eval(x)
			if err != nil {
				return nil, fmt.Errorf("Fn::Sub: %s: %w", name, err)
			}
			v = r
		} else if res, attr, ok := strings.Cut(name, "."); ok {
			v = e.attribute(res, attr)
		} else {
			v = e.ref(name)
		}
		switch v := v.(type) {
		case unresolved:
			if first == nil {
				first = &v
			}
			stand.WriteString(v.placeholder)
			continue
		case noValue:
			return nil, fmt.Errorf("Fn::Sub: ${%s} is AWS::NoValue", name)
		}
		s, ok := scalar(v)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub: ${%s} is %s, not a string", name, describe(v))
		}
		out.WriteString(s)
		stand.WriteString(s)
	}
	if first != nil {
		return unresolved{reason: first.reason, placeholder: stand.String()}, nil
	}
	return out.String(), nil
}

func (e *evaluator) join(arg any) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 2 {
		return nil, fmt.Errorf("Fn::Join: want [Delimiter, [Values]]")
	}
	delim, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("Fn::Join: the delimiter must be a string, not %s", describe(a[0]))
	}
	v, err := e.eval(a[1])
	if err != nil {
		return nil, fmt.Errorf("Fn::Join: %w", err)
	}
	if u, ok := v.(unresolved); ok {
		return u, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("Fn::Join: want a list of values, not %s", describe(v))
	}
	var (
		parts, stand []string
		first        *unresolved
	)
	for _, x := range list {
		if u, ok := x.(unresolved); ok {
			if first == nil {
				first = &u
			}
			stand = append(stand, u.placeholder)
			continue
		}
		s, ok := scalar(x)
		if !ok {
			return nil, fmt.Errorf("Fn::Join: a value is %s, not a string", describe(x))
		}
		parts, stand = append(parts, s), append(stand, s)
	}
	if first != nil {
		return unresolved{reason: first.reason, placeholder: strings.Join(stand, delim)}, nil
	}
	return strings.Join(parts, delim), nil
}

func (e *evaluator) fnIf(arg any) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 3 {
		return nil, fmt.Errorf("Fn::If: want [Condition, ValueIfTrue, ValueIfFalse]")
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("Fn::If: the condition must be a name, not %s", describe(a[0]))
	}
	b, err := e.condition(name)
	var und *undecided
	if errors.As(err, &und) {
		return und.u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Fn::If: %w", err)
	}
	if b {
		return e.eval(a[1])
	}
	return e.eval(a[2])
}

func (e *evaluator) selectFn(arg any) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 2 {
		return nil, fmt.Errorf("Fn::Select: want [Index, [Values]]")
	}
	iv, err := e.eval(a[0])
	if err != nil {
		return nil, fmt.Errorf("Fn::Select: %w", err)
	}
	lv, err := e.eval(a[1])
	if err != nil {
		return nil, fmt.Errorf("Fn::Select: %w", err)
	}
	for _, v := range []any{iv, lv} {
		if u, ok := v.(unresolved); ok {
			return u, nil
		}
	}
	s, _ := scalar(iv)
	i, err := strconv.Atoi(s)
	if err != nil {
		return nil, fmt.Errorf("Fn::Select: the index must be a whole number, not %s", describe(iv))
	}
	list, ok := lv.([]any)
	if !ok {
		return nil, fmt.Errorf("Fn::Select: want a list, not %s", describe(lv))
	}
	if i < 0 || i >= len(list) {
		return nil, fmt.Errorf("Fn::Select: index %d is outside a list of %d", i, len(list))
	}
	return list[i], nil
}

func (e *evaluator) split(arg any) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 2 {
		return nil, fmt.Errorf("Fn::Split: want [Delimiter, String]")
	}
	delim, ok := a[0].(string)
	if !ok || delim == "" {
		return nil, fmt.Errorf("Fn::Split: the delimiter must be a non-empty string")
	}
	v, err := e.eval(a[1])
	if err != nil {
		return nil, fmt.Errorf("Fn::Split: %w", err)
	}
	if u, ok := v.(unresolved); ok {
		return u, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("Fn::Split: want a string, not %s", describe(v))
	}
	var out []any
	for _, p := range strings.Split(s, delim) {
		out = append(out, p)
	}
	return out, nil
}

func (e *evaluator) findInMap(arg any) (any, error) {
	a, ok := arg.([]any)
	// A fourth value ({DefaultValue: x}) comes with AWS::LanguageExtensions.
	if !ok || len(a) < 3 || len(a) > 4 {
		return nil, fmt.Errorf("Fn::FindInMap: want [MapName, TopLevelKey, SecondLevelKey]")
	}
	keys := make([]string, 3)
	for i := range keys {
		v, err := e.eval(a[i])
		if err != nil {
			return nil, fmt.Errorf("Fn::FindInMap: %w", err)
		}
		if u, ok := v.(unresolved); ok {
			return u, nil
		}
		s, ok := scalar(v)
		if !ok {
			return nil, fmt.Errorf("Fn::FindInMap: a key is %s, not a string", describe(v))
		}
		keys[i] = s
	}
	entry := strings.Join(keys, ".")
	if e.mapBusy[entry] {
		return nil, fmt.Errorf("Fn::FindInMap: Mappings.%s refers to itself", entry)
	}
	if e.mapBusy == nil {
		e.mapBusy = map[string]bool{}
	}
	e.mapBusy[entry] = true
	defer delete(e.mapBusy, entry)
	var v any = e.mappings
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			v = nil
			break
		}
		v = m[k]
	}
	if v == nil {
		if len(a) == 4 {
			if d, ok := a[3].(map[string]any); ok {
				if dv, ok := d["DefaultValue"]; ok {
					return e.eval(dv)
				}
			}
		}
		return nil, fmt.Errorf("Fn::FindInMap: Mappings has no %s", strings.Join(keys, "."))
	}
	return e.eval(v)
}

// condition evaluates the named condition once; a condition that names itself is an error.
func (e *evaluator) condition(name string) (bool, error) {
	if b, ok := e.condValue[name]; ok {
		return b, nil
	}
	def, ok := e.conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %q in Conditions", name)
	}
	if e.condBusy[name] {
		return false, fmt.Errorf("condition %s depends on itself", name)
	}
	e.condBusy[name] = true
	defer delete(e.condBusy, name)
	b, err := e.condExpr(def)
	if err != nil {
		var und *undecided
		if errors.As(err, &und) {
			return false, err
		}
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	e.condValue[name] = b
	return b, nil
}

// condExpr evaluates a condition function: Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition.
func (e *evaluator) condExpr(v any) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("want Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition, not %s", describe(v))
	}
	for name, arg := range m {
		if name == "Condition" {
			s, ok := arg.(string)
			if !ok {
				return false, fmt.Errorf("Condition: want a name, not %s", describe(arg))
			}
			return e.condition(s)
		}
		list, ok := arg.([]any)
		if !ok {
			return false, fmt.Errorf("%s: want a list, not %s", name, describe(arg))
		}
		switch name {
		case "Fn::Equals":
			if len(list) != 2 {
				return false, fmt.Errorf("Fn::Equals: want two values, not %d", len(list))
			}
			var vals [2]any
			for i, x := range list {
				r, err := e.eval(x)
				if err != nil {
					return false, fmt.Errorf("Fn::Equals: %w", err)
				}
				if u, ok := findUnresolved(r); ok {
					return false, &undecided{u: u}
				}
				vals[i] = r
			}
			return equalValues(vals[0], vals[1]), nil
		case "Fn::Not":
			if len(list) != 1 {
				return false, fmt.Errorf("Fn::Not: want one condition, not %d", len(list))
			}
			b, err := e.condExpr(list[0])
			return !b, err
		case "Fn::And", "Fn::Or":
			if len(list) < 2 || len(list) > 10 {
				return false, fmt.Errorf("%s: want 2 to 10 conditions, not %d", name, len(list))
			}
			// Every operand is evaluated, as CloudFormation validates them all.
			and := name == "Fn::And"
			result := and
			for _, c := range list {
				b, err := e.condExpr(c)
				if err != nil {
					return false, err
				}
				if and {
					result = result && b
				} else {
					result = result || b
				}
			}
			return result, nil
		}
		return false, fmt.Errorf("%s is not a condition function (want Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition)", name)
	}
	return false, nil
}

// equalValues compares as CloudFormation does: values as their string forms, so the parameter
// "1" equals the number 1.
func equalValues(a, b any) bool {
	sa, oka := scalar(a)
	sb, okb := scalar(b)
	if oka && okb {
		return sa == sb
	}
	return reflect.DeepEqual(a, b)
}

// scalar returns a string, number or boolean as the text CloudFormation would pass on.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// findUnresolved returns the first unresolved value inside v, in key order.
func findUnresolved(v any) (unresolved, bool) {
	switch v := v.(type) {
	case unresolved:
		return v, true
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if u, ok := findUnresolved(v[k]); ok {
				return u, true
			}
		}
	case []any:
		for _, x := range v {
			if u, ok := findUnresolved(x); ok {
				return u, true
			}
		}
	}
	return unresolved{}, false
}
