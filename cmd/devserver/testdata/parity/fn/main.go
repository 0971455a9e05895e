// Command fn answers with what it was given, so that two ways of serving it can be compared.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	switch e.Resource {
	case "/error":
		return events.APIGatewayProxyResponse{}, errors.New("asked to fail")
	case "/image":
		png := []byte("\x89PNG\r\n\x1a\n fake image bytes")
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "image/png"},
			Body: base64.StdEncoding.EncodeToString(png), IsBase64Encoded: true}, nil
	}
	out, _ := json.Marshal(map[string]any{
		"method":         e.HTTPMethod,
		"resource":       e.Resource,
		"path":           e.Path,
		"pathParameters": e.PathParameters,
		"query":          e.QueryStringParameters,
		"body":           e.Body,
		"base64":         e.IsBase64Encoded,
		"stage":          e.RequestContext.Stage,
		"contentType":    e.Headers["Content-Type"],
		"greeting":       os.Getenv("GREETING"),
		"memory":         os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
		"function":       os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
	})
	return events.APIGatewayProxyResponse{StatusCode: 201, Headers: map[string]string{"X-Echo": "yes"},
		MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}}, Body: string(out)}, nil
}

func main() {
	lambda.Start(handler)
}
