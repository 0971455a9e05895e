// Command contract is a real aws-lambda-go function for the Runtime API contract test: it
// reports what the runtime client saw, fails or panics on request, and enables SIGTERM handling
// so that the extension endpoints are exercised.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Do string `json:"do"`
}

type answer struct {
	RequestID   string `json:"requestId"`
	FunctionArn string `json:"functionArn"`
	DeadlineMS  int64  `json:"deadlineMs"`
	TraceID     string `json:"traceId"`
	ClientApp   string `json:"clientApp"`
	Identity    string `json:"identity"`
}

func handler(ctx context.Context, req request) (*answer, error) {
	switch req.Do {
	case "fail":
		return nil, errors.New("asked to fail")
	case "panic":
		panic("asked to panic")
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	return &answer{
		RequestID:   lc.AwsRequestID,
		FunctionArn: lc.InvokedFunctionArn,
		DeadlineMS:  deadline.UnixMilli(),
		TraceID:     os.Getenv("_X_AMZN_TRACE_ID"),
		ClientApp:   lc.ClientContext.Client.AppTitle,
		Identity:    lc.Identity.CognitoIdentityID,
	}, nil
}

func main() {
	lambda.StartWithOptions(handler, lambda.WithEnableSIGTERM(func() {}))
}
