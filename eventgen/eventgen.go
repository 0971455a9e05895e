// Package eventgen writes sample events, shaped like the ones AWS sends to a Lambda function, so that
// a handler can be invoked by hand with a realistic payload (`devserver generate-event KIND`).
//
// Each event follows the samples in the AWS documentation and `sam local generate-event`, uses only
// the keys of the matching aws-lambda-go events type, and depends on nothing but its Options and the
// time it is given: ids are the documentation's fixed sample ids, times and hashes are derived.
package eventgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Options are the user's choices for an event. An empty field means "not given": the kind uses its
// default. The lower-case field names (detail-type for DetailType) are the option names used in
// errors and the flag names of generate-event.
type Options struct {
	Method string // HTTP method (API Gateway kinds); default GET, or POST when a body is given
	Path   string // request path, with an optional ?query (API Gateway kinds); default /
	Body   string // request body; the message (sqs, sns); the detail JSON object (eventbridge)
	Stage  string // API stage (API Gateway kinds)
	Type   string // authorizer type: token (default) or request
	Token  string // the caller's token (apigateway-authorizer); default allow
	Bucket string // s3-put
	Key    string // object key, not URL-encoded (s3-put)
	Queue  string // queue name; a name ending in .fifo makes a FIFO message (sqs)
	Topic  string // topic name (sns)
	Table  string // table name (dynamodb-update)

	Source     string // event source (eventbridge)
	DetailType string // event detail-type (eventbridge)

	Region  string // default us-east-1
	Account string // 12-digit account id; default 123456789012
}

// option is one Options field under its user-facing name.
type option struct{ name, value string }

// given lists the options that were set, in the order of the Options fields.
func (o Options) given() []option {
	all := []option{
		{"method", o.Method}, {"path", o.Path}, {"body", o.Body}, {"stage", o.Stage},
		{"type", o.Type}, {"token", o.Token}, {"bucket", o.Bucket}, {"key", o.Key},
		{"queue", o.Queue}, {"topic", o.Topic}, {"table", o.Table}, {"source", o.Source},
		{"detail-type", o.DetailType}, {"region", o.Region}, {"account", o.Account},
	}
	return slices.DeleteFunc(all, func(opt option) bool { return opt.value == "" })
}

// Kind describes one kind of event Generate writes.
type Kind struct {
	Name    string   // e.g. apigateway-aws-proxy
	Summary string   // one line for help texts
	Options []string // the option names this kind uses
}

// kind is a Kind and the function that builds its event.
type kind struct {
	Kind
	build func(o Options, now time.Time) (any, error)
}

// ErrUnknownKind is returned by Generate for a kind that is not in Kinds.
var ErrUnknownKind = errors.New("unknown kind")

// kinds is the table of every kind, in the order help texts list them. It is built on each call so
// that no caller can change it for another.
func kinds() []kind {
	request := []string{"method", "path", "body", "stage", "region", "account"}
	return []kind{
		{Kind{"apigateway-aws-proxy", "REST API request, Lambda proxy integration (payload 1.0)",
			request}, proxyEvent},
		{Kind{"apigateway-http-api", "HTTP API request (payload 2.0)",
			slices.Clone(request)}, httpAPIEvent},
		{Kind{"apigateway-authorizer", "REST API Lambda authorizer input, of type TOKEN or REQUEST",
			[]string{"type", "token", "method", "path", "stage", "region", "account"}}, authorizerEvent},
		{Kind{"s3-put", "S3 ObjectCreated:Put notification",
			[]string{"bucket", "key", "region"}}, s3PutEvent},
		{Kind{"sqs", "SQS message batch of one (standard, or FIFO for a .fifo queue)",
			[]string{"queue", "body", "region", "account"}}, sqsEvent},
		{Kind{"sns", "SNS notification",
			[]string{"topic", "body", "region", "account"}}, snsEvent},
		{Kind{"eventbridge", "EventBridge event put by an application",
			[]string{"source", "detail-type", "body", "region", "account"}}, eventBridgeEvent},
		{Kind{"dynamodb-update", "DynamoDB stream batch: INSERT, MODIFY and REMOVE of one item",
			[]string{"table", "region", "account"}}, dynamoDBEvent},
		{Kind{"schedule", "EventBridge scheduled event (a rule's cron or rate)",
			[]string{"region", "account"}}, scheduleEvent},
	}
}

// Kinds lists every kind Generate knows, in a stable order.
func Kinds() []Kind {
	var out []Kind
	for _, k := range kinds() {
		out = append(out, k.Kind)
	}
	return out
}

// Names lists the kind names, in the order of Kinds.
func Names() []string {
	var out []string
	for _, k := range kinds() {
		out = append(out, k.Name)
	}
	return out
}

