package eventgen_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-lambda-go/events"

	"github.com/devserver/devserver/eventgen"
	"github.com/devserver/devserver/internal/testkit"
)

// TestDecodesIntoEventsType decodes each event into its aws-lambda-go type with unknown fields
// refused, then checks that the type, written out again, still holds every value the event set.
// The second check catches what the first cannot: types with their own UnmarshalJSON (S3Object,
// DynamoDBAttributeValue, the epoch times) do not refuse unknown keys.
func TestDecodesIntoEventsType(t *testing.T) {
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			b, err := eventgen.Generate(tc.kind, tc.opts, now)
			if err != nil {
				t.Fatal(err)
			}
			v := tc.into()
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("decode into %T: %v", v, err)
			}
			if dec.More() {
				t.Fatalf("data after the event")
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(again, &got); err != nil {
				t.Fatal(err)
			}
			for _, problem := range lost("", want, got) {
				t.Errorf("%T loses %s", v, problem)
			}
		})
	}
}

// lost lists the places where got does not hold what want sets. A key that holds nothing (null,
// "", 0, false, {} or []) may be missing from got, as omitempty leaves it out; times compare as
// instants, since Go writes 12:00:00Z for AWS's 12:00:00.000Z.
func lost(at string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v became %v", at, want, got)}
		}
		var out []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				if !empty(wv) {
					out = append(out, fmt.Sprintf("%s.%s: missing", at, k))
				}
				continue
			}
			out = append(out, lost(at+"."+k, wv, gv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			if len(w) == 0 && empty(got) {
				return nil
			}
			return []string{fmt.Sprintf("%s: %v became %v", at, want, got)}
		}
		var out []string
		for i := range w {
			out = append(out, lost(fmt.Sprintf("%s[%d]", at, i), w[i], g[i])...)
		}
		return out
	case string:
		if g, ok := got.(string); ok && sameTime(w, g) {
			return nil
		}
	}
	if reflect.DeepEqual(want, got) || (empty(want) && empty(got)) {
		return nil
	}
	return []string{fmt.Sprintf("%s: %#v became %#v", at, want, got)}
}

func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return reflect.ValueOf(v).IsZero()
}

func sameTime(a, b string) bool {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	return errA == nil && errB == nil && ta.Equal(tb)
}

