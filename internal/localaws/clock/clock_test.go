package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/clock"
)

func TestScaledClockMapsRealToVirtual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scale    float64
		wantReal time.Duration // how long a virtual minute lasts
	}{
		{1, time.Minute},
		{0, time.Minute}, // below 1 means real time
		{60, time.Second},
		{600, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		c := clock.Scaled(tt.scale)
		assert.Equal(t, tt.wantReal, c.RealDuration(time.Minute), "scale %v", tt.scale)
		assert.Equal(t, time.Minute, c.VirtualDuration(tt.wantReal), "scale %v", tt.scale)
	}
	c := clock.Scaled(60)
	real := time.Now().Add(2 * time.Second)
	assert.WithinDuration(t, time.Now().Add(2*time.Minute), c.FromReal(real), 2*time.Second,
		"two real seconds from now are about two virtual minutes from now")
}

func TestEveryFiresOnVirtualBoundaries(t *testing.T) {
	t.Parallel()
	c := clock.Scaled(600) // a virtual minute lasts 100 ms
	ctx, cancel := context.WithCancel(context.Background())
	var got []time.Time
	c.Every(ctx, time.Minute, func(at time.Time) {
		got = append(got, at)
		if len(got) == 3 {
			cancel()
		}
	})
	require.Len(t, got, 3)
	for i, at := range got {
		assert.Equal(t, at, at.Truncate(time.Minute), "tick %d is on a minute boundary", i)
		if i > 0 {
			assert.Equal(t, time.Minute, at.Sub(got[i-1]))
		}
	}
}
