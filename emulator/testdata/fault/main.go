// Command fault is a test function whose behaviour is chosen by the request path: it returns,
// fails, panics, sleeps, exits or answers badly, so that the emulator's tests can check every
// error row of API Gateway and Lambda with one real aws-lambda-go program.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func handler(ctx context.Context, raw json.RawMessage) (any, error) {
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	action := strings.Trim(req.Path, "/")
	if p := req.PathParameters["action"]; p != "" {
		action = p
	}
	if q := req.QueryStringParameters["action"]; q != "" {
		action = q
	}
	ok := func(body string) events.APIGatewayProxyResponse {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: body}
	}
	switch action {
	case "ok":
		return ok(os.Getenv("FAULT_TEXT") + "ok"), nil
	case "echo":
		return ok(string(raw)), nil
	case "error":
		return nil, errors.New("something went wrong")
	case "panic":
		panic("handler panicked")
	case "print":
		// Lines written just before answering: on Lambda they land between START and END.
		lc, _ := lambdacontext.FromContext(ctx)
		for i := 1; i <= 3; i++ {
			fmt.Printf("printed %d for %s\n", i, lc.AwsRequestID)
		}
		fmt.Fprintf(os.Stderr, "stderr for %s\n", lc.AwsRequestID)
		return ok("printed"), nil
	case "spam":
		// Prints without end: only the function's timeout stops it.
		for i := 0; ; i++ {
			fmt.Println("spam line", i)
		}
	case "exit":
		fmt.Println("exiting mid-request")
		os.Exit(1)
	case "sleep":
		ms, _ := strconv.Atoi(req.QueryStringParameters["ms"])
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return ok("slept"), nil
	case "big":
		return ok(strings.Repeat("x", 7<<20)), nil
	case "malformed":
		return map[string]any{"statusCode": 200, "body": "hi", "extra": true}, nil
	case "nonstring":
		return map[string]any{"statusCode": 200, "body": 42}, nil
	case "raw":
		return "just a string", nil
	case "multi":
		return events.APIGatewayProxyResponse{
			StatusCode:        201,
			Headers:           map[string]string{"X-One": "a", "Content-Type": "text/plain"},
			MultiValueHeaders: map[string][]string{"X-One": {"a"}, "X-Two": {"b", "c"}},
			Body:              "multi",
		}, nil
	case "cors":
		// The CORS headers a REST API leaves to the function (SAM's Cors answers only the preflight).
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{
			"Access-Control-Allow-Origin": os.Getenv("CORS_ORIGIN"), "Access-Control-Allow-Credentials": "true"}, Body: "cors"}, nil
	case "binary":
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "image/png"}, Body: "iVBORw==", IsBase64Encoded: true}, nil
	case "env":
		var env []string
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			env = append(env, k)
		}
		sort.Strings(env)
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		out, _ := json.Marshal(map[string]any{
			"env":         env,
			"vars":        map[string]string{"AWS_LAMBDA_FUNCTION_NAME": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), "AWS_REGION": os.Getenv("AWS_REGION"), "TZ": os.Getenv("TZ"), "GREETING": os.Getenv("GREETING"), "_X_AMZN_TRACE_ID": os.Getenv("_X_AMZN_TRACE_ID")},
			"requestId":   lc.AwsRequestID,
			"functionArn": lc.InvokedFunctionArn,
			"deadlineIn":  time.Until(deadline).Milliseconds(),
		})
		return ok(string(out)), nil
	}
	return events.APIGatewayProxyResponse{StatusCode: 404, Body: "unknown action " + action}, nil
}

func main() {
	lambda.Start(handler)
}
