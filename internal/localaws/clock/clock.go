// Package clock is the local AWS's time: real time by default, or real time
// sped up by a scale so that tests need not wait for CloudWatch's minutes.
// At scale 60 one virtual minute (an alarm period, say) lasts one real second.
// Everything that measures AWS time in the local AWS (metric timestamps,
// alarm periods and state times, message ages) reads this clock, so they
// agree with each other whatever the scale.
package clock

import (
	"context"
	"fmt"
	"time"
)

// Clock maps real time to the local AWS's time: t0 + (real - r0) * scale.
// The zero value is not usable; use Real or Scaled.
type Clock struct {
	scale float64
	r0    time.Time // real time at the origin (with its monotonic reading)
	t0    time.Time // virtual time at the origin
}

// Real is a clock that is real time.
func Real() *Clock { return Scaled(1) }

// Scaled is a clock that starts at the current real time and runs scale
// times as fast; a scale below 1 (or not a number) means 1.
func Scaled(scale float64) *Clock {
	if !(scale >= 1) {
		scale = 1
	}
	now := time.Now()
	return &Clock{scale: scale, r0: now, t0: now.Round(0)}
}

// Scale is how many virtual seconds pass in a real second.
func (c *Clock) Scale() float64 { return c.scale }

// Now is the current virtual time.
func (c *Clock) Now() time.Time { return c.FromReal(time.Now()) }

// FromReal maps a real instant (a client's timestamp, say) to virtual time.
func (c *Clock) FromReal(t time.Time) time.Time {
	if c.scale == 1 {
		return t.Round(0)
	}
	return c.t0.Add(time.Duration(float64(t.Sub(c.r0)) * c.scale))
}

// RealDuration is how long a virtual duration lasts in real time.
func (c *Clock) RealDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.scale)
}

// VirtualDuration is how much virtual time passes in a real duration.
func (c *Clock) VirtualDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.scale)
}

// Sleep waits for a virtual duration, or until ctx ends (then it returns
// ctx's error).
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(c.RealDuration(d))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sleep: %w", ctx.Err())
	}
}

// Every calls f at each virtual boundary of period (12:00:00, 12:01:00, ...
// for a minute), with the boundary's virtual time, until ctx ends.
func (c *Clock) Every(ctx context.Context, period time.Duration, f func(at time.Time)) {
	for {
		next := c.Now().Truncate(period).Add(period)
		if err := c.Sleep(ctx, next.Sub(c.Now())); err != nil {
			return
		}
		f(next)
	}
}
