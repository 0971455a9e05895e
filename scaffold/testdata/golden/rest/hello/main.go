// Command hello is a Lambda function behind an API Gateway REST API (payload 1.0): GET
// /hello/{name} answers a JSON greeting, ?greeting= changes its first word.
package main

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// greeting is the answer's JSON.
type greeting struct {
	Message string `json:"message"`
	// RequestID is API Gateway's id for the request: devserver run's access log shows it too.
	RequestID string `json:"requestId"`
}

func handler(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	word := req.QueryStringParameters["greeting"]
	if word == "" {
		word = "Hello"
	}
	body, err := json.Marshal(greeting{Message: word + ", " + req.PathParameters["name"] + "!", RequestID: req.RequestContext.RequestID})
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}, nil
}

func main() {
	lambda.Start(handler)
}
