// Command trackctl operates a tracking pipeline: send updates, read audit
// trails, inspect and redrive the DLQ, read daily stats, run maintenance.
// Run `trackctl help` for commands and examples.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/trackctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := trackctl.Run(ctx, os.Args[1:], trackctl.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
