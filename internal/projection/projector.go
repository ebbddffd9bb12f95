// Package projection keeps what follows from the audit rows, reading the
// audit table's stream: each package's latest status (and its entry in the
// status index), the day counters, and a status-change event on the bus
// for each move of a latest status. Lambda reads a stream at least once,
// so every effect is idempotent: the latest status moves only forward
// (conditions on latest_order), counts are added once per stream shard
// (a high-water mark of sequence numbers), and events are at least once
// with an idempotency key.
package projection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
	"github.com/tracking-pipeline/tracking-pipeline/internal/eventbus"
)

// Store is the part of the audit store the projector writes.
type Store interface {
	AdvanceLatest(ctx context.Context, u contract.Update) (audit.StatusChange, bool, error)
	AddCounts(ctx context.Context, streamShard string, records []audit.Counted) error
}

// Publisher puts status-change events on the bus; errs[i] is changes[i]'s.
type Publisher interface {
	Publish(ctx context.Context, changes []contract.StatusChanged) []error
}

// Metrics receives one line of batch metrics.
type Metrics interface {
	Write(at time.Time, metrics map[string]emf.Metric) error
}

var (
	_ Store     = (*audit.Store)(nil)
	_ Publisher = (*eventbus.Publisher)(nil)
	_ Metrics   = (*emf.Writer)(nil)
)

// ErrBatchFailed is returned when the batch's first record failed: nothing
// was projected, so the invocation fails (Lambda's Errors metric and the
// alarm on it show it, and bisecting on error splits the batch).
var ErrBatchFailed = errors.New("the batch's first record failed")

// Projector handles batches of the audit table's stream records.
type Projector struct {
	store       Store
	bus         Publisher
	metrics     Metrics
	log         *zap.Logger
	concurrency int
	now         func() time.Time
}

// New returns a projector that writes up to concurrency packages' latest
// statuses at once.
func New(s Store, bus Publisher, m Metrics, log *zap.Logger, concurrency int) *Projector {
	return &Projector{store: s, bus: bus, metrics: m, log: log, concurrency: max(concurrency, 1), now: time.Now}
}

// Handle projects one batch of one stream shard. The mapping's tumbling
// window gives the event its shard id, which names the shard's counters;
// no count is kept in the window's state, because AWS does not document
// which state a retried batch gets, so each batch adds its own counts.
//
// Records are projected in order, packages side by side. At the first
// record that fails (its latest status, or its event), the batch stops
// counting and reports that record as its batch item failure: Lambda
// retries from it ("Lambda uses the record with the lowest sequence
// number as the checkpoint"), and what was done after it is done again,
// idempotently: a latest status does not move twice, and an event whose
// move is the latest is put again (at least once).
func (p *Projector) Handle(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
	resp := events.DynamoDBTimeWindowEventResponse{TimeWindowEventResponseProperties: events.TimeWindowEventResponseProperties{State: map[string]string{}}}
	if len(ev.Records) == 0 {
		return resp, nil // the window's final invocation: nothing is held in its state
	}
	log := p.log.With(zap.String("shard_id", ev.ShardID))
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With(zap.String("aws_request_id", lc.AwsRequestID))
	}
	now := p.now()
	changes := make([]change, len(ev.Records))
	failed := len(ev.Records) // index of the first failed record
	for i := range ev.Records {
		c, err := changeOf(&ev.Records[i], now)
		if err != nil {
			// A record the processor cannot have written: retrying cannot
			// help, and it would stop the shard until its age ran out.
			log.Error("stream record skipped", zap.String("sequence_number", c.seq), zap.Error(err))
		}
		changes[i] = c
	}

	moves, first := p.project(ctx, log, changes)
	failed = min(failed, first)

	var counted []audit.Counted
	for _, c := range changes[:failed] {
		if len(c.counters) > 0 {
			counted = append(counted, audit.Counted{Seq: c.seq, Day: c.day, Counters: c.counters})
		}
	}
	if err := p.store.AddCounts(ctx, ev.ShardID, counted); err != nil {
		log.Warn("day counters not written: the batch is retried", zap.Error(err))
		failed = 0
	}
	p.writeMetrics(log, changes, moves, failed)
	if failed == 0 {
		err := fmt.Errorf("%w: %d records", ErrBatchFailed, len(changes))
		log.Error("batch failed", zap.Error(err))
		return resp, err
	}
	if failed < len(changes) {
		resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: changes[failed].seq}}
	}
	return resp, nil
}

// move is what advancing one row's latest status did.
type move struct {
	change audit.StatusChange
	latest bool // the row is its package's latest (now, or already)
}

