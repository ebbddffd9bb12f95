// Package eventbus puts the pipeline's status-change events on an
// EventBridge bus, ten to a PutEvents call, and says which could not be put.
package eventbus

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

// maxEntries is the most entries one PutEvents call takes ("Entries:
// Array Members: Minimum number of 1 item. Maximum number of 10 items",
// EventBridge API Reference, PutEvents).
const maxEntries = 10

// EventBridge is the part of the EventBridge client the publisher uses.
type EventBridge interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ EventBridge = (*eventbridge.Client)(nil)

// Publisher puts status-change events on one bus under one source.
type Publisher struct {
	eb     EventBridge
	bus    string
	source string
}

// New returns a publisher to bus (its name or ARN) with events of source.
func New(eb EventBridge, bus, source string) *Publisher {
	return &Publisher{eb: eb, bus: bus, source: source}
}

// Publish puts one event per change and returns, at index i, the error of
// changes[i]: nil once EventBridge took it. A failed entry fails alone
// ("The response Entries array always includes the same number of entries
// as the request array", PutEvents); a failed call fails its entries.
func (p *Publisher) Publish(ctx context.Context, changes []contract.StatusChanged) []error {
	errs := make([]error, len(changes))
	for start := 0; start < len(changes); start += maxEntries {
		chunk := changes[start:min(start+maxEntries, len(changes))]
		entries := make([]types.PutEventsRequestEntry, len(chunk))
		for i, c := range chunk {
			detail, _ := json.Marshal(c) //nolint:errchkjson // strings and a string pointer always encode
			entries[i] = types.PutEventsRequestEntry{
				EventBusName: &p.bus, Source: &p.source,
				DetailType: aws.String(contract.StatusChangedDetailType), Detail: aws.String(string(detail)),
			}
		}
		out, err := p.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		for i, c := range chunk {
			switch {
			case err != nil:
				errs[start+i] = fmt.Errorf("put status change %s on %s: %w", c.IdempotencyKey, p.bus, err)
			case i >= len(out.Entries):
				errs[start+i] = fmt.Errorf("put status change %s on %s: no result entry", c.IdempotencyKey, p.bus)
			case out.Entries[i].ErrorCode != nil:
				errs[start+i] = fmt.Errorf("put status change %s on %s: %s: %s", c.IdempotencyKey, p.bus,
					aws.ToString(out.Entries[i].ErrorCode), aws.ToString(out.Entries[i].ErrorMessage))
			}
		}
	}
	return errs
}
