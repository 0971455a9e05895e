package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/devserver/devserver/eventgen"
)

func newGenerateEventCmd() *cobra.Command {
	return generateEventCmd(time.Now)
}

// generateEventCmd takes the clock, so that a test can pin the event's times.
func generateEventCmd(now func() time.Time) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate-event KIND",
		Short: "Print a sample event of one kind, to invoke a function with by hand",
		Long: `Prints a sample event as AWS would send it to a function, shaped like the AWS documentation's
samples, with the keys of the matching aws-lambda-go events type. Times are now; ids are fixed
sample ids. A flag the kind does not use is an error.

Kinds (and the flags each uses):
` + kindTable() + `
Examples:
  devserver generate-event apigateway-aws-proxy --method POST --path '/pets?limit=2' --body '{"name":"rex"}'
  devserver generate-event s3-put --bucket photos --key 'cats/my cat.jpg'
  devserver generate-event sqs --queue orders.fifo --body '{"orderId":"1234"}'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("generate-event takes one KIND, got %d arguments; kinds: %s", len(args), strings.Join(eventgen.Names(), ", "))
			}
			return nil
		},
		ValidArgs: eventgen.Names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Flags are read as given, without viper: a DEVSERVER_* variable must not make an
			// option "given" for a kind that refuses it.
			f := cmd.Flags()
			get := func(name string) string {
				v, _ := f.GetString(name) // every name below is defined as a string flag
				return v
			}
			opts := eventgen.Options{
				Method: get("method"), Path: get("path"), Body: get("body"), Stage: get("stage"),
				Type: get("type"), Token: get("token"), Bucket: get("bucket"), Key: get("key"),
				Queue: get("queue"), Topic: get("topic"), Table: get("table"), Source: get("source"),
				DetailType: get("detail-type"), Region: get("region"), Account: get("account"),
			}
			b, err := eventgen.Generate(args[0], opts, now())
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	f := cmd.Flags()
	f.String("method", "", "HTTP method (default GET, or POST with --body)")
	f.String("path", "", "request path, with an optional ?query (default /)")
	f.String("body", "", "request body; the message (sqs, sns); the detail, a JSON object (eventbridge)")
	f.String("stage", "", "API stage (default api for a REST API, $default for an HTTP API)")
	f.String("type", "", "authorizer type: token (default) or request")
	f.String("token", "", "the caller's token (default allow, which AWS's sample authorizer lets through)")
	f.String("bucket", "", "bucket name (default amzn-s3-demo-bucket)")
	f.String("key", "", "object key, as written; the event URL-encodes it (default test/key)")
	f.String("queue", "", "queue name; a name ending in .fifo gives a FIFO message (default my-queue)")
	f.String("topic", "", "topic name (default my-topic)")
	f.String("table", "", "table name (default ExampleTableWithStream)")
	f.String("source", "", "event source (default com.example.orders)")
	f.String("detail-type", "", "event detail-type (default Order Placed)")
	f.String("region", "", "AWS region (default us-east-1)")
	f.String("account", "", "12-digit AWS account id (default 123456789012)")
	return cmd
}

// kindTable lists the kinds for the help text: the name and summary, then the flags it uses.
func kindTable() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, k := range eventgen.Kinds() {
		fmt.Fprintf(tw, "  %s\t%s\n  \t--%s\n", k.Name, k.Summary, strings.Join(k.Options, " --"))
	}
	tw.Flush()
	return b.String()
}
