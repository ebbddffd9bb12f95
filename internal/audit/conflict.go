package audit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// conflictAttempts bounds the retries of a write that lost a race with a
// concurrent transaction on the same item (a day counter is shared by many
// writers); after that the message goes back to SQS as a transient failure.
const conflictAttempts = 6

// transact runs a transaction, retrying with jittered backoff while it is
// cancelled only because another transaction held one of its items.
func (s *Store) transact(ctx context.Context, in *dynamodb.TransactWriteItemsInput) error {
	return s.retryConflicts(ctx, func() error {
		_, err := s.db.TransactWriteItems(ctx, in)
		return err //nolint:wrapcheck // callers wrap with what they wrote
	})
}

// update runs an UpdateItem, retrying the same way when a transaction holds the item.
func (s *Store) update(ctx context.Context, in *dynamodb.UpdateItemInput) error {
	return s.retryConflicts(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, in)
		return err //nolint:wrapcheck // callers wrap with what they wrote
	})
}

func (s *Store) retryConflicts(ctx context.Context, op func() error) error {
	var b backoff
	for {
		err := op()
		if err == nil || !isTransactionConflict(err) {
			return err
		}
		if werr := b.wait(ctx); werr != nil {
			return fmt.Errorf("%w: %w", werr, err)
		}
	}
}

// errConflictsPersist ends the retries of a write that kept losing races.
var errConflictsPersist = errors.New("transaction conflicts persisted")

// backoff spaces the retries of writes that lost a race: jittered, doubling
// from 10 ms, at most conflictAttempts attempts in all.
type backoff struct {
	attempts int
	next     time.Duration
}

// wait sleeps before the next attempt, or says why there is none.
func (b *backoff) wait(ctx context.Context) error {
	b.attempts++
	if b.attempts >= conflictAttempts {
		return errConflictsPersist
	}
	if b.next == 0 {
		b.next = 10 * time.Millisecond
	}
	wait := b.next/2 + time.Duration(rand.Int64N(int64(b.next))) //nolint:gosec // jitter, not security
	b.next *= 2
	select {
	case <-time.After(wait):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w (after a transaction conflict)", ctx.Err())
	}
}

// isTransactionConflict reports a write refused only because a concurrent
// transaction held one of its items: nothing failed that a retry cannot fix.
func isTransactionConflict(err error) bool {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		conflict := false
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "TransactionConflict":
				conflict = true
			case "", "None":
			default:
				return false
			}
		}
		return conflict
	}
	var tc *types.TransactionConflictException
	return errors.As(err, &tc)
}
