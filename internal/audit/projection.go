package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

// The projector's writes: a package's latest status (and with it its entry
// in the status index), and the counters a stream shard adds to a day.
// Both are idempotent, so that a stream record delivered again (Lambda
// reads a stream at least once) changes nothing twice.

// StatusChange is a move of a package's latest status. Old is "" for a
// package's first status.
type StatusChange struct {
	Old, New string
}

// Changed reports whether the status moved.
func (c StatusChange) Changed() bool { return c.Old != c.New }

// AdvanceLatest moves the latest status of u's package to u unless an event
// of a later order holds it. It returns the move and true when u is (or,
// for a record delivered again, was already) the latest; false for an
// older event arriving late. The item keeps the status it replaced, so that
// a record delivered again after its move reports the same move
// (status-change events are at least once).
func (s *Store) AdvanceLatest(ctx context.Context, u contract.Update) (StatusChange, bool, error) {
	order := eventOrder(u.EventTimeKey(), u.EventID)
	now := s.now().UTC()
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table,
		Key:       key(trackPK(u.TrackingID), skLatest),
		// A SET's operands read the item as it was before the update.
		UpdateExpression: aws.String("SET #prev = if_not_exists(#status, :none), #status = :status, #order = :order, " +
			"#ss = :ss, #now = :now, #exp = :exp"),
		ConditionExpression: aws.String("attribute_not_exists(#pk) OR #order < :order"),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrPK, "#prev": attrPrevStatus, "#status": attrStatus, "#order": AttrLatestOrder,
			"#ss": AttrStatusShard, "#now": attrUpdatedAt, "#exp": AttrExpiresAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":none":   str(""),
			":status": str(u.Status),
			":order":  str(order),
			":ss":     str(statusShard(u.Status, u.TrackingID)),
			":now":    str(now.Format(timeLayout)),
			":exp":    s.expiresAt(now),
		},
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return StatusChange{Old: stringAttr(out.Attributes, attrStatus), New: u.Status}, true, nil
	case errors.As(err, &ccf) && stringAttr(ccf.Item, AttrLatestOrder) == order:
		// This very event moved it before: the same move again.
		return StatusChange{Old: stringAttr(ccf.Item, attrPrevStatus), New: u.Status}, true, nil
	case errors.As(err, &ccf):
		return StatusChange{}, false, nil
	}
	return StatusChange{}, false, fmt.Errorf("advance latest status of %s: %w", u.TrackingID, err)
}

// ErrNotCounted is an item that counts in no day counter (one the
// processor does not write).
var ErrNotCounted = errors.New("not an item the day counters count")

// CountOf reads an item the processor writes from its sort key, payload and
// outcome: the day counters it adds one to (a row its status and the total,
// a conflict, a settled duplicate or invalid message), and for an audit row
// its update, read back from the payload. Another item is ErrNotCounted.
func CountOf(sk, payload, outcome string) ([]string, *contract.Update, error) {
	switch {
	case strings.HasPrefix(sk, prefixEvent):
		u, err := contract.Parse([]byte(payload))
		if err != nil {
			return nil, nil, fmt.Errorf("row %s: payload: %w", sk, err)
		}
		return []string{CounterTotal, StatusCounter(u.Status)}, &u, nil
	case strings.HasPrefix(sk, prefixConflict):
		return []string{CounterConflicts}, nil, nil
	case sk == skSettled && outcome == SettledDuplicate:
		return []string{CounterDuplicates}, nil, nil
	case sk == skSettled && outcome == SettledInvalid:
		return []string{CounterInvalid}, nil, nil
	}
	return nil, nil, fmt.Errorf("%w (sk %q, outcome %q)", ErrNotCounted, sk, outcome)
}

// Counted is one stream record's contribution to a day's counters.
type Counted struct {
	Seq      string   // the record's sequence number
	Day      string   // the UTC day it counts in (DayLayout)
	Counters []string // the counters it adds one to
}

// maxCountAttempts bounds the rounds of AddCounts on one day's item.
const maxCountAttempts = 5

