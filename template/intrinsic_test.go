package template

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// testEvaluator resolves against a small template: parameters, conditions, mappings, a served
// function, a table and a resource whose condition is false.
func testEvaluator(t *testing.T) *evaluator {
	t.Helper()
	doc, err := parse([]byte(`
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  CountIsThree: !Equals [!Ref Count, 3]
  ProdAndThree: !And [!Condition IsProd, !Condition CountIsThree]
  DevOrThree: !Or [!Condition IsDev, !Condition CountIsThree]
  HasSecret: !Equals [!Ref Secret, ""]
  Loop1: !Condition Loop2
  Loop2: !Not [!Condition Loop1]
Mappings:
  Sizes:
    prod: {Memory: 1024}
    dev: {Memory: 128}
  Loop:
    a: {b: !FindInMap [Loop, a, b]}
  Twice:
    a: {b: [!FindInMap [Twice, a, b], !FindInMap [Twice, a, b]]}
`+wideMapping(40)), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return &evaluator{
		params: map[string]paramValue{
			"Stage":   {value: "prod"},
			"Count":   {value: "3"},
			"Subnets": {value: []any{"a", "b", "c"}},
			"Secret":  {missing: &unresolved{reason: "parameter Secret has no Default and no override"}},
		},
		pseudo: map[string]any{
			"AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333", "AWS::Partition": "aws",
			"AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "shop",
		},
		conditions: doc["Conditions"].(map[string]any),
		mappings:   doc["Mappings"].(map[string]any),
		resources:  map[string]string{"Fn": "AWS::Serverless::Function", "Table": "AWS::DynamoDB::Table", "Gone": ""},
		functionARN: func(name string) string {
			return "arn:aws:lambda:eu-west-1:111122223333:function:" + name
		},
		condValue: map[string]bool{},
		condBusy:  map[string]bool{},
	}
}

// wideMapping is a mapping whose level i looks up level i+1 twice: no cycle, no deep nesting,
// but 2^levels lookups.
func wideMapping(levels int) string {
	var b strings.Builder
	b.WriteString("  Wide:\n")
	for i := range levels {
		fmt.Fprintf(&b, "    l%d: {v: [!FindInMap [Wide, l%d, v], !FindInMap [Wide, l%d, v]]}\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "    l%d: {v: leaf}\n", levels)
	return b.String()
}

// evalYAML evaluates one value written in YAML.
func evalYAML(t *testing.T, e *evaluator, expr string) (any, error) {
	t.Helper()
	doc, err := parse([]byte("V: "+expr), "t.yaml")
	if err != nil {
		t.Fatalf("parse %s: %v", expr, err)
	}
	return e.eval(doc["V"])
}

func TestEval(t *testing.T) {
	tests := []struct {
		name, expr string
		want       any
	}{
		{"Ref parameter", "!Ref Stage", "prod"},
		{"Ref pseudo parameter", "!Ref AWS::Region", "eu-west-1"},
		{"Ref list parameter", "!Ref Subnets", []any{"a", "b", "c"}},
		{"Ref function is its local name", "!Ref Fn", "Fn"},
		{"long form", "{Ref: Stage}", "prod"},
		{"AWS::NoValue drops a list element", "[a, !Ref AWS::NoValue, b]", []any{"a", "b"}},
		{"AWS::NoValue drops a key", "{A: x, B: !Ref AWS::NoValue}", map[string]any{"A": "x"}},
		{"GetAtt function Arn", "!GetAtt Fn.Arn", "arn:aws:lambda:eu-west-1:111122223333:function:Fn"},
		{"GetAtt long form", "{Fn::GetAtt: [Fn, Arn]}", "arn:aws:lambda:eu-west-1:111122223333:function:Fn"},
		{"Sub", "!Sub '${AWS::StackName}-${Stage}'", "shop-prod"},
		{"Sub keeps ${!Literal}", "!Sub 'a ${!Stage} b'", "a ${Stage} b"},
		{"Sub with variables", "!Sub ['${A}/${Fn.Arn}', {A: !Ref Count}]", "3/arn:aws:lambda:eu-west-1:111122223333:function:Fn"},
		{"Sub of the integration uri", "!Sub 'arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations'",
			"arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:Fn/invocations"},
		{"Join", "!Join ['.', [a, !Ref Stage, 1]]", "a.prod.1"},
		{"Join a list parameter", "!Join [',', !Ref Subnets]", "a,b,c"},
		{"If true", "!If [IsProd, big, small]", "big"},
		{"If false", "!If [IsDev, big, small]", "small"},
		{"If to NoValue", "{A: !If [IsDev, x, !Ref AWS::NoValue]}", map[string]any{}},
		{"If chained conditions", "!If [ProdAndThree, yes, no]", "yes"},
		{"Select", "!Select [1, !Ref Subnets]", "b"},
		{"Select of Split", "!Select [2, !Split [',', 'x,y,z']]", "z"},
		{"FindInMap", "!FindInMap [Sizes, !Ref Stage, Memory]", json.Number("1024")},
		{"Base64", "!Base64 hi", "aGk="},
		{"Equals outside Conditions", "!Equals [!Ref Count, 3]", true},
		{"nested", "!Join ['', [!If [IsProd, !Sub 'p-${Count}', d], '!']]", "p-3!"},
		{"ToJsonString", "!ToJsonString {a: [1, x]}", `{"a":[1,"x"]}`},
		{"Length", "!Length [a, b]", json.Number("2")},
		{"plain values pass", "{n: 1, b: true, s: x, l: [null]}", map[string]any{"n": json.Number("1"), "b": true, "s": "x", "l": []any{nil}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalYAML(t, testEvaluator(t), tc.expr)
			if err != nil {
				t.Fatalf("eval %s: %v", tc.expr, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("eval %s = %#v, want %#v", tc.expr, got, tc.want)
			}
		})
	}
}

// TestEvalUnresolved: what only the cloud knows stays unresolved, with a reason and a stand-in.
func TestEvalUnresolved(t *testing.T) {
	tests := []struct {
		name, expr  string
		placeholder string
		reasonHas   string
	}{
		{"Ref table", "!Ref Table", "Table", "AWS::DynamoDB::Table"},
		{"GetAtt table", "!GetAtt Table.Arn", "Table.Arn", "only known once deployed"},
		{"Sub with a table", "!Sub 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}'",
			"arn:aws:dynamodb:eu-west-1:111122223333:table/Table", "Ref Table"},
		{"Join with a table", "!Join ['/', [x, !GetAtt Table.StreamArn]]", "x/Table.StreamArn", "GetAtt Table.StreamArn"},
		{"parameter without value", "!Ref Secret", "", "no Default and no override"},
		{"resource whose condition is false", "!Ref Gone", "Gone", "not created"},
		{"resource SAM generates", "!Ref ServerlessRestApi", "ServerlessRestApi", "SAM generates"},
		{"ImportValue", "!ImportValue shared-vpc", "", "deploy time"},
		{"If on an undecidable condition", "!If [HasSecret, a, b]", "", "no Default"},
		{"unknown pseudo parameter", "!Ref AWS::Nope", "AWS::Nope", "unknown pseudo parameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalYAML(t, testEvaluator(t), tc.expr)
			if err != nil {
				t.Fatalf("eval %s: %v", tc.expr, err)
			}
			u, ok := got.(unresolved)
			if !ok {
				t.Fatalf("eval %s = %#v, want it unresolved", tc.expr, got)
			}
			if u.placeholder != tc.placeholder || !strings.Contains(u.reason, tc.reasonHas) {
				t.Errorf("eval %s = %+v, want placeholder %q and a reason with %q", tc.expr, u, tc.placeholder, tc.reasonHas)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"Sub without closing brace", "!Sub 'a ${Stage'", "without a closing }"},
		{"Select out of range", "!Select [5, [a]]", "outside a list of 1"},
		{"If on an unknown condition", "!If [Nope, a, b]", `no condition "Nope"`},
		{"unknown function", "{Fn::Bogus: x}", "unknown function Fn::Bogus"},
		{"GetAtt of one value", "{Fn::GetAtt: [Fn]}", "want [Resource, Attribute]"},
		{"Join with a number delimiter", "!Join [1, [a]]", "delimiter must be a string"},
		{"Sub of a list parameter", "!Sub '${Subnets}'", "is a list, not a string"},
		{"FindInMap of a missing key", "!FindInMap [Sizes, test, Memory]", "Mappings has no Sizes.test.Memory"},
		{"condition cycle", "!If [Loop1, a, b]", "depends on itself"},
		{"mapping that looks itself up", "!FindInMap [Loop, a, b]", "Mappings.Loop.a.b refers to itself"},
		// Bounding the depth alone would still leave 2^depth lookups.
		{"mapping that looks itself up twice", "!FindInMap [Twice, a, b]", "Mappings.Twice.a.b refers to itself"},
		{"lookups without end", "!FindInMap [Wide, l0, v]", "more than 1000000 steps"},
		{"functions nested too deep", strings.Repeat("[", 600) + strings.Repeat("]", 600), "nest more than 500 deep"},
		{"Ref of a map", "{Ref: {a: b}}", "want a name"},
		{"error names the key", "{Outer: {Inner: !Select [9, []]}}", "Outer: Inner: Fn::Select"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalYAML(t, testEvaluator(t), tc.expr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("eval %s = %#v, %v; want an error containing %q", tc.expr, got, err, tc.want)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	tests := []struct {
		stage string
		cond  string
		want  bool
	}{
		{"prod", "IsProd", true},
		{"dev", "IsProd", false},
		{"prod", "IsDev", false},
		{"dev", "IsDev", true},
		// The parameter "3" equals the number 3: CloudFormation compares string forms.
		{"prod", "CountIsThree", true},
		{"prod", "ProdAndThree", true},
		{"dev", "ProdAndThree", false},
		{"dev", "DevOrThree", true},
	}
	for _, tc := range tests {
		t.Run(tc.stage+"/"+tc.cond, func(t *testing.T) {
			e := testEvaluator(t)
			e.params["Stage"] = paramValue{value: tc.stage}
			got, err := e.condition(tc.cond)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("condition %s with Stage=%s = %v, want %v", tc.cond, tc.stage, got, tc.want)
			}
		})
	}
}