// Generate writes the event of the named kind as JSON indented by two spaces, with a trailing
// newline. Times in the event are derived from now; the same kind, options and now give the same
// bytes. An option the kind does not use is an error, so that a mistyped command does not quietly
// print something else than was asked for.
func Generate(name string, opts Options, now time.Time) ([]byte, error) {
	ks := kinds()
	i := slices.IndexFunc(ks, func(k kind) bool { return k.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("generate %q: %w; kinds: %s", name, ErrUnknownKind, strings.Join(Names(), ", "))
	}
	k := ks[i]
	var unused []string
	for _, opt := range opts.given() {
		if !slices.Contains(k.Options, opt.name) {
			unused = append(unused, opt.name)
		}
	}
	if len(unused) > 0 {
		what := "option " + unused[0] + " does not apply"
		if len(unused) > 1 {
			what = "options " + strings.Join(unused, ", ") + " do not apply"
		}
		return nil, fmt.Errorf("generate %s: %s (%s uses %s)", name, what, name, strings.Join(k.Options, ", "))
	}
	if err := validate(opts.given()); err != nil {
		return nil, fmt.Errorf("generate %s: %w", name, err)
	}
	ev, err := k.build(opts, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("generate %s: %w", name, err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// URLs in events (SNS's UnsubscribeUrl) keep their & as AWS sends it, not \u0026.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ev); err != nil {
		return nil, fmt.Errorf("encode %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Patterns for the names AWS accepts, so that an event never carries a name the service would
// have refused.
var (
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	queueRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,75}(\.fifo)?$|^[A-Za-z0-9_-]{1,80}$`)
	topicRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,251}(\.fifo)?$|^[A-Za-z0-9_-]{1,256}$`)
	tableRE   = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
)

// methods are the HTTP methods an API Gateway route can have (ANY is a route, never a request).
func methods() []string {
	return []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
}

// validate checks the given options that have a fixed syntax, and reports every problem at once.
func validate(given []option) error {
	var errs []error
	bad := func(opt option, want string) {
		errs = append(errs, fmt.Errorf("%s %q: %s", opt.name, opt.value, want))
	}
	for _, opt := range given {
		switch opt.name {
		case "method":
			if !slices.Contains(methods(), strings.ToUpper(opt.value)) {
				bad(opt, "want one of "+strings.Join(methods(), ", "))
			}
		case "path":
			_, query, _ := strings.Cut(opt.value, "?")
			if _, err := url.ParseQuery(query); err != nil {
				bad(opt, fmt.Sprintf("query: %v", err))
			} else if !strings.HasPrefix(opt.value, "/") || strings.ContainsAny(opt.value, "# \t\r\n") {
				bad(opt, "want an absolute path such as /pets/42?limit=10, without spaces or #fragment")
			}
		case "type":
			if t := strings.ToLower(opt.value); t != "token" && t != "request" {
				bad(opt, "want token or request")
			}
		case "region":
			if !regionRE.MatchString(opt.value) {
				bad(opt, "want a region such as us-east-1")
			}
		case "account":
			if !accountRE.MatchString(opt.value) {
				bad(opt, "want 12 digits")
			}
		case "bucket":
			if !bucketRE.MatchString(opt.value) || strings.Contains(opt.value, "..") {
				bad(opt, "want 3 to 63 lower-case letters, digits, dots or hyphens")
			}
		case "key":
			if len(opt.value) > 1024 {
				bad(opt, "want at most 1024 bytes")
			}
		case "queue":
			if !queueRE.MatchString(opt.value) {
				bad(opt, "want up to 80 letters, digits, hyphens or underscores (FIFO: ending in .fifo)")
			}
		case "topic":
			if !topicRE.MatchString(opt.value) {
				bad(opt, "want up to 256 letters, digits, hyphens or underscores (FIFO: ending in .fifo)")
			}
		case "table":
			if !tableRE.MatchString(opt.value) {
				bad(opt, "want 3 to 255 letters, digits, dots, hyphens or underscores")
			}
		case "source":
			// PutEvents refuses the aws. prefix: it is for events that AWS services send.
			if len(opt.value) > 256 || strings.HasPrefix(opt.value, "aws.") {
				bad(opt, "want at most 256 characters, not starting with aws.")
			}
		case "detail-type":
			if len(opt.value) > 128 {
				bad(opt, "want at most 128 characters")
			}
		}
	}
	return errors.Join(errs...)
}

// Defaults, from the AWS documentation's samples.
const (
	defaultRegion  = "us-east-1"
	defaultAccount = "123456789012"
)

// where is the region, account and partition an event comes from.
type where struct{ region, account, partition, domain string }

func locate(o Options) where {
	w := where{region: o.Region, account: o.Account, partition: "aws", domain: "amazonaws.com"}
	if w.region == "" {
		w.region = defaultRegion
	}
	if w.account == "" {
		w.account = defaultAccount
	}
	// ARNs and host names differ in the China and GovCloud partitions.
	switch {
	case strings.HasPrefix(w.region, "cn-"):
		w.partition, w.domain = "aws-cn", "amazonaws.com.cn"
	case strings.HasPrefix(w.region, "us-gov-"):
		w.partition = "aws-us-gov"
	}
	return w
}

// arn builds arn:partition:service:region:account:resource.
func (w where) arn(service, resource string) string {
	return "arn:" + w.partition + ":" + service + ":" + w.region + ":" + w.account + ":" + resource
}

// Time layouts AWS uses in events.
const (
	apigwTime  = "02/Jan/2006:15:04:05 -0700"    // API Gateway requestTime and time
	isoMillis  = "2006-01-02T15:04:05.000Z07:00" // S3 eventTime, SNS Timestamp
	isoSeconds = time.RFC3339                    // EventBridge time
)
