// Command devserver runs Go Lambda functions behind a local API Gateway (`devserver run`) and
// packages them for deployment (`devserver package OUT`).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at release time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		stop()
		os.Exit(1)
	}
}
