// Command bench measures the processor and the projection on the local AWS
// (internal/drivers/bench says what and how) and prints the figures.
//
//	bench -zip dist/amd64/processor.zip [-only processor|lag] [-messages N] [-log FILE] [-cpuprofile FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/bench"
)

func main() {
	var o bench.Options
	flag.StringVar(&o.Module, "module", provision.ModuleDir, "the module's folder: settings, policies and alarms are read from it")
	flag.StringVar(&o.Zip, "zip", "dist/amd64/processor.zip", "host-architecture processor zip")
	flag.IntVar(&o.Messages, "messages", 10000, "messages per batch-size run")
	flag.StringVar(&o.LogFile, "log", "", "write function output here (default: discard)")
	flag.StringVar(&o.Only, "only", "", "run only one part: processor (both batch sizes) or lag")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (kumo, the layer, the poller) here")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile) //nolint:gosec // the caller names its own file
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := bench.Run(context.Background(), os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1) //nolint:gocritic // the profile is not needed on failure
	}
}
