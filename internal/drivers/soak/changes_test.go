package soak

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

func change(tid, eid, eventTime, prev, status string) contract.StatusChanged {
	c := contract.StatusChanged{SchemaVersion: contract.StatusChangedSchemaVersion, TrackingID: tid, EventID: eid,
		IdempotencyKey: tid + "/" + eid, Status: status, EventTime: eventTime}
	if prev != "" {
		c.PreviousStatus = &prev
	}
	return c
}

func TestCheckChanges(t *testing.T) {
	t.Parallel()
	created := change("T1", "e1", "2026-12-05T10:00:00Z", "", "CREATED")
	transit := change("T1", "e2", "2026-12-05T10:00:00.5Z", "CREATED", "IN_TRANSIT") // sorts after e1 by time, not by string
	delivered := change("T1", "e3", "2026-12-05T11:00:00Z", "IN_TRANSIT", "DELIVERED")
	other := change("T2", "e1", "2026-12-05T09:00:00Z", "", "CREATED")
	unlike := delivered
	unlike.Carrier = "another"
	tests := []struct {
		name    string
		changes []contract.StatusChanged
		want    changeFaults
	}{
		{"a chain in order", []contract.StatusChanged{created, transit, delivered, other}, changeFaults{}},
		{"a chain received out of order", []contract.StatusChanged{delivered, other, transit, created}, changeFaults{}},
		{"copies (at least once)", []contract.StatusChanged{created, transit, created, delivered, transit, delivered}, changeFaults{}},
		{"a change missing in the middle", []contract.StatusChanged{created, delivered, other}, changeFaults{brokenChains: 1}},
		{"the first change missing", []contract.StatusChanged{transit, delivered}, changeFaults{brokenChains: 1}},
		{"a copy unlike its first", []contract.StatusChanged{created, transit, delivered, unlike}, changeFaults{differing: 1}},
		{"none", nil, changeFaults{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, checkChanges(tt.changes))
		})
	}
}
