// Package bench measures the processor on the local AWS and prints figures
// next to a baseline measured in the same run:
//
//   - the processor zip's size;
//
//   - the DynamoDB write and read units the processor consumes per update,
//     by outcome, from the local AWS's capacity accounting (writecost);
//
//   - kumo's raw conditional PutItem rate at the processor's concurrency
//     (the ceiling), the processor's write path called directly, then the
//     processor's sustained messages per second draining a backlog, for
//     batch sizes 10 and 100, as shares of that ceiling, and the records
//     retried with 8 processes at full speed;
//
//   - the projection's lag: send to latest status, p50 and p99, at 1,000
//     updates a second, split into send to row and row to latest status;
//
//   - init time, from process start to the first Runtime API poll, of lone
//     cold starts.
//
//     go run ./cmd/bench -zip dist/amd64/processor.zip [-only processor|lag]
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
)

const (
	instances  = 4  // processor processes (the executor's default concurrency)
	workers    = 10 // MAX_CONCURRENCY per process, the module default
	writeGroup = 10 // updates per RecordBatch call in the write-path baseline: a batch of 10
	contended  = 8  // processor processes of the contention run
)

// Options are a run's inputs.
type Options struct {
	Module   string // the module's folder (provision.Load)
	Zip      string // the host-architecture processor zip; the projector's is beside it
	Messages int    // messages per batch-size run
	LogFile  string // where the functions' output goes ("": discarded)
	Only     string // "" for every part, "processor" or "lag" for one
}

// deployment is what each measured stack is made from: the module's
// defaults for the host's architecture, and the zips.
type deployment struct {
	base provision.Settings
	zips provision.Zips
}

// settings are the base settings for a stack named prefix.
func (d deployment) settings(prefix string) provision.Settings {
	s := d.base
	s.NamePrefix = prefix
	return s
}

// Run measures what o asks for on a local AWS of its own and writes the
// figures to w.
func Run(ctx context.Context, w io.Writer, o Options) error {
	zip, messages, logFile, only := o.Zip, o.Messages, o.LogFile, o.Only
	info, err := os.Stat(zip)
	if err != nil {
		return fmt.Errorf("%w (run make build-host)", err)
	}
	fmt.Fprintf(w, "processor zip: %.2f MB (target < 8 MB)\n", float64(info.Size())/1e6)

	var fnOut io.Writer
	if logFile != "" {
		f, err := os.Create(logFile) //nolint:gosec // the caller names its own log file
		if err != nil {
			return fmt.Errorf("create log: %w", err)
		}
		defer f.Close()
		fnOut = f
	}
	srv, err := localaws.Start(localaws.Options{Addr: "127.0.0.1:0", Instances: instances, FunctionOutput: fnOut})
	if err != nil {
		return fmt.Errorf("start the local AWS: %w", err)
	}
	defer srv.Close()
	cfg := srv.ClientConfig()
	base, err := provision.Load(o.Module, "bench")
	if err != nil {
		return err
	}
	base.LambdaArchitecture = lambdazip.HostArchitecture()
	d := deployment{base: base, zips: provision.ZipsIn(filepath.Dir(zip))}
	switch only {
	case "":
	case "processor":
		if _, err := printProcessorRates(ctx, w, srv, cfg, d, messages); err != nil {
			return err
		}
		return printContention(ctx, w, srv, cfg, d, messages)
	case "lag":
		return printProjectionLag(ctx, w, cfg, d)
	default:
		return fmt.Errorf("-only %q: processor or lag", only)
	}
	if err := printWriteCost(ctx, w, cfg); err != nil {
		return err
	}

	function, err := printProcessorRates(ctx, w, srv, cfg, d, messages)
	if err != nil {
		return err
	}

	if err := printProjectionLag(ctx, w, cfg, d); err != nil {
		return err
	}

	// Lambda starts each execution environment on its own, so init is
	// measured one process at a time, on a machine the runs above no
	// longer load; the bench's 4 processes started at once are shown too.
	together := srv.Executor.InitTimes(function)
	sort.Slice(together, func(i, j int) bool { return together[i] < together[j] })
	alone, err := coldStarts(srv, function, 5)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "init, process start to first Runtime API poll: p50 %s, max %s over %d cold starts one at a time (target < 30 ms); %d started at once on %d cores: p50 %s\n",
		pct(alone, 50), alone[len(alone)-1].Round(100*time.Microsecond), len(alone), len(together), runtime.NumCPU(), pct(together, 50))
	return printContention(ctx, w, srv, cfg, d, messages)
}
