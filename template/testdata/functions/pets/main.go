// Command pets is a function of the test configs; template tests only need it to be a real main package.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: "pets " + req.Resource}, nil
}

func main() {
	lambda.Start(handler)
}
