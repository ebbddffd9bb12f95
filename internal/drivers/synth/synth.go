// Package synth generates realistic streams of tracking updates from a seed:
// packages moving through carrier networks, sent out of order, with
// producer retries (duplicates), conflicting resends and poison messages.
package synth

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Kind says what a generated message is meant to exercise.
type Kind string

// Kinds of generated messages.
const (
	Valid     Kind = "valid"     // a new event
	Duplicate Kind = "duplicate" // an exact resend of an earlier message
	Conflict  Kind = "conflict"  // an earlier event id with other content
	Poison    Kind = "poison"    // breaks the contract
)

// Message is one generated SQS body.
type Message struct {
	Body       string
	Kind       Kind
	TrackingID string
}

// Options shape a stream.
type Options struct {
	Seed          uint64
	Count         int       // messages to generate
	DuplicateRate float64   // default 0.05
	ConflictRate  float64   // default 0.01
	PoisonRate    float64   // default 0.02
	Start         time.Time // first event time; default 24 h ago
}

var (
	carriers = []string{"DHL", "UPS", "FEDEX", "USPS", "DPD", "GLS"}
	cities   = []struct{ City, Country string }{
		{"Leipzig", "DE"}, {"Louisville", "US"}, {"Memphis", "US"}, {"Paris", "FR"}, {"Rotterdam", "NL"},
		{"Milan", "IT"}, {"Warsaw", "PL"}, {"Madrid", "ES"}, {"Chicago", "US"}, {"Liege", "BE"},
	}
	journey = []string{"LABEL_CREATED", "PICKED_UP", "ARRIVED_AT_HUB", "IN_TRANSIT", "DEPARTED_HUB", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"}
	poisons = []func(r *rand.Rand, tid string) string{
		func(_ *rand.Rand, tid string) string {
			return `{"tracking_id":"` + tid + `","status":"IN_TRANSIT","event_time":`
		},
		func(_ *rand.Rand, tid string) string { return `{"tracking_id":"` + tid + `","status":"DELIVERED"}` },
		func(_ *rand.Rand, tid string) string {
			return `{"tracking_id":"` + tid + `","status":"in transit","event_time":"2026-11-25T10:00:00Z"}`
		},
		func(_ *rand.Rand, _ string) string {
			return `{"tracking_id":"has spaces/and slashes","status":"IN_TRANSIT","event_time":"2026-11-25T10:00:00Z"}`
		},
		func(_ *rand.Rand, tid string) string {
			return `{"tracking_id":"` + tid + `","status":"IN_TRANSIT","event_time":"yesterday at noon"}`
		},
		func(_ *rand.Rand, tid string) string {
			return `{"schema_version":2,"tracking_id":"` + tid + `","status":"IN_TRANSIT","event_time":"2026-11-25T10:00:00Z"}`
		},
	}
)

// Generate returns opts.Count messages; the same options give the same stream.
func Generate(opts Options) []Message {
	if opts.DuplicateRate == 0 {
		opts.DuplicateRate = 0.05
	}
	if opts.ConflictRate == 0 {
		opts.ConflictRate = 0.01
	}
	if opts.PoisonRate == 0 {
		opts.PoisonRate = 0.02
	}
	if opts.Start.IsZero() {
		opts.Start = time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	}
	r := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)) //nolint:gosec // synthetic data, not security

	var out []Message
	var valid []Message
	pkg := 0
	for len(out) < opts.Count {
		pkg++
		tid := fmt.Sprintf("%s%010d", []string{"1Z", "JD", "94", "CZ"}[pkg%4], r.IntN(1e10))
		carrier := carriers[r.IntN(len(carriers))]
		at := opts.Start.Add(time.Duration(r.IntN(3600)) * time.Second)
		events := make([]Message, 0, len(journey))
		for i, status := range journey {
			at = at.Add(time.Duration(20+r.IntN(180)) * time.Minute)
			place := cities[r.IntN(len(cities))]
			doc := map[string]any{
				"schema_version": 1,
				"tracking_id":    tid,
				"event_id":       fmt.Sprintf("%s-%s-%d", carrier, tid, i),
				"status":         status,
				"event_time":     at.Format(time.RFC3339),
				"carrier":        carrier,
				"location":       map[string]string{"city": place.City, "country": place.Country},
				"details":        map[string]any{"scan": fmt.Sprintf("SC%06d", r.IntN(1e6)), "weight_kg": float64(r.IntN(300))/10 + 0.1},
			}
			if r.IntN(4) == 0 { // the first producers still send the old field name
				doc["timestamp"] = doc["event_time"]
				delete(doc, "event_time")
			}
			b, _ := json.Marshal(doc)
			events = append(events, Message{Body: string(b), Kind: Valid, TrackingID: tid})
		}
		// Carriers report late and in bursts: shuffle within the journey.
		r.Shuffle(len(events), func(i, j int) {
			if r.IntN(3) == 0 {
				events[i], events[j] = events[j], events[i]
			}
		})
		for _, ev := range events {
			if len(out) >= opts.Count {
				break
			}
			out = append(out, ev)
			valid = append(valid, ev)
			switch x := r.Float64(); {
			case x < opts.PoisonRate && len(out) < opts.Count:
				out = append(out, Message{Body: poisons[r.IntN(len(poisons))](r, tid), Kind: Poison, TrackingID: tid})
			case x < opts.PoisonRate+opts.DuplicateRate && len(out) < opts.Count:
				prev := valid[r.IntN(len(valid))]
				out = append(out, Message{Body: prev.Body, Kind: Duplicate, TrackingID: prev.TrackingID})
			case x < opts.PoisonRate+opts.DuplicateRate+opts.ConflictRate && len(out) < opts.Count:
				out = append(out, conflicting(ev))
			}
		}
	}
	return out
}

// conflicting reuses m's event id with a different status.
func conflicting(m Message) Message {
	var doc map[string]any
	_ = json.Unmarshal([]byte(m.Body), &doc)
	doc["status"] = "EXCEPTION"
	doc["details"] = map[string]any{"reason": "ADDRESS_UNKNOWN"}
	b, _ := json.Marshal(doc)
	return Message{Body: string(b), Kind: Conflict, TrackingID: m.TrackingID}
}
