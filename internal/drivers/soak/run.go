package soak

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/synth"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/faults"
)

// Options configure a soak run.
type Options struct {
	Module  string // the module's folder (provision.Load)
	ZipDir  string // host-architecture processor.zip and maintenance.zip
	Count   int
	Seed    uint64
	Faults  string // faults.Parse syntax
	Timeout time.Duration
	Out     io.Writer
	Log     io.Writer // function output
}

// Run deploys the stack on a fresh local AWS, sends Count updates with the
// faults on, waits for the queue to drain, turns the faults off and checks
// every update. It returns an error when a check fails.
func Run(ctx context.Context, o Options) error {
	w := o.Out
	rules, err := faults.Parse(o.Faults)
	if err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	srv, err := localaws.Start(localaws.Options{Addr: "127.0.0.1:0", FunctionOutput: o.Log, Instances: 4})
	if err != nil {
		return fmt.Errorf("start the local AWS: %w", err)
	}
	defer srv.Close()
	cfg := srv.ClientConfig()
	s, err := provision.Load(o.Module, fmt.Sprintf("soak-%d", time.Now().Unix()%100000))
	if err != nil {
		return err
	}
	s.LambdaArchitecture = lambdazip.HostArchitecture()
	Tune(&s)
	out, err := provision.New(cfg, s).Apply(ctx, provision.ZipsIn(o.ZipDir))
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	q := sqs.NewFromConfig(cfg)
	consumer, err := NewConsumer(ctx, cfg, out, s.NamePrefix+"-consumer")
	if err != nil {
		return err
	}
	store := audit.NewStore(dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true }), out.AuditTableName, 90)

	msgs := synth.Generate(synth.Options{Seed: o.Seed, Count: o.Count})
	kinds := map[synth.Kind]int{}
	for _, m := range msgs {
		kinds[m.Kind]++
	}
	fmt.Fprintf(w, "==> Soak: %d updates (%d new events, %d producer retries, %d conflicting resends, %d poison) with faults %s\n",
		len(msgs), kinds[synth.Valid], kinds[synth.Duplicate], kinds[synth.Conflict], kinds[synth.Poison], o.Faults)
	srv.Faults.Set(rules)
	start := time.Now()
	if err := Send(ctx, q, out.IngestQueueURL, msgs); err != nil {
		return err
	}
	if err := Drain(ctx, w, q, out.IngestQueueURL, store, len(msgs), o.Timeout); err != nil {
		return err
	}
	took := time.Since(start)
	injected := srv.Faults.Rules()
	srv.Faults.Set(nil)
	fmt.Fprintf(w, "==> Drained in %s. Faults injected:\n", took.Round(time.Millisecond))
	for _, r := range injected {
		fmt.Fprintf(w, "    %-50s %7d\n", r, r.Count)
	}
	changes, err := Received(ctx, consumer)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "==> %d status-change events, %d of them copies (at least once)\n", len(changes), copies(changes))
	checks, err := Verify(ctx, q, store, out.IngestQueueURL, out.IngestDLQURL, msgs, Crashes(injected), changes)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "==> Checks")
	return Print(w, checks)
}

// Received reads the consumer's status changes until none has come for a
// few seconds (the last ones follow the last rows within the projection's
// lag).
func Received(ctx context.Context, c *Consumer) ([]contract.StatusChanged, error) {
	var all []contract.StatusChanged
	for quiet := 0; quiet < 3; {
		got, err := c.Receive(ctx) // waits a second when nothing comes
		if err != nil {
			return all, err //nolint:wrapcheck // Receive says what failed
		}
		if all = append(all, got...); len(got) == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	return all, nil
}

// copies counts the events that repeat one already received.
func copies(changes []contract.StatusChanged) int {
	seen := map[string]bool{}
	n := 0
	for _, c := range changes {
		if seen[c.IdempotencyKey] {
			n++
		}
		seen[c.IdempotencyKey] = true
	}
	return n
}
