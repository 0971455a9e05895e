// Command fn does not compile: the packager must report the compiler's message.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() {
	var n int = "not a number"
	lambda.Start(func() (int, error) { return n, nil })
}
