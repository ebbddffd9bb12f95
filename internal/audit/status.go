package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

// ErrBadLimit is a status query asking for no packages or too many.
var ErrBadLimit = errors.New("limit must be between 1 and 1000")

// MaxStatusLimit bounds one status query's answer.
const MaxStatusLimit = 1000

// InStatus returns up to limit packages whose latest status is status,
// oldest latest event first; with before set, only those whose latest event
// is older than before (packages stuck in the status). It runs one Query per
// shard of the status index, each stopping at limit, and merges them: never
// a Scan, and the cost is the items returned, not the table's size.
func (s *Store) InStatus(ctx context.Context, status string, before time.Time, limit int) ([]Latest, error) {
	if limit < 1 || limit > MaxStatusLimit {
		return nil, fmt.Errorf("%w: %d", ErrBadLimit, limit)
	}
	var all []latestOrdered
	for shard := range StatusIndexShards {
		in := &dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(IndexByStatus),
			KeyConditionExpression:    aws.String("#ss = :ss"),
			ExpressionAttributeNames:  map[string]string{"#ss": AttrStatusShard},
			ExpressionAttributeValues: map[string]types.AttributeValue{":ss": str(status + "#" + fmt.Sprintf("%02d", shard))},
			ScanIndexForward:          aws.Bool(true),
		}
		if !before.IsZero() {
			// latest_order starts with the event time key: "< cutoff" keeps
			// the events before it.
			in.KeyConditionExpression = aws.String("#ss = :ss AND #order < :cut")
			in.ExpressionAttributeNames["#order"] = AttrLatestOrder
			in.ExpressionAttributeValues[":cut"] = str(before.UTC().Format(contract.EventTimeLayout))
		}
		got, err := s.queryLimit(ctx, in, limit)
		if err != nil {
			return nil, fmt.Errorf("packages in status %s: %w", status, err)
		}
		for _, item := range got {
			// The index holds keys only: the package is in the table's
			// key, its status in the query's, the event in latest_order.
			order := stringAttr(item, AttrLatestOrder)
			trackingID, _ := TrackingIDOf(stringAttr(item, AttrPK))
			all = append(all, latestOrdered{order: order, Latest: latestOf(trackingID, status, order)})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].order < all[j].order })
	out := make([]Latest, 0, min(limit, len(all)))
	for _, l := range all[:min(limit, len(all))] {
		out = append(out, l.Latest)
	}
	return out, nil
}

type latestOrdered struct {
	order string
	Latest
}

// queryLimit pages through a query until it has limit items or none are left.
func (s *Store) queryLimit(ctx context.Context, in *dynamodb.QueryInput, limit int) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	in.Limit = aws.Int32(int32(min(limit, MaxStatusLimit))) //nolint:gosec // at most MaxStatusLimit
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() && len(items) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", IndexByStatus, err)
		}
		items = append(items, page.Items...)
	}
	return items[:min(limit, len(items))], nil
}