// project moves each row's package's latest status and puts the events of
// the moves, in rounds: each round advances the next row of every package
// side by side, then puts the round's events together (ten to a PutEvents
// call). A package whose move or event failed goes no further: a move
// whose event could not be put stays the package's latest, so the retry
// finds it and puts it again, and no later row of the package can overtake
// it first. It returns the moves by record and the index of the first
// record that failed (len(changes) for none).
func (p *Projector) project(ctx context.Context, log *zap.Logger, changes []change) ([]move, int) {
	moves := make([]move, len(changes))
	var packages [][]int
	byPackage := map[string]int{}
	for i, c := range changes {
		if c.row == nil {
			continue
		}
		k, ok := byPackage[c.row.TrackingID]
		if !ok {
			k = len(packages)
			byPackage[c.row.TrackingID] = k
			packages = append(packages, nil)
		}
		packages[k] = append(packages[k], i)
	}
	first := len(changes)
	stopped := make([]bool, len(packages))
	for round := 0; ; round++ {
		var rows []int // this round's row of each package still going
		var owner []int
		for k, pkg := range packages {
			if !stopped[k] && round < len(pkg) {
				rows, owner = append(rows, pkg[round]), append(owner, k)
			}
		}
		if len(rows) == 0 {
			return moves, first
		}
		failed := p.advance(ctx, changes, rows, moves)
		var details []contract.StatusChanged
		var at []int // index into rows of each detail
		for j, i := range rows {
			if failed[j] != nil {
				continue
			}
			if m := moves[i]; m.latest && m.change.Changed() {
				details = append(details, contract.NewStatusChanged(*changes[i].row, m.change.Old))
				at = append(at, j)
			}
		}
		for d, err := range p.publish(ctx, details) {
			if err != nil && failed[at[d]] == nil {
				failed[at[d]] = err
			}
		}
		for j, i := range rows {
			if failed[j] == nil {
				continue
			}
			u := changes[i].row
			log.Warn("row not projected: retried from it", zap.String("tracking_id", u.TrackingID),
				zap.String("event_id", u.EventID), zap.String("sequence_number", changes[i].seq), zap.Error(failed[j]))
			stopped[owner[j]] = true // the package's later rows wait for the retry
			first = min(first, i)
		}
	}
}

// advance moves the latest statuses of rows, p.concurrency at a time, and
// returns each one's error.
func (p *Projector) advance(ctx context.Context, changes []change, rows []int, moves []move) []error {
	errs := make([]error, len(rows))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(p.concurrency, len(rows)) {
		wg.Go(func() {
			for j := range next {
				i := rows[j]
				m, latest, err := p.store.AdvanceLatest(ctx, *changes[i].row)
				errs[j], moves[i] = err, move{change: m, latest: latest}
			}
		})
	}
	for j := range rows {
		next <- j
	}
	close(next)
	wg.Wait()
	return errs
}

// publishChunk is how many events one Publish call gets: one PutEvents call.
const publishChunk = 10

// publish puts details, a PutEvents call of publishChunk at a time, the
// calls side by side, and returns each one's error.
func (p *Projector) publish(ctx context.Context, details []contract.StatusChanged) []error {
	errs := make([]error, len(details))
	var wg sync.WaitGroup
	sem := make(chan struct{}, p.concurrency)
	for start := 0; start < len(details); start += publishChunk {
		end := min(start+publishChunk, len(details))
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			copy(errs[start:end], p.bus.Publish(ctx, details[start:end]))
		})
	}
	wg.Wait()
	return errs
}

// writeMetrics writes the batch's EMF line and logs each status change.
func (p *Projector) writeMetrics(log *zap.Logger, changes []change, moves []move, failed int) {
	var rows, stale, changed float64
	var lag time.Duration
	for i, c := range changes[:failed] {
		lag = max(lag, c.lag)
		if c.row == nil {
			continue
		}
		rows++
		switch m := moves[i]; {
		case !m.latest:
			stale++
		case m.change.Changed():
			changed++
			log.Info("status changed", zap.String("tracking_id", c.row.TrackingID), zap.String("event_id", c.row.EventID),
				zap.String("previous_status", m.change.Old), zap.String("status", m.change.New))
		}
	}
	m := map[string]emf.Metric{
		"Records":       {Value: float64(len(changes)), Unit: "Count"},
		"Projected":     {Value: float64(failed), Unit: "Count"},
		"Rows":          {Value: rows, Unit: "Count"},
		"StaleRows":     {Value: stale, Unit: "Count"},
		"StatusChanges": {Value: changed, Unit: "Count"},
		"Retried":       {Value: float64(len(changes) - failed), Unit: "Count"},
		"ProjectionLag": {Value: float64(lag) / float64(time.Millisecond), Unit: "Milliseconds"},
	}
	if err := p.metrics.Write(p.now(), m); err != nil {
		log.Warn("batch metrics not written", zap.Error(err))
	}
}
