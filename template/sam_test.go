package template

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// expandSAM is run by the Python that has cfn-lint's SAM translator (samtranslator, which
// cfn-lint needs and brings): it expands a template's SAM transform as CloudFormation would, with
// placeholder S3 CodeUris, and prints the resources as one JSON line after a marker (the
// translator prints notices of its own).
const expandSAM = `
import json, os, sys
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse
class Policies:
    def load(self): return {}
tpl = yaml_parse(sys.stdin.read())
for r in tpl.get("Resources", {}).values():
    if r.get("Type") == "AWS::Serverless::Function":
        r["Properties"]["CodeUri"] = "s3://bucket/key"
print("EXPANDED " + json.dumps(transform(tpl, {}, Policies())["Resources"]))
`

// TestSAMCreatesPermissions expands the golden templates with SAM itself and checks what the
// generated template leaves to SAM is there: an AWS::Lambda::Permission letting API Gateway invoke
// each Lambda authorizer's function (a REST API's by itself, an HTTP API's through
// EnableFunctionDefaultPermissions), and each function URL with its public permission.
func TestSAMCreatesPermissions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs SAM's translator; skipped with -short")
	}
	tests := []struct {
		golden      string
		authorizers []string // logical ids of the permissions SAM makes: <Api><Authorizer>AuthorizerPermission
		urls        []string // functions with a URL
	}{
		{"http-features.json", []string{"HttpAPISimpleAuthorizerPermission", "HttpAPIPolicyAuthorizerPermission"}, []string{"Pets", "Files"}},
		{"rest-features.json", []string{"RestAPITokenAuthorizerPermission", "RestAPIRequestAuthorizerPermission"}, []string{"Files"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "golden", tt.golden))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("python3", "-c", expandSAM)
			cmd.Stdin = bytes.NewReader(src)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("expand with SAM's translator (python3 with samtranslator, which comes with cfn-lint): %v\n%s", err, out)
			}
			_, line, ok := strings.Cut(string(out), "EXPANDED ")
			if !ok {
				t.Fatalf("no expansion printed:\n%s", out)
			}
			var resources map[string]struct {
				Type       string
				Properties map[string]any
			}
			if err := json.Unmarshal([]byte(line), &resources); err != nil {
				t.Fatalf("read the expansion: %v\n%s", err, line)
			}
			for _, id := range tt.authorizers {
				r, ok := resources[id]
				arn, _ := json.Marshal(r.Properties["SourceArn"])
				fn, _ := json.Marshal(r.Properties["FunctionName"])
				if !ok || r.Type != "AWS::Lambda::Permission" || r.Properties["Principal"] != "apigateway.amazonaws.com" ||
					!strings.Contains(string(arn), "/authorizers/*") || string(fn) != `{"Fn::GetAtt":["Users","Arn"]}` {
					t.Errorf("%s = %+v, want a permission for API Gateway to invoke the authorizer function Users", id, r)
				}
			}
			for _, fn := range tt.urls {
				if r := resources[fn+"Url"]; r.Type != "AWS::Lambda::Url" {
					t.Errorf("%sUrl = %+v, want the function URL", fn, r)
				}
			}
		})
	}
}
