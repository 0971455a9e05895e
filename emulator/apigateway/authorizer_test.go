package apigateway

import (
	"encoding/json"
	"testing"
)

func TestWildcardMatch(t *testing.T) {
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/pets/7"
	tests := []struct {
		pattern string
		want    bool
	}{
		{arn, true},
		{"*", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/*", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/pets/*", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/*", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/pets/?", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/pets/??", false},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/POST/*", false},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/pets", false},
		{"arn:aws:execute-api:*:*:abc/*/*/pets/*", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/api/get/pets/7", false}, // resources match case-sensitively
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, arn); got != tt.want {
			t.Errorf("wildcardMatch(%q) = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

func TestPolicyAllows(t *testing.T) {
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/pets/7"
	tests := []struct {
		name, policy string
		want         bool
	}{
		{"allow", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"` + arn + `"}]}`, true},
		{"one statement, lists", `{"Statement":{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["x","` + arn + `"]}}`, true},
		{"an explicit deny wins", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"execute-api:*","Resource":"*/GET/*"}]}`, false},
		{"another action", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, false},
		{"nothing said is a deny", `{"Statement":[]}`, false},
		{"action case does not matter", `{"Statement":[{"Effect":"allow","Action":"Execute-API:invoke","Resource":"*"}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p policyDocument
			if err := json.Unmarshal([]byte(tt.policy), &p); err != nil {
				t.Fatal(err)
			}
			if got := p.allows(arn); got != tt.want {
				t.Errorf("allows = %v, want %v", got, tt.want)
			}
		})
	}
}
