// Command slow is a test function that takes INIT_MS to start and sleeps the payload's "ms"
// before answering (or exits with status 2 when the payload says "Exit"), for the pool's tests of
// shutdown, drain and debuggers.
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
	lambda.Start(func(_ context.Context, in struct {
		MS   int
		Exit bool
	}) (string, error) {
		time.Sleep(time.Duration(in.MS) * time.Millisecond)
		if in.Exit {
			os.Exit(2)
		}
		return "done", nil
	})
}
