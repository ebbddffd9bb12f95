// Command soak runs the pipeline on the local AWS under injected faults and
// checks that nothing is lost (`make soak`). It exits 1 when a check fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/soak"
)

func main() {
	module := flag.String("module", provision.ModuleDir, "the module's folder: settings, policies and alarms are read from it")
	zips := flag.String("zips", "dist/amd64", "folder with the host-architecture processor.zip and maintenance.zip")
	count := flag.Int("count", 20000, "tracking updates to send")
	seed := flag.Uint64("seed", 11, "seed of the synthetic stream")
	faultSpec := flag.String("faults", soak.DefaultFaults, "faults to inject (localaws -faults syntax)")
	timeout := flag.Duration("timeout", 15*time.Minute, "how long to wait for the queue to drain")
	logFile := flag.String("log", "", "function output (default discarded)")
	flag.Parse()

	log := io.Discard
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(2)
		}
		defer f.Close()
		log = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	err := soak.Run(ctx, soak.Options{Module: *module, ZipDir: *zips, Count: *count, Seed: *seed, Faults: *faultSpec, Timeout: *timeout, Out: os.Stdout, Log: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "\nsoak failed:", err)
		os.Exit(1) //nolint:gocritic // stop() only releases the signal handler
	}
	fmt.Printf("\nSoak passed in %s.\n", time.Since(start).Round(time.Second))
}
