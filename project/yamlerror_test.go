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
