package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-lambda-go/events"
	"github.com/spf13/cobra"

	"github.com/devserver/devserver/eventgen"
	"github.com/devserver/devserver/project"
)

var generateEventNow = time.Date(2024, 3, 5, 14, 7, 9, 0, time.UTC)

// runGenerateEvent runs the command under a root set up like newRootCmd's, as it will be mounted.
func runGenerateEvent(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := &cobra.Command{Use: "devserver", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(generateEventCmd(func() time.Time { return generateEventNow }))
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"generate-event"}, args...))
	err := root.Execute()
	if errOut.Len() > 0 {
		t.Errorf("stderr: %s", errOut.String())
	}
	return out.String(), err
}

// TestGenerateEventFlags sets each flag alone, on a kind that uses it, and checks the output is
// the event of the Options field of the same name: no flag is missing or wired to another field.
func TestGenerateEventFlags(t *testing.T) {
	samples := map[string]string{
		"method": "PUT", "path": "/pets?x=1", "body": `{"a":1}`, "stage": "v1", "type": "request",
		"token": "deny", "bucket": "my-bucket", "key": "a b", "queue": "q", "topic": "t", "table": "tbl",
		"source": "com.example.x", "detail-type": "X", "region": "eu-west-1", "account": "111122223333",
	}
	fields := reflect.TypeFor[eventgen.Options]()
	// Every flag is an option too (a flag without one would be silently ignored).
	usage := generateEventCmd(time.Now).Flags().FlagUsages()
	for _, m := range regexp.MustCompile(`--([a-z-]+) string`).FindAllStringSubmatch(usage, -1) {
		if _, ok := fields.FieldByNameFunc(func(f string) bool { return kebab(f) == m[1] }); !ok {
			t.Errorf("flag --%s is no field of eventgen.Options", m[1])
		}
	}
	for i := range fields.NumField() {
		name := kebab(fields.Field(i).Name)
		t.Run(name, func(t *testing.T) {
			value, ok := samples[name]
			if !ok {
				t.Fatalf("no sample value for --%s", name)
			}
			k := slices.IndexFunc(eventgen.Kinds(), func(k eventgen.Kind) bool { return slices.Contains(k.Options, name) })
			if k < 0 {
				t.Fatalf("no kind uses %s", name)
			}
			kind := eventgen.Kinds()[k].Name
			var opts eventgen.Options
			reflect.ValueOf(&opts).Elem().Field(i).SetString(value)
			want, err := eventgen.Generate(kind, opts, generateEventNow)
			if err != nil {
				t.Fatal(err)
			}
			got, err := runGenerateEvent(t, kind, "--"+name, value)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("generate-event %s --%s %q:\n%s\nwant:\n%s", kind, name, value, got, want)
			}
		})
	}
}

// kebab is the flag name of an Options field: DetailType is detail-type.
func kebab(field string) string {
	var b strings.Builder
	for i, r := range field {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func TestGenerateEventErrors(t *testing.T) {
	kinds := strings.Join(eventgen.Names(), ", ")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown kind", []string{"kinesis"}, `generate "kinesis": unknown kind; kinds: ` + kinds},
		{"no kind", nil, "generate-event takes one KIND, got 0 arguments; kinds: " + kinds},
		{"two kinds", []string{"sqs", "sns"}, "generate-event takes one KIND, got 2 arguments; kinds: " + kinds},
		{"flag the kind does not use", []string{"schedule", "--bucket", "b"},
			"generate schedule: option bucket does not apply (schedule uses region, account)"},
		{"bad value", []string{"sqs", "--account", "12"}, `generate sqs: account "12": want 12 digits`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runGenerateEvent(t, tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("printed an event on error:\n%s", out)
			}
		})
	}
}

// TestGenerateEventHelp lists every kind with the flags it uses, so that help alone is enough.
func TestGenerateEventHelp(t *testing.T) {
	lines := strings.Split(generateEventCmd(time.Now).Long, "\n")
	for _, k := range eventgen.Kinds() {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  "+k.Name+" ") })
		if i < 0 || i+1 == len(lines) || strings.TrimSpace(lines[i+1]) != "--"+strings.Join(k.Options, " --") {
			t.Errorf("help has no line for %s followed by its flags:\n%s", k.Name, strings.Join(lines, "\n"))
		}
	}
}

// TestGenerateEventStageMatchesRun: a REST event's default stage is the one devserver run serves,
// so that a generated event looks like those run builds.
func TestGenerateEventStageMatchesRun(t *testing.T) {
	out, err := runGenerateEvent(t, "apigateway-aws-proxy")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.RequestContext.Stage != project.DefaultStage {
		t.Errorf("stage %q, devserver run's default is %q", ev.RequestContext.Stage, project.DefaultStage)
	}
	if ev.RequestContext.RequestTimeEpoch != generateEventNow.UnixMilli() {
		t.Errorf("requestTimeEpoch %d, want the command's clock %d", ev.RequestContext.RequestTimeEpoch, generateEventNow.UnixMilli())
	}
}
