package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/devserver/devserver/project"
)

// Document is a CloudFormation template as plain JSON values: map[string]any, []any, string,
// json.Number, bool and nil, with intrinsic functions written out as the objects CloudFormation
// reads ({"Ref": "RestAPI"}).
type Document map[string]any

// Formats Marshal writes.
const (
	FormatJSON = "json"
	FormatYAML = "yaml"
)

// Marshal writes doc as indented JSON or as YAML (format FormatJSON or FormatYAML), keys sorted
// byte-wise in both, so the same document always gives the same bytes.
func Marshal(doc Document, format string) ([]byte, error) {
	switch format {
	case FormatJSON:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		// Keep "<", ">" and "&" readable in environment values and overlays; CloudFormation is no browser.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]any(doc)); err != nil {
			return nil, fmt.Errorf("marshal template: %w", err)
		}
		return buf.Bytes(), nil
	case FormatYAML:
		n, err := yamlNode(map[string]any(doc))
		if err != nil {
			return nil, fmt.Errorf("marshal template: %w", err)
		}
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(n); err != nil {
			return nil, fmt.Errorf("marshal template: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("marshal template: %w", err)
		}
		return buf.Bytes(), nil
	default:
		return nil, fmt.Errorf("marshal template: unknown format %q (want %s or %s)", format, FormatJSON, FormatYAML)
	}
}

// yamlNode builds the YAML tree by hand so that map keys come out in the same byte order as in
// JSON, and numbers keep the exact text they had.
func yamlNode(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			val, err := yamlNode(v[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, val)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range v {
			val, err := yamlNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, val)
		}
		return n, nil
	case string:
		// The !!str tag makes the encoder quote what YAML 1.2 would read as another type ("1",
		// "true"); yaml11Retyped adds what CloudFormation's and the AWS CLI's YAML 1.1 readers would.
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
		if yaml11Retyped(v) {
			n.Style = yaml.DoubleQuotedStyle
		}
		return n, nil
	case json.Number:
		tag := "!!int"
		if _, err := v.Int64(); err != nil {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	default:
		return nil, fmt.Errorf("unexpected %T in template", v)
	}
}

// yaml11Retyped says whether a YAML 1.1 reader (PyYAML in the AWS CLI and cfn-lint) could read
// the plain scalar s as something other than a string: "yes", "off" and "y" are booleans there,
// "12:30" a base-60 number, "0755" octal. Anything that starts like a number is quoted, which
// costs only a pair of quotes when it was not needed ("3.0.1"); "./x.zip" or "-x" stay plain.
func yaml11Retyped(s string) bool {
	switch s {
	case "", "~", "null", "Null", "NULL",
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF":
		return true
	}
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	rest := strings.TrimLeft(s[:1], "+-") + s[1:]
	switch {
	case rest == "":
		return false
	case isDigit(rest[0]):
		return true
	case rest[0] == '.':
		r := strings.ToLower(rest)
		return r == ".inf" || r == ".nan" || len(rest) > 1 && isDigit(rest[1])
	}
	return false
}

// parse reads a template written as JSON or YAML (name says how to report it). YAML may use
// CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...).
func parse(data []byte, name string) (Document, error) {
	doc, _, err := parseAt(data, name, false)
	return doc, err
}

// parseAt is parse that also says where each value is written, when at is true, so that
// problems found later (by Read) can point into the file.
func parseAt(data []byte, name string, at bool) (Document, positions, error) {
	var (
		v   any
		pos positions
		err error
	)
	if isJSON(data, name) {
		v, err = parseJSON(data, name)
		if err == nil && at {
			pos = jsonPositions(data)
		}
	} else {
		v, pos, err = parseYAML(data, name, at)
	}
	if err != nil {
		return nil, nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%s: the top level must be a map of template sections, not %s", name, describe(v))
	}
	return Document(m), pos, nil
}

func isJSON(data []byte, name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return true
	case ".yaml", ".yml":
		return false
	}
	return bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
}

func parseJSON(data []byte, name string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := position(data, syn.Offset)
			return nil, fmt.Errorf("%s:%d:%d: invalid JSON: %v", name, line, col, err)
		}
		return nil, fmt.Errorf("%s: invalid JSON: %w", name, err)
	}
	if dec.More() {
		line, col := position(data, dec.InputOffset())
		return nil, fmt.Errorf("%s:%d:%d: invalid JSON: more data after the top-level value", name, line, col)
	}
	return v, nil
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

func parseYAML(data []byte, name string, at bool) (any, positions, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, col, msg := project.YAMLErrorPosition(data, err)
		return nil, nil, fmt.Errorf("%s:%d:%d: invalid YAML: %s", name, line, col, msg)
	}
	if len(doc.Content) == 0 {
		return nil, nil, fmt.Errorf("%s: the file is empty", name)
	}
	y := yamlReader{file: name, budget: new(int)}
	*y.budget = maxYAMLValues
	if at {
		y.at = positions{}
	}
	v, err := y.value(doc.Content[0], "")
	return v, y.at, err
}

