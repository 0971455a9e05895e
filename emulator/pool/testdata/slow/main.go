// Command slow is a test function that takes INIT_MS to start and sleeps the payload's "ms"
// before answering, for the pool's tests of shutdown and drain.
package main

import (
	"context"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	ms, _ := strconv.Atoi(os.Getenv("INIT_MS"))
	time.Sleep(time.Duration(ms) * time.Millisecond)
	lambda.Start(func(_ context.Context, in struct{ MS int }) (string, error) {
		time.Sleep(time.Duration(in.MS) * time.Millisecond)
		return "done", nil
	})
}