// AddCounts adds the counts of records, read in order from one stream
// shard, to the counters that shard keeps for their days, each record
// once: each day's item holds the sequence number of the last record
// counted in it (its high-water mark), and a record at or below the mark
// is not counted again. Sequence numbers are ordered within a shard only
// ("Change data capture for DynamoDB Streams"): the mark is the shard's.
func (s *Store) AddCounts(ctx context.Context, streamShard string, records []Counted) error {
	byDay := map[string][]Counted{}
	var days []string
	for _, r := range records {
		if byDay[r.Day] == nil {
			days = append(days, r.Day)
		}
		byDay[r.Day] = append(byDay[r.Day], r)
	}
	for _, day := range days {
		if err := s.addDayCounts(ctx, day, streamShard, byDay[day]); err != nil {
			return err
		}
	}
	return nil
}

// addDayCounts adds records to one day's item of streamShard. The first
// round assumes none was counted (the mark is below the first record); when
// the condition fails, the mark DynamoDB returns says which were, and the
// rest is added on that mark's condition.
func (s *Store) addDayCounts(ctx context.Context, day, streamShard string, records []Counted) error {
	dayStart, err := time.Parse(DayLayout, day)
	if err != nil {
		return fmt.Errorf("day %q: %w", day, err)
	}
	mark, cond := "", "attribute_not_exists(#pk) OR #hwm < :first"
	for range maxCountAttempts {
		var todo []Counted
		for _, r := range records {
			if SequenceKey(r.Seq) > mark {
				todo = append(todo, r)
			}
		}
		if len(todo) == 0 {
			return nil // counted before: a batch read again
		}
		in := s.countUpdate(day, streamShard, todo, dayStart)
		in.ConditionExpression = aws.String(cond)
		if mark == "" {
			in.ExpressionAttributeValues[":first"] = str(SequenceKey(todo[0].Seq))
		} else {
			in.ExpressionAttributeValues[":mark"] = str(mark)
		}
		_, err := s.db.UpdateItem(ctx, in)
		var ccf *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &ccf):
			return fmt.Errorf("add counts of stream shard %s to %s: %w", streamShard, day, err)
		}
		mark, cond = stringAttr(ccf.Item, attrHighWater), "#hwm = :mark"
	}
	return fmt.Errorf("add counts of stream shard %s to %s: its high-water mark kept moving", streamShard, day)
}

// countUpdate adds one per counter of records to their day's item and
// moves its mark to the last record.
func (s *Store) countUpdate(day, streamShard string, records []Counted, dayStart time.Time) *dynamodb.UpdateItemInput {
	counts := map[string]int64{}
	for _, r := range records {
		for _, c := range r.Counters {
			counts[c]++
		}
	}
	counters := make([]string, 0, len(counts))
	for c := range counts {
		counters = append(counters, c)
	}
	sort.Strings(counters) // one expression per set of counters, whatever the map order
	names := map[string]string{"#pk": AttrPK, "#hwm": attrHighWater, "#exp": AttrExpiresAt}
	values := map[string]types.AttributeValue{
		":hwm": str(SequenceKey(records[len(records)-1].Seq)),
		":exp": s.expiresAt(dayStart.Add(24 * time.Hour)),
	}
	var expr strings.Builder
	expr.WriteString("SET #hwm = :hwm, #exp = if_not_exists(#exp, :exp)")
	for i, c := range counters {
		ref := strconv.Itoa(i)
		names["#c"+ref] = c
		values[":n"+ref] = &types.AttributeValueMemberN{Value: strconv.FormatInt(counts[c], 10)}
		if i == 0 {
			expr.WriteString(" ADD ")
		} else {
			expr.WriteString(", ")
		}
		expr.WriteString("#c" + ref + " :n" + ref)
	}
	return &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 key(dayPK(day), countsSK(streamShard)),
		UpdateExpression:                    aws.String(expr.String()),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// sequenceWidth is the longest stream sequence number ("Length
// Constraints: Minimum length of 21. Maximum length of 40", DynamoDB
// Streams API Reference, StreamRecord).
const sequenceWidth = 40

// SequenceKey writes a stream sequence number so that keys compare as the
// numbers do: zero-padded to the longest length.
func SequenceKey(seq string) string {
	if len(seq) >= sequenceWidth {
		return seq
	}
	return strings.Repeat("0", sequenceWidth-len(seq)) + seq
}