// maxYAMLValues caps the values one YAML template may expand to. Aliases are copied where they
// are used, so a few lines of nested anchors ("billion laughs") could otherwise ask for more
// memory than the machine has; real templates hold a few thousand values.
const maxYAMLValues = 1_000_000

// yamlReader converts YAML nodes to Document values, remembering the file for error messages
// and, when at is not nil, where each value was written.
type yamlReader struct {
	file string
	at   positions
	// budget counts down the values still allowed (maxYAMLValues); shared by the copies of y.
	budget *int
}

func (y yamlReader) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d:%d: %s", y.file, n.Line, n.Column, fmt.Sprintf(format, args...))
}

func (y yamlReader) value(n *yaml.Node, path string) (any, error) {
	if n.Kind == yaml.AliasNode {
		return y.value(n.Alias, path)
	}
	if *y.budget--; *y.budget < 0 {
		return nil, y.errorf(n, "the template expands to more than %d values (through aliases?)", maxYAMLValues)
	}
	y.at.value(path, n.Line, n.Column)
	if fn, ok := intrinsicName(n.Tag); ok {
		return y.intrinsic(fn, n, path)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, y.errorf(n, "unknown tag %s (want a CloudFormation function like !Ref, !GetAtt, !Sub)", n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		return y.mapping(n, path)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			v, err := y.value(e, pathIndex(path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		return y.scalar(n)
	}
	return nil, y.errorf(n, "unexpected YAML node")
}

func (y yamlReader) mapping(n *yaml.Node, path string) (map[string]any, error) {
	out := map[string]any{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			return nil, y.errorf(kn, "a key must be a string")
		}
		if kn.ShortTag() == "!!merge" {
			// "<<: *anchor" copies the anchored map's keys; keys written here win.
			v, err := y.value(vn, path)
			if err != nil {
				return nil, err
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, y.errorf(vn, "<< must refer to a map")
			}
			for k, e := range m {
				if !seen[k] {
					out[k] = e
				}
			}
			continue
		}
		if seen[kn.Value] {
			return nil, y.errorf(kn, "key %q given twice", kn.Value)
		}
		seen[kn.Value] = true
		y.at.key(pathKey(path, kn.Value), kn.Line, kn.Column)
		v, err := y.value(vn, pathKey(path, kn.Value))
		if err != nil {
			return nil, err
		}
		out[kn.Value] = v
	}
	return out, nil
}

func (y yamlReader) scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, y.errorf(n, "%v", err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
		fallthrough
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, y.errorf(n, "%v", err)
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, y.errorf(n, "%s is not a number JSON can hold", n.Value)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	default:
		// Strings, and timestamps: CloudFormation reads "AWSTemplateFormatVersion: 2010-09-09" as text.
		return n.Value, nil
	}
}

// intrinsic converts a short-form function (!GetAtt Fn.Arn) to its long form ({"Fn::GetAtt": ["Fn", "Arn"]}).
func (y yamlReader) intrinsic(fn string, n *yaml.Node, path string) (any, error) {
	if n.Kind == yaml.ScalarNode {
		if fn == "Fn::GetAtt" {
			res, attr, ok := strings.Cut(n.Value, ".")
			if !ok {
				return nil, y.errorf(n, "!GetAtt %s must be Resource.Attribute", n.Value)
			}
			return map[string]any{fn: []any{res, attr}}, nil
		}
		return map[string]any{fn: n.Value}, nil
	}
	plain := *n
	plain.Tag = ""
	v, err := y.value(&plain, pathKey(path, fn))
	if err != nil {
		return nil, err
	}
	return map[string]any{fn: v}, nil
}

// intrinsicName maps a CloudFormation short-form YAML tag to the function's long name.
func intrinsicName(tag string) (string, bool) {
	switch tag {
	case "!Ref", "!Condition":
		return tag[1:], true
	case "!And", "!Base64", "!Cidr", "!Equals", "!FindInMap", "!GetAtt", "!GetAZs", "!If",
		"!ImportValue", "!Join", "!Length", "!Not", "!Or", "!Select", "!Split", "!Sub",
		"!ToJsonString", "!Transform":
		return "Fn::" + tag[1:], true
	}
	return "", false
}

func describe(v any) string {
	switch v.(type) {
	case unresolved:
		return "a value only the cloud knows"
	case noValue:
		return "AWS::NoValue"
	case []any:
		return "a list"
	case nil:
		return "null"
	case map[string]any:
		return "a map"
	default:
		return fmt.Sprintf("the value %v", v)
	}
}
