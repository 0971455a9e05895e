package project

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// yamlLine matches yaml.v3's positioned syntax errors: "yaml: line 3: did not find expected key".
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// YAMLErrorPosition returns the 1-based line and column in data of the YAML syntax error err,
// which yaml.v3 returned for data, and its message without yaml.v3's "yaml: line N: " prefix.
//
// yaml.v3's own line is not the mistake's: it names the line above the block or flow collection
// the mistake is in (a bad indent shows up lines too early), no line at all on the first line,
// and no column ever. So the mistake is found by parsing prefixes of data instead: it is on the
// line after the longest run of whole lines that still parses, and at the character after the
// longest part of that line that still parses with the lines before it. Only the error path
// pays for the re-parsing, and a parse stops at the first mistake.
func YAMLErrorPosition(data []byte, err error) (line, col int, msg string) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	line, col = 1, 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if yamlParses(data) {
		// err is not about data; keep what yaml.v3 said.
		return line, col, msg
	}
	// The whole of data fails; find the longest prefix of whole lines that parses.
	lines := bytes.SplitAfter(data, []byte("\n"))
	k := len(lines)
	for k > 0 && !yamlParses(bytes.Join(lines[:k-1], nil)) {
		k--
	}
	if k == 0 {
		return line, col, msg
	}
	head := bytes.Join(lines[:k-1], nil)
	text := strings.TrimRight(string(lines[k-1]), "\r\n")
	c := len(text)
	for c > 0 && !yamlParses(append(head[:len(head):len(head)], text[:c]...)) {
		_, size := utf8.DecodeLastRuneInString(text[:c])
		c -= size
	}
	// "key: value" on a line indented too far reads as more of the scalar on the line above, up to
	// the colon; the mistake is the indent, so point at the key.
	if msg == "mapping values are not allowed in this context" && !strings.Contains(text[:c], ":") {
		c = len(text) - len(strings.TrimLeft(text, " "))
	}
	return k, utf8.RuneCountInString(text[:c]) + 1, msg
}

func yamlParses(data []byte) bool {
	var n yaml.Node
	return yaml.Unmarshal(data, &n) == nil
}
