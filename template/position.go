package template

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// pathSep joins the keys and list indexes of a path into a document. NUL cannot be written in a
// YAML or JSON key by accident, unlike "." which appears in media types and parameter values.
const pathSep = "\x00"

// pathKey is the path of key inside the map at path.
func pathKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + pathSep + key
}

// pathIndex is the path of element i of the list at path.
func pathIndex(path string, i int) string { return pathKey(path, strconv.Itoa(i)) }

// pathOf joins keys into a path.
func pathOf(keys ...string) string { return strings.Join(keys, pathSep) }

// dotted spells a path the way problems name it: "Resources.Fn.Properties.Events.Get.Properties.Path".
func dotted(path string) string { return strings.ReplaceAll(path, pathSep, ".") }

// pos is where something is written in a template file; lines and columns start at 1.
type pos struct{ line, col int }

// positions records, for each path into a parsed document, where its value and (inside a map)
// its key are written. It is what lets Read say "template.yaml:12:5" rather than just "template.yaml".
type positions map[string]*place

type place struct{ key, value pos }

func (p positions) get(path string) *place {
	pl := p[path]
	if pl == nil {
		pl = &place{}
		p[path] = pl
	}
	return pl
}

// value records where the value at path starts; a nil positions records nothing.
func (p positions) value(path string, line, col int) {
	if p != nil {
		p.get(path).value = pos{line, col}
	}
}

// key records where the key of the value at path is written.
func (p positions) key(path string, line, col int) {
	if p != nil {
		p.get(path).key = pos{line, col}
	}
}

// jsonPositions walks well-formed JSON (parseJSON has accepted it) token by token and records
// where each key and value starts. Offsets only grow, so lines are counted in one pass.
func jsonPositions(data []byte) positions {
	at := positions{}
	dec := json.NewDecoder(bytes.NewReader(data))
	var (
		off, line, col = 0, 1, 1
	)
	// start finds the next token at or after from, skipping what separates tokens.
	start := func(from int64) pos {
		i := int(from)
		for i < len(data) && strings.IndexByte(" \t\r\n,:", data[i]) >= 0 {
			i++
		}
		for ; off < i && off < len(data); off++ {
			if data[off] == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return pos{line, col}
	}
	var walk func(path string) bool
	walk = func(path string) bool {
		p := start(dec.InputOffset())
		at.value(path, p.line, p.col)
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				kp := start(dec.InputOffset())
				k, err := dec.Token()
				if err != nil {
					return false
				}
				key, _ := k.(string)
				at.key(pathKey(path, key), kp.line, kp.col)
				if !walk(pathKey(path, key)) {
					return false
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if !walk(pathIndex(path, i)) {
					return false
				}
			}
			_, err = dec.Token()
		}
		return err == nil
	}
	walk("")
	return at
}
