package eventgen_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/devserver/devserver/eventgen"
	"github.com/devserver/devserver/internal/testkit"
)

// now is the time every golden event is generated at. It is not in UTC, so that an event that
// forgot to convert shows it.
var now = time.Date(2024, 3, 5, 15, 7, 9, 123_000_000, time.FixedZone("CET", 3600))

// cases are the golden events: one per kind with no options (named after the kind), and some with
// options. into makes the aws-lambda-go value the event must decode into.
func cases() []struct {
	name, kind string
	opts       eventgen.Options
	into       func() any
} {
	type c = struct {
		name, kind string
		opts       eventgen.Options
		into       func() any
	}
	proxy := func() any { return new(events.APIGatewayProxyRequest) }
	httpAPI := func() any { return new(events.APIGatewayV2HTTPRequest) }
	token := func() any { return new(events.APIGatewayCustomAuthorizerRequest) }
	request := func() any { return new(events.APIGatewayCustomAuthorizerRequestTypeRequest) }
	s3 := func() any { return new(events.S3Event) }
	sqs := func() any { return new(events.SQSEvent) }
	sns := func() any { return new(events.SNSEvent) }
	bridge := func() any { return new(events.EventBridgeEvent) }
	dynamo := func() any { return new(events.DynamoDBEvent) }
	post := eventgen.Options{Path: "/pets?tag=a&tag=b&limit=2", Body: `{"name":"rex"}`, Stage: "v1"}
	return []c{
		{"apigateway-aws-proxy", "apigateway-aws-proxy", eventgen.Options{}, proxy},
		{"apigateway-aws-proxy-post", "apigateway-aws-proxy", post, proxy},
		{"apigateway-aws-proxy-text", "apigateway-aws-proxy",
			eventgen.Options{Method: "put", Path: "/notes/1", Body: "plain text", Region: "cn-north-1", Account: "111122223333"}, proxy},
		{"apigateway-http-api", "apigateway-http-api", eventgen.Options{}, httpAPI},
		{"apigateway-http-api-post", "apigateway-http-api", post, httpAPI},
		{"apigateway-authorizer", "apigateway-authorizer", eventgen.Options{}, token},
		{"apigateway-authorizer-token", "apigateway-authorizer",
			eventgen.Options{Type: "TOKEN", Token: "Bearer abc.def.ghi", Method: "DELETE", Path: "/pets/42", Stage: "prod"}, token},
		{"apigateway-authorizer-request", "apigateway-authorizer",
			eventgen.Options{Type: "request", Token: "deny", Path: "/pets?limit=2"}, request},
		{"s3-put", "s3-put", eventgen.Options{}, s3},
		{"s3-put-key", "s3-put", eventgen.Options{Bucket: "photos.example", Key: "cats/my cat+dog.jpg", Region: "us-gov-west-1"}, s3},
		{"sqs", "sqs", eventgen.Options{}, sqs},
		{"sqs-fifo", "sqs", eventgen.Options{Queue: "orders.fifo", Body: `{"orderId":"1234"}`, Region: "eu-west-1", Account: "111122223333"}, sqs},
		{"sns", "sns", eventgen.Options{}, sns},
		{"sns-topic", "sns", eventgen.Options{Topic: "alerts", Body: "disk full", Region: "eu-central-1"}, sns},
		{"eventbridge", "eventbridge", eventgen.Options{}, bridge},
		{"eventbridge-detail", "eventbridge",
			eventgen.Options{Source: "com.example.users", DetailType: "User Signed Up", Body: ` {"userId": "u-1", "plan": "pro"} `}, bridge},
		{"dynamodb-update", "dynamodb-update", eventgen.Options{}, dynamo},
		{"dynamodb-update-table", "dynamodb-update", eventgen.Options{Table: "Orders", Region: "ap-southeast-2", Account: "111122223333"}, dynamo},
		{"schedule", "schedule", eventgen.Options{}, bridge},
	}
}

// TestGolden compares each event with testdata/golden/<name>.json.
func TestGolden(t *testing.T) {
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := eventgen.Generate(tc.kind, tc.opts, now)
			if err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, filepath.Join("testdata", "golden", tc.name+".json"), got)
		})
	}
}

// TestEveryKindHasGolden keeps a new kind from going out without a golden file and a decode check.
func TestEveryKindHasGolden(t *testing.T) {
	have := map[string]bool{}
	for _, tc := range cases() {
		if tc.name == tc.kind && tc.opts == (eventgen.Options{}) {
			have[tc.kind] = true
		}
	}
	for _, name := range eventgen.Names() {
		if !have[name] {
			t.Errorf("kind %s has no golden case with default options", name)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cases()) {
		t.Errorf("%d golden files for %d cases: delete the stale ones", len(files), len(cases()))
	}
}