// TestLostNoticesLoss keeps the check above honest: it must report a changed, dropped or
// retyped value, and accept what only changed form.
func TestLostNoticesLoss(t *testing.T) {
	tests := []struct {
		name, want, got string
		lost            bool
	}{
		{"same", `{"a":{"b":[1,"x"]}}`, `{"a":{"b":[1,"x"]}}`, false},
		{"extra key in got", `{"a":1}`, `{"a":1,"b":2}`, false},
		{"dropped value", `{"a":1,"b":"x"}`, `{"a":1}`, true},
		{"changed value", `{"a":{"b":"x"}}`, `{"a":{"b":"y"}}`, true},
		{"shorter list", `{"a":[1,2]}`, `{"a":[1]}`, true},
		{"omitted zero", `{"a":false,"b":"","c":null,"d":{}}`, `{}`, false},
		{"null became empty string", `{"a":null}`, `{"a":""}`, false},
		{"same instant", `{"t":"2024-03-05T14:07:09.000Z"}`, `{"t":"2024-03-05T14:07:09Z"}`, false},
		{"other instant", `{"t":"2024-03-05T14:07:09.001Z"}`, `{"t":"2024-03-05T14:07:09Z"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want, got any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.got), &got); err != nil {
				t.Fatal(err)
			}
			if problems := lost("", want, got); (len(problems) > 0) != tt.lost {
				t.Errorf("lost(%s, %s) = %q, want lost=%v", tt.want, tt.got, problems, tt.lost)
			}
		})
	}
}

// TestTimesComeFromNow checks that every kind takes its times from now and not from the clock:
// an hour apart, the events differ; at the same time, they are the same bytes.
func TestTimesComeFromNow(t *testing.T) {
	for _, name := range eventgen.Names() {
		t.Run(name, func(t *testing.T) {
			a, err := eventgen.Generate(name, eventgen.Options{}, now)
			if err != nil {
				t.Fatal(err)
			}
			b, err := eventgen.Generate(name, eventgen.Options{}, now)
			if err != nil {
				t.Fatal(err)
			}
			later, err := eventgen.Generate(name, eventgen.Options{}, now.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("two events at the same time differ:\n%s", testkit.Diff(string(a), string(b)))
			}
			if name != "apigateway-authorizer" && bytes.Equal(a, later) {
				t.Errorf("the event an hour later is the same")
			}
		})
	}
}

// samples are valid values for every option, by name.
func samples() map[string]string {
	return map[string]string{
		"method": "PUT", "path": "/pets?x=1", "body": `{"a":1}`, "stage": "v1", "type": "request",
		"token": "deny", "bucket": "my-bucket", "key": "a b", "queue": "q", "topic": "t", "table": "tbl",
		"source": "com.example.x", "detail-type": "X", "region": "eu-west-1", "account": "111122223333",
	}
}

// optionName is the user-facing name of an Options field: DetailType is detail-type.
func optionName(field string) string {
	var b strings.Builder
	for i, r := range field {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// TestOptionsApply sets each Options field alone for each kind: a kind that lists the option
// accepts it, any other kind refuses it by name. Going over the struct's fields means a field
// added without being checked fails here.
func TestOptionsApply(t *testing.T) {
	fields := reflect.TypeFor[eventgen.Options]()
	for _, k := range eventgen.Kinds() {
		for i := range fields.NumField() {
			name := optionName(fields.Field(i).Name)
			t.Run(k.Name+"/"+name, func(t *testing.T) {
				value, ok := samples()[name]
				if !ok {
					t.Fatalf("no sample value for option %s", name)
				}
				var opts eventgen.Options
				reflect.ValueOf(&opts).Elem().Field(i).SetString(value)
				_, err := eventgen.Generate(k.Name, opts, now)
				if slices.Contains(k.Options, name) {
					if err != nil {
						t.Errorf("%s with %s=%q: %v", k.Name, name, value, err)
					}
					return
				}
				want := fmt.Sprintf("generate %s: option %s does not apply (%s uses %s)", k.Name, name, k.Name, strings.Join(k.Options, ", "))
				if err == nil || err.Error() != want {
					t.Errorf("%s with %s=%q: error %v, want %q", k.Name, name, value, err, want)
				}
			})
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, kind string
		opts       eventgen.Options
		want       string
	}{
		{"unknown kind", "s3", eventgen.Options{},
			`generate "s3": unknown kind; kinds: ` + strings.Join(eventgen.Names(), ", ")},
		{"two unused options", "sqs", eventgen.Options{Bucket: "b", Key: "k", Queue: "q"},
			"generate sqs: options bucket, key do not apply (sqs uses queue, body, region, account)"},
		{"method", "apigateway-aws-proxy", eventgen.Options{Method: "FETCH"},
			`generate apigateway-aws-proxy: method "FETCH": want one of DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT`},
		{"relative path", "apigateway-http-api", eventgen.Options{Path: "pets"},
			`generate apigateway-http-api: path "pets": want an absolute path such as /pets/42?limit=10, without spaces or #fragment`},
		{"bad query", "apigateway-aws-proxy", eventgen.Options{Path: "/pets?a=%zz"},
			`generate apigateway-aws-proxy: path "/pets?a=%zz": query: invalid URL escape "%zz"`},
		{"all problems at once", "apigateway-authorizer", eventgen.Options{Type: "jwt", Region: "mars", Account: "42"},
			"generate apigateway-authorizer: type \"jwt\": want token or request\n" +
				"region \"mars\": want a region such as us-east-1\naccount \"42\": want 12 digits"},
		{"bucket", "s3-put", eventgen.Options{Bucket: "My_Bucket"},
			`generate s3-put: bucket "My_Bucket": want 3 to 63 lower-case letters, digits, dots or hyphens`},
		{"key too long", "s3-put", eventgen.Options{Key: strings.Repeat("k", 1025)},
			`generate s3-put: key "` + strings.Repeat("k", 1025) + `": want at most 1024 bytes`},
		{"queue", "sqs", eventgen.Options{Queue: "my queue"},
			`generate sqs: queue "my queue": want up to 80 letters, digits, hyphens or underscores (FIFO: ending in .fifo)`},
		{"topic", "sns", eventgen.Options{Topic: "a.b"},
			`generate sns: topic "a.b": want up to 256 letters, digits, hyphens or underscores (FIFO: ending in .fifo)`},
		{"table", "dynamodb-update", eventgen.Options{Table: "ab"},
			`generate dynamodb-update: table "ab": want 3 to 255 letters, digits, dots, hyphens or underscores`},
		{"aws source", "eventbridge", eventgen.Options{Source: "aws.ec2"},
			`generate eventbridge: source "aws.ec2": want at most 256 characters, not starting with aws.`},
		{"detail not an object", "eventbridge", eventgen.Options{Body: `["a"]`},
			"generate eventbridge: body: the detail must be a JSON object"},
		{"detail not JSON", "eventbridge", eventgen.Options{Body: "hello"},
			"generate eventbridge: body: the detail must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := eventgen.Generate(tt.kind, tt.opts, now)
			if err == nil {
				t.Fatalf("no error; event:\n%s", b)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
	if _, err := eventgen.Generate("nope", eventgen.Options{}, now); !errors.Is(err, eventgen.ErrUnknownKind) {
		t.Errorf("unknown kind: %v, want ErrUnknownKind", err)
	}
}

// decode reads an event into its aws-lambda-go type.
func decode[T any](t *testing.T, kind string, opts eventgen.Options) T {
	t.Helper()
	b, err := eventgen.Generate(kind, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMeaning checks what a handler reads from the events, through the aws-lambda-go types: the
// values the options asked for arrive where a handler looks for them.
func TestMeaning(t *testing.T) {
	t.Run("proxy", func(t *testing.T) {
		ev := decode[events.APIGatewayProxyRequest](t, "apigateway-aws-proxy",
			eventgen.Options{Path: "/pets?tag=a&tag=b", Body: `{"name":"rex"}`, Stage: "v1"})
		if ev.HTTPMethod != "POST" || ev.Body != `{"name":"rex"}` || ev.Headers["Content-Type"] != "application/json" {
			t.Errorf("a body makes a JSON POST: %s %q %q", ev.HTTPMethod, ev.Body, ev.Headers["Content-Type"])
		}
		if ev.Path != "/pets" || ev.RequestContext.Path != "/v1/pets" || ev.RequestContext.Stage != "v1" {
			t.Errorf("path %q, requestContext.path %q, stage %q", ev.Path, ev.RequestContext.Path, ev.RequestContext.Stage)
		}
		if ev.QueryStringParameters["tag"] != "b" || !slices.Equal(ev.MultiValueQueryStringParameters["tag"], []string{"a", "b"}) {
			t.Errorf("query %v, multi %v", ev.QueryStringParameters, ev.MultiValueQueryStringParameters)
		}
		if ev.RequestContext.RequestTimeEpoch != now.UnixMilli() {
			t.Errorf("requestTimeEpoch %d, want %d", ev.RequestContext.RequestTimeEpoch, now.UnixMilli())
		}
	})
	t.Run("http-api", func(t *testing.T) {
		ev := decode[events.APIGatewayV2HTTPRequest](t, "apigateway-http-api",
			eventgen.Options{Method: "delete", Path: "/pets/1?tag=a&tag=b"})
		if ev.RouteKey != "DELETE /pets/1" || ev.RawPath != "/pets/1" || ev.RequestContext.HTTP.Method != "DELETE" {
			t.Errorf("routeKey %q, rawPath %q, method %q", ev.RouteKey, ev.RawPath, ev.RequestContext.HTTP.Method)
		}
		if ev.QueryStringParameters["tag"] != "a,b" || ev.RawQueryString != "tag=a&tag=b" {
			t.Errorf("query %v, raw %q", ev.QueryStringParameters, ev.RawQueryString)
		}
	})
	t.Run("authorizer request", func(t *testing.T) {
		ev := decode[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, "apigateway-authorizer",
			eventgen.Options{Type: "request", Token: "deny", Method: "POST", Path: "/pets", Region: "eu-west-1"})
		if ev.Type != "REQUEST" || ev.Headers["Authorization"] != "deny" {
			t.Errorf("type %q, Authorization %q", ev.Type, ev.Headers["Authorization"])
		}
		if want := "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/api/POST/pets"; ev.MethodArn != want {
			t.Errorf("methodArn %q, want %q", ev.MethodArn, want)
		}
	})
	t.Run("s3 key", func(t *testing.T) {
		ev := decode[events.S3Event](t, "s3-put", eventgen.Options{Key: "cats/my cat+dog.jpg"})
		if got := ev.Records[0].S3.Object.URLDecodedKey; got != "cats/my cat+dog.jpg" {
			t.Errorf("decoded key %q", got)
		}
	})
	t.Run("sqs md5", func(t *testing.T) {
		ev := decode[events.SQSEvent](t, "sqs", eventgen.Options{Body: "hello"})
		sum := md5.Sum([]byte("hello"))
		if m := ev.Records[0]; m.Body != "hello" || m.Md5OfBody != hex.EncodeToString(sum[:]) {
			t.Errorf("body %q, md5OfBody %s", m.Body, m.Md5OfBody)
		}
		if _, fifo := ev.Records[0].Attributes["MessageGroupId"]; fifo {
			t.Errorf("a standard queue's message has a MessageGroupId")
		}
	})
	t.Run("dynamodb images", func(t *testing.T) {
		ev := decode[events.DynamoDBEvent](t, "dynamodb-update", eventgen.Options{})
		var names []string
		for _, r := range ev.Records {
			names = append(names, r.EventName)
		}
		if !slices.Equal(names, []string{"INSERT", "MODIFY", "REMOVE"}) {
			t.Fatalf("records %v", names)
		}
		if got := ev.Records[1].Change.NewImage["Message"].String(); got != "This item has changed" {
			t.Errorf("MODIFY new image Message %q", got)
		}
		if got := ev.Records[0].Change.ApproximateCreationDateTime.Unix(); got != now.Unix() {
			t.Errorf("ApproximateCreationDateTime %d, want %d", got, now.Unix())
		}
	})
}
