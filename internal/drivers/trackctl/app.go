package trackctl

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// IO is where a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

const usage = `trackctl: operate a tracking pipeline

Usage:
  trackctl <command> [flags]

Commands:
  send                 send tracking updates (NDJSON from a file or stdin, or --generate N)
  audit <tracking-id>  a package's audit trail, latest status and conflicts
  dlq list             messages in the dead-letter queue, with reasons and ages
  dlq redrive          move DLQ messages back to the ingest queue
  stats                daily statistics of a UTC day
  packages --status S  packages whose latest status is S, oldest first (--stale-for 48h: only stuck ones)
  lag                  how far the projection (latest statuses, counters, events) is behind the rows
  rebuild              recompute a package's latest status (--package ID) or a day's counters (--day D) from the rows
  maintenance run      invoke the maintenance function now

Finding the stack (every command):
  --env-dir DIR        read "terraform output -json" of an env directory (e.g. envs/dev)
  --outputs FILE       read a saved "terraform output -json" file
  --ingest-queue-url, --ingest-queue-arn, --dlq-url, --dlq-arn, --table, --maintenance-function,
  --projector-function name resources directly (override the above)
  --endpoint URL       a local AWS, e.g. http://127.0.0.1:4566

Examples:
  trackctl send --env-dir envs/dev --generate 500 --rate 100
  trackctl send --outputs out.json < updates.ndjson
  trackctl audit 1Z999AA10123456784 --env-dir envs/dev --output json
  trackctl dlq list --env-dir envs/dev
  trackctl dlq redrive --env-dir envs/dev --reason MAX_RECEIVES_EXCEEDED --rate 20 --dry-run
  trackctl stats --env-dir envs/dev --day 2026-11-24
  trackctl packages --env-dir envs/dev --status EXCEPTION --stale-for 48h --limit 50
  trackctl lag --env-dir envs/dev
  trackctl rebuild --env-dir envs/dev --package 1Z999AA10123456784
  trackctl rebuild --env-dir envs/dev --day 2026-11-24
  trackctl maintenance run --env-dir envs/dev --day 2026-11-24
`

// ErrUsage marks bad arguments; the message says what is wrong.
var ErrUsage = errors.New("usage")

// Run runs one command and returns the process exit code.
func Run(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(io.Out, usage)
		return 0
	}
	cmd, rest := args[0], args[1:]
	if (cmd == "dlq" || cmd == "maintenance") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	run, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(io.Err, "trackctl: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	err := run(ctx, rest, io)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage) || errors.Is(err, ErrNoStack):
		fmt.Fprintf(io.Err, "trackctl %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(io.Err, "trackctl %s: %v\n", cmd, err)
		return 1
	}
}

var commands = map[string]func(context.Context, []string, IO) error{
	"send":            runSend,
	"audit":           runAudit,
	"dlq list":        runDLQList,
	"dlq redrive":     runDLQRedrive,
	"stats":           runStats,
	"packages":        runPackages,
	"lag":             runLag,
	"rebuild":         runRebuild,
	"maintenance run": runMaintenance,
}

// common are the flags every command takes.
type common struct {
	stack  StackFlags
	output string
}

func newFlags(name string, io IO, c *common, withOutput bool) *flag.FlagSet {
	fs := flag.NewFlagSet("trackctl "+name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.StringVar(&c.stack.EnvDir, "env-dir", "", "env directory to read terraform outputs from")
	fs.StringVar(&c.stack.OutputsFile, "outputs", "", "saved terraform output -json file")
	fs.StringVar(&c.stack.Endpoint, "endpoint", "", "AWS endpoint URL (a local AWS)")
	fs.StringVar(&c.stack.IngestQueueURL, "ingest-queue-url", "", "ingest queue URL")
	fs.StringVar(&c.stack.IngestQueueARN, "ingest-queue-arn", "", "ingest queue ARN")
	fs.StringVar(&c.stack.IngestDLQURL, "dlq-url", "", "dead-letter queue URL")
	fs.StringVar(&c.stack.IngestDLQARN, "dlq-arn", "", "dead-letter queue ARN")
	fs.StringVar(&c.stack.AuditTableName, "table", "", "audit table name")
	fs.StringVar(&c.stack.MaintenanceFunctionName, "maintenance-function", "", "maintenance function name")
	fs.StringVar(&c.stack.ProjectorFunctionName, "projector-function", "", "projector function name")
	if withOutput {
		fs.StringVar(&c.output, "output", "table", "output format: table or json")
	}
	return fs
}

// parse parses flags, allowing positional arguments before or after them.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, flag.ErrHelp
			}
			return nil, fmt.Errorf("%w: %w", ErrUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func (c *common) checkOutput() error {
	if c.output != "table" && c.output != "json" {
		return fmt.Errorf("%w: --output must be table or json, got %q", ErrUsage, c.output)
	}
	return nil
}

// emit writes v as indented JSON, or calls table to write a table.
func (c *common) emit(w io.Writer, v any, table func(tw *tabwriter.Writer)) error {
	if c.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
