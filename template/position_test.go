package template

import (
	"strings"
	"testing"
)

// TestPositions checks that both parsers say where keys and values are, so that Read can point
// into either kind of template.
func TestPositions(t *testing.T) {
	yamlDoc := "Resources:\n" +
		"  Fn:\n" +
		"    Properties:\n" +
		"      Runtime: go1.x\n" +
		"      Layers: [a, !Ref L]\n" +
		"      CodeUri: !Sub '${X}/fn'\n"
	jsonDoc := "{\n" +
		"  \"Resources\": {\n" +
		"    \"Fn\": {\n" +
		"      \"Properties\": {\n" +
		"        \"Runtime\" :  \"go1.x\",\n" +
		"        \"Layers\": [\"a\", {\"Ref\": \"L\"}],\n" +
		"\t\"CodeUri\": {\"Fn::Sub\": \"${X}/fn\"}\n" +
		"      }\n    }\n  }\n}\n"
	tests := []struct {
		name, file, doc string
		path            []string
		key, value      pos
	}{
		{"yaml map value", "t.yaml", yamlDoc, []string{"Resources", "Fn", "Properties", "Runtime"}, pos{4, 7}, pos{4, 16}},
		{"yaml list element", "t.yaml", yamlDoc, []string{"Resources", "Fn", "Properties", "Layers", "1"}, pos{}, pos{5, 19}},
		{"yaml inside a short-form tag", "t.yaml", yamlDoc, []string{"Resources", "Fn", "Properties", "CodeUri"}, pos{6, 7}, pos{6, 16}},
		{"json map value", "t.json", jsonDoc, []string{"Resources", "Fn", "Properties", "Runtime"}, pos{5, 9}, pos{5, 22}},
		{"json list element", "t.json", jsonDoc, []string{"Resources", "Fn", "Properties", "Layers", "1"}, pos{}, pos{6, 25}},
		{"json inside an intrinsic", "t.json", jsonDoc, []string{"Resources", "Fn", "Properties", "CodeUri", "Fn::Sub"}, pos{7, 14}, pos{7, 25}},
		{"json after a tab", "t.json", jsonDoc, []string{"Resources", "Fn", "Properties", "CodeUri"}, pos{7, 2}, pos{7, 13}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, at, err := parseAt([]byte(tc.doc), tc.file, true)
			if err != nil {
				t.Fatal(err)
			}
			pl := at[pathOf(tc.path...)]
			if pl == nil {
				t.Fatalf("no position for %s", strings.Join(tc.path, "."))
			}
			if pl.key != tc.key || pl.value != tc.value {
				t.Errorf("%s: key at %v, value at %v; want %v and %v", strings.Join(tc.path, "."), pl.key, pl.value, tc.key, tc.value)
			}
		})
	}
}

// TestAliasBomb: aliases are copied where they are used, so nested anchors must not be able to
// make a small file expand without bound.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	_, err := parse([]byte(b.String()), "bomb.yaml")
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Fatalf("parse error = %v, want one about expanding too far", err)
	}
}
