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
	"github.com/aws/smithy-go"
)

// conflictAttempts bounds the retries of a write that lost a race with a
// concurrent transaction on the same item (a day counter is shared by many
// writers); after that the message goes back to SQS as a transient failure.
const conflictAttempts = 6

// Cancellation reason codes of TransactWriteItems (DynamoDB API reference,
// TransactWriteItems: "Cancellation reason codes and possible error messages").
const (
	reasonNone            = "None"
	reasonConditionFailed = "ConditionalCheckFailed"
	reasonConflict        = "TransactionConflict"
	reasonValidation      = "ValidationError"
)

// errConflictsPersist ends the retries of a write that kept losing races.
var errConflictsPersist = errors.New("transaction conflicts persisted")

// transact runs a transaction, retrying with jittered backoff while it is
// cancelled only because another transaction held one of its items.
func (s *Store) transact(ctx context.Context, in *dynamodb.TransactWriteItemsInput) error {
	return retryConflicts(ctx, func() error {
		_, err := s.db.TransactWriteItems(ctx, in)
		return err //nolint:wrapcheck // callers wrap with what they wrote
	})
}

func retryConflicts(ctx context.Context, op func() error) error {
	var b backoff
	for {
		err := op()
		if err == nil || !isTransactionConflict(err) {
			return err
		}
		if err := b.after(ctx, err); err != nil {
			return err
		}
	}
}

// backoff spaces the retries of writes that lost a race: jittered, doubling
// from 10 ms, at most conflictAttempts attempts in all.
type backoff struct {
	attempts int
	next     time.Duration
}

// after waits before the attempt that follows one that failed with err, or
// returns err with the reason there is none.
func (b *backoff) after(ctx context.Context, err error) error {
	b.attempts++
	if b.attempts >= conflictAttempts {
		return fmt.Errorf("%w: %w", errConflictsPersist, err)
	}
	if b.next == 0 {
		b.next = 10 * time.Millisecond
	}
	wait := b.next/2 + time.Duration(rand.Int64N(int64(b.next))) //nolint:gosec // jitter, not security
	b.next *= 2
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w (after a transaction conflict): %w", ctx.Err(), err)
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
			case reasonConflict:
				conflict = true
			case "", reasonNone:
			default:
				return false
			}
		}
		return conflict
	}
	var tc *types.TransactionConflictException
	return errors.As(err, &tc)
}

// firstConditionFailed reports whether a transaction was cancelled because
// the condition of its first item failed, or a plain write's condition failed.
func firstConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) == 0 {
		return false
	}
	return aws.ToString(tce.CancellationReasons[0].Code) == reasonConditionFailed
}

// isValidation reports a request DynamoDB refuses for its content.
func isValidation(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException"
}

// classify marks errors that no retry can fix with ErrRejected.
func classify(err error) error {
	if isValidation(err) {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}
