package project

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// BenchmarkYAMLErrorPosition locates a bad indent in the middle of a 3000-line template, the size
// where parsing every prefix took seconds.
func BenchmarkYAMLErrorPosition(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("Resources:\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "  F%d:\n    Type: AWS::Serverless::Function\n    Properties: {MemorySize: 128}\n", i)
		if i == 500 {
			sb.WriteString("   Bad: indent\n")
		}
	}
	data := []byte(sb.String())
	var n yaml.Node
	err := yaml.Unmarshal(data, &n)
	for b.Loop() {
		line, _, _ := YAMLErrorPosition(data, err)
		if line != 1505 {
			b.Fatal(line)
		}
	}
}

// TestYAMLErrorPositionCost checks how many parses locating a mistake takes where it used to take
// one per character of a long line, each as long as the line: minutes for a minified template.
func TestYAMLErrorPositionCost(t *testing.T) {
	var minified strings.Builder
	minified.WriteString(`{"Resources": {`)
	for i := range 300 {
		fmt.Fprintf(&minified, `"F%d": {"Type": "AWS::Serverless::Function", "Properties": {"MemorySize": 128}}, `, i)
	}
	tests := []struct {
		name, data string
		want       string
		maxParses  int
	}{
		{"unclosed flow list on a long line", "app_name: [" + strings.Repeat("a, ", 5000) + "\n", "1:11 did not find expected node content", 300},
		{"minified JSON cut short", minified.String(), "1:1 did not find expected node content", 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			err := yaml.Unmarshal([]byte(tt.data), &n)
			if err == nil {
				t.Fatal("the test's YAML parses")
			}
			parses := 0
			line, col, msg := yamlErrorPosition([]byte(tt.data), err, func(data []byte) bool {
				parses++
				return yamlParses(data)
			})
			if got := fmt.Sprintf("%d:%d %s", line, col, msg); got != tt.want {
				t.Errorf("position = %s, want %s", got, tt.want)
			}
			t.Logf("%d parses", parses)
			if parses > tt.maxParses {
				t.Errorf("%d parses, want at most %d", parses, tt.maxParses)
			}
		})
	}
}
