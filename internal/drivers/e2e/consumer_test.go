package e2e_test

import (
	"context"
	"strings"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/soak"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
)

// consumer is a downstream team's queue subscribed to the stack's
// status-change events (soak.Consumer).
type consumer struct{ c *soak.Consumer }

func newConsumer(ctx context.Context, s *stack) (*consumer, error) {
	c, err := soak.NewConsumer(ctx, s.srv.ClientConfig(), s.out, testenv.Unique("consumer"))
	return &consumer{c: c}, err //nolint:wrapcheck // NewConsumer says what failed
}

// changes receives what has arrived: each change as tracking_id:previous>status
// ("-" for none).
func (c *consumer) changes(ctx context.Context) ([]string, error) {
	got, err := c.c.Receive(ctx)
	out := make([]string, 0, len(got))
	for _, d := range got {
		prev := "-"
		if d.PreviousStatus != nil {
			prev = *d.PreviousStatus
		}
		out = append(out, d.TrackingID+":"+prev+">"+d.Status)
	}
	return out, err //nolint:wrapcheck // Receive says what failed
}

// of keeps the changes of one package.
func of(changes []string, trackingID string) []string {
	var out []string
	for _, c := range changes {
		if strings.HasPrefix(c, trackingID+":") {
			out = append(out, c)
		}
	}
	return out
}
