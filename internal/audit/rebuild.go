package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

// Repairs of the projection, from the rows (trackctl rebuild): for a
// projection that lost a record to the stream's retention or to a batch
// the projector gave up on. Both are idempotent.

// rebuiltShard names the counter item a rebuilt day keeps alone.
const rebuiltShard = "rebuilt"

// ErrNoRows is a package without rows.
var ErrNoRows = errors.New("no rows")

// RebuildLatest moves a package's latest status to its newest row, as the
// projector would have; a latest status that holds that row or a newer
// one stays. It returns the latest status after the repair.
func (s *Store) RebuildLatest(ctx context.Context, trackingID string) (Latest, error) {
	rows, err := s.Trail(ctx, trackingID)
	if err != nil {
		return Latest{}, err
	}
	if len(rows) == 0 {
		return Latest{}, fmt.Errorf("rebuild %s: %w", trackingID, ErrNoRows)
	}
	newest := rows[len(rows)-1] // Trail is in event order
	u, err := contract.Parse([]byte(newest.Payload))
	if err != nil {
		return Latest{}, fmt.Errorf("rebuild %s: its newest row's payload: %w", trackingID, err)
	}
	if _, _, err := s.AdvanceLatest(ctx, u); err != nil {
		return Latest{}, err
	}
	l, _, err := s.LatestStatus(ctx, trackingID)
	return l, err
}

// RebuildDay recounts a day from the items sent that day (rows, conflicts,
// settled messages: one Scan of the table) and replaces the day's counter
// items with one holding the count. Run it for a day whose stream records
// are all past (the day ended more than the stream's 24 hours ago): a
// record the projector still reads afterwards would be counted twice.
func (s *Store) RebuildDay(ctx context.Context, day time.Time) (DayStats, error) {
	name := day.UTC().Format(DayLayout)
	counts := map[string]int64{}
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{
		TableName:                &s.table,
		FilterExpression:         aws.String("begins_with(#sent, :day) AND (begins_with(#sk, :row) OR begins_with(#sk, :conflict) OR #sk = :settled)"),
		ExpressionAttributeNames: map[string]string{"#sent": AttrSentAt, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":day": str(name), ":row": str(prefixEvent), ":conflict": str(prefixConflict), ":settled": str(skSettled),
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return DayStats{}, fmt.Errorf("rebuild %s: scan: %w", name, err)
		}
		for _, it := range page.Items {
			counters, _, err := CountOf(stringAttr(it, AttrSK), stringAttr(it, AttrPayload), stringAttr(it, AttrOutcome))
			if err != nil {
				return DayStats{}, fmt.Errorf("rebuild %s: %w", name, err)
			}
			for _, c := range counters {
				counts[c]++
			}
		}
	}
	old, err := s.partition(ctx, dayPK(name), prefixCounts)
	if err != nil {
		return DayStats{}, fmt.Errorf("rebuild %s: %w", name, err)
	}
	item := key(dayPK(name), countsSK(rebuiltShard))
	for c, n := range counts {
		item[c] = &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
	}
	item[AttrExpiresAt] = s.expiresAt(day.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour))
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return DayStats{}, fmt.Errorf("rebuild %s: write the count: %w", name, err)
	}
	for _, it := range old {
		if stringAttr(it, AttrSK) == countsSK(rebuiltShard) {
			continue
		}
		if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(dayPK(name), stringAttr(it, AttrSK))}); err != nil {
			return DayStats{}, fmt.Errorf("rebuild %s: drop the shards' counts: %w", name, err)
		}
	}
	return s.DailyStats(ctx, day)
}
