// The function of a `sam init` Go hello-world, in its own module as sam init writes it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, _ events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	body := fmt.Sprintf("%s from %s (table %s, %s MB)", os.Getenv("GREETING"), os.Getenv("WHERE"), os.Getenv("TABLE"), os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	return events.APIGatewayProxyResponse{Body: body, StatusCode: 200}, nil
}

func main() {
	lambda.Start(handler)
}
