// Command v2 is a test function for payload 2.0 (HTTP APIs and function URLs) whose answer is
// chosen by the request: the {action} path parameter, else the "action" query parameter, else
// the last path segment. It echoes its event, fails, sleeps, and answers in each shape the 2.0
// response rules read, so the emulator's tests can check them with a real aws-lambda-go program.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, raw json.RawMessage) (any, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	action := path.Base(req.RawPath)
	if p := req.PathParameters["action"]; p != "" {
		action = p
	}
	if q := req.QueryStringParameters["action"]; q != "" {
		action = q
	}
	switch action {
	case "echo":
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: string(raw)}, nil
	case "ok":
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: "ok"}, nil
	case "object":
		// No statusCode: the whole output is the body.
		return map[string]any{"hello": "world"}, nil
	case "string":
		return "just a string", nil
	case "numeric-status":
		return map[string]any{"statusCode": "201", "body": "created", "extra": true}, nil
	case "bad-status":
		return map[string]any{"statusCode": "abc", "body": "x"}, nil
	case "cookies":
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Cookies: []string{"a=1; Path=/", "b=2; HttpOnly"}, Body: "cookies"}, nil
	case "binary":
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "image/png"}, Body: "iVBORw0KGgo=", IsBase64Encoded: true}, nil
	case "cors":
		// CORS headers of its own, which an HTTP API with CORS configured replaces.
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Access-Control-Allow-Origin": "https://evil.example"}, Body: "cors"}, nil
	case "exposed":
		// Two headers, of which the API's CORS exposes one to a browser's script.
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"X-Total": "42", "X-Hidden": "1"},
			Body: `{"method":"` + req.RequestContext.HTTP.Method + `","cookies":` + strconv.Itoa(len(req.Cookies)) + `}`}, nil
	case "error":
		return nil, errors.New("something went wrong")
	case "panic":
		panic("handler panicked")
	case "sleep":
		ms, _ := strconv.Atoi(req.QueryStringParameters["ms"])
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "slept"}, nil
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: 404, Body: "unknown action " + action}, nil
}

func main() {
	lambda.Start(handler)
}
