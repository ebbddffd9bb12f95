// Command demo runs the whole pipeline on the local AWS: it deploys the
// stack, sends a realistic stream of tracking updates, waits for the queues
// to drain, prints a summary and stops everything it started. `make demo`
// builds the zips and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/demo"
)

func main() {
	zips := flag.String("zips", "dist/amd64", "folder with the host-architecture processor.zip, projector.zip and maintenance.zip")
	count := flag.Int("count", 2500, "tracking updates to send")
	seed := flag.Uint64("seed", 42, "seed of the synthetic stream")
	timeout := flag.Duration("timeout", 150*time.Second, "how long to wait for the queue to drain")
	logFile := flag.String("log", filepath.Join(os.TempDir(), "tracking-pipeline-demo.log"), "function and local AWS logs")
	scale := flag.Float64("time-scale", 10, "speed of the local AWS's clock: at 10 a CloudWatch minute (an alarm period) lasts 6 s")
	flag.Parse()

	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	err = demo.Run(ctx, demo.Options{Root: root, ZipDir: *zips, Count: *count, Seed: *seed, Timeout: *timeout, Out: os.Stdout, LogFile: *logFile, TimeScale: *scale})
	if err != nil {
		fmt.Fprintln(os.Stderr, "\ndemo failed:", err)
		os.Exit(1) //nolint:gocritic // stop() only releases the signal handler
	}
	fmt.Printf("\nDemo finished in %s; the local AWS is stopped.\n", time.Since(start).Round(time.Second))
}
