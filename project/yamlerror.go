package project

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// yamlLine matches yaml.v3's positioned syntax errors: "yaml: line 3: did not find expected key".
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// lineLookahead bounds how far past a failing prefix of whole lines longestParsing looks for a
// longer one that parses again, so that a large file costs tens of parses, not one per line.
const lineLookahead = 50

// charLookahead bounds the same within the failing line, in characters: a line up to that long is
// searched to its end, a longer one (a minified JSON template, a long unclosed flow list) costs
// a few hundred parses, not one per character each as long as the line.
const charLookahead = 200

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
	return yamlErrorPosition(data, err, yamlParses)
}

// yamlErrorPosition is YAMLErrorPosition with the parse it repeats passed in, to be counted.
func yamlErrorPosition(data []byte, err error, parses func([]byte) bool) (line, col int, msg string) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	line, col = 1, 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if parses(data) {
		// err is not about data; keep what yaml.v3 said.
		return line, col, msg
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	good := longestParsing(len(lines), lineLookahead, func(n int) bool {
		return parses(bytes.Join(lines[:n], nil))
	})
	head := bytes.Join(lines[:good], nil)
	text := strings.TrimRight(string(lines[good]), "\r\n")
	cuts := []int{}
	for i := range text {
		cuts = append(cuts, i)
	}
	cuts = append(cuts, len(text))
	at := func(i int) bool { return parses(slices.Concat(head, []byte(text[:cuts[i]]))) }
	c := len(text)
	if !at(len(cuts) - 1) {
		// Look far past a failing prefix (to the end of a line of up to charLookahead
		// characters), so that a quoted string or flow collection early on the line cannot
		// hide the mistake after it.
		c = cuts[longestParsing(len(cuts)-1, min(len(cuts), charLookahead), at)]
	}
	// "key: value" on a line indented too far reads as more of the scalar on the line above, up to
	// the colon; the mistake is the indent, so point at the key.
	if msg == "mapping values are not allowed in this context" && !strings.Contains(text[:c], ":") {
		c = len(text) - len(strings.TrimLeft(text, " "))
	}
	return good + 1, utf8.RuneCountInString(text[:c]) + 1, msg
}

// longestParsing returns the largest n below total for which parses(n) holds, given that
// parses(0) does and parses(total) does not. It bisects, as if every prefix longer than a
// failing one failed too; but a prefix also fails when it stops inside a flow collection or a
// quoted string that goes on past it, so before settling it tries the next lookahead lengths
// past the failing one, and bisects again from any of them that parses.
func longestParsing(total, lookahead int, parses func(n int) bool) int {
	good, bad := 0, total
	for {
		for bad-good > 1 {
			if mid := good + (bad-good)/2; parses(mid) {
				good = mid
			} else {
				bad = mid
			}
		}
		next := 0
		for n := bad + 1; n < min(bad+1+lookahead, total); n++ {
			if parses(n) {
				next = n
				break
			}
		}
		if next == 0 {
			return good
		}
		good, bad = next, total
	}
}

func yamlParses(data []byte) bool {
	var n yaml.Node
	return yaml.Unmarshal(data, &n) == nil
}
