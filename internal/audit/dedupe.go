package audit

import (
	"context"
	"fmt"
	"time"
)

// countDuplicate settles e, a resend of a written update by another
// message, once per message: a duplicate the first time, a redelivery after.
func (s *Store) countDuplicate(ctx context.Context, e Entry, now time.Time) (Result, error) {
	first, err := s.settleOnce(ctx, e.MessageID, SettledDuplicate, e.SentAt, now)
	switch {
	case err != nil:
		return 0, err
	case !first:
		return Redelivered, nil
	}
	return Duplicate, nil
}

// recordConflict keeps one record per distinct conflicting content; another
// message with a recorded conflict's content is its duplicate, the same
// message again a redelivery.
func (s *Store) recordConflict(ctx context.Context, e Entry, originalHash string, now time.Time) (Result, error) {
	u := e.Update
	old, err := s.putNew(ctx, s.conflictItem(e, originalHash, now))
	switch {
	case err != nil:
		return 0, classify(fmt.Errorf("record conflict %s/%s: %w", u.TrackingID, u.EventID, err))
	case old == nil:
		return Conflict, nil
	case stringAttr(old, AttrMessageID) == e.MessageID:
		return Redelivered, nil
	}
	return s.countDuplicate(ctx, e, now)
}
