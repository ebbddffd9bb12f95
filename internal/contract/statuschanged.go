package contract

import "time"

// The status-change event: what the projector puts on the EventBridge bus
// each time a package's latest status moves (tracking-status-changed.v1.schema.json
// is its detail's schema; README.md says how consumers match and
// deduplicate it).
const (
	// StatusChangedDetailType is the event's detail-type.
	StatusChangedDetailType = "Tracking Status Changed"
	// StatusChangedSchemaVersion is the detail's schema_version.
	StatusChangedSchemaVersion = "1"
)

// StatusChanged is the detail of a status-change event. Delivery is at
// least once: IdempotencyKey names the change (one event of one package),
// so a consumer that has seen it drops the copy.
type StatusChanged struct {
	SchemaVersion  string  `json:"schema_version"`
	TrackingID     string  `json:"tracking_id"`
	EventID        string  `json:"event_id"`
	IdempotencyKey string  `json:"idempotency_key"`
	PreviousStatus *string `json:"previous_status"` // null for a package's first status
	Status         string  `json:"status"`
	EventTime      string  `json:"event_time"` // RFC 3339, UTC
	Carrier        string  `json:"carrier,omitempty"`
}

// NewStatusChanged is the detail of u moving its package from previous
// ("" for none) to u.Status.
func NewStatusChanged(u Update, previous string) StatusChanged {
	d := StatusChanged{
		SchemaVersion:  StatusChangedSchemaVersion,
		TrackingID:     u.TrackingID,
		EventID:        u.EventID,
		IdempotencyKey: u.TrackingID + "/" + u.EventID,
		Status:         u.Status,
		EventTime:      u.EventTime.UTC().Format(time.RFC3339Nano),
		Carrier:        u.Carrier,
	}
	if previous != "" {
		d.PreviousStatus = &previous
	}
	return d
}
