package audit

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Row is one audit row.
type Row struct {
	TrackingID  string `json:"tracking_id"`
	EventID     string `json:"event_id"`
	Status      string `json:"status"`
	EventTime   string `json:"event_time"`
	MessageID   string `json:"message_id"`
	SentAt      string `json:"sent_at"`
	ReceivedAt  string `json:"received_at"`
	PayloadHash string `json:"payload_hash"`
	Payload     string `json:"payload"`
}

// Latest is the newest status of a package.
type Latest struct {
	TrackingID string `json:"tracking_id"`
	Status     string `json:"status"`
	EventTime  string `json:"event_time"`
	EventID    string `json:"event_id"`
}

// ConflictRecord is a delivery that reused an event id with other content.
type ConflictRecord struct {
	EventID             string `json:"event_id"`
	PayloadHash         string `json:"payload_hash"`
	OriginalPayloadHash string `json:"original_payload_hash"`
	MessageID           string `json:"message_id"`
	ReceivedAt          string `json:"received_at"`
	Payload             string `json:"payload"`
}

// DayStats are one UTC day's counters, summed over its write shards.
type DayStats struct {
	Day        string           `json:"day"`
	Total      int64            `json:"total"`
	Duplicates int64            `json:"duplicates"`
	Conflicts  int64            `json:"conflicts"`
	Invalid    int64            `json:"invalid"`
	ByStatus   map[string]int64 `json:"by_status"`
}

// Trail returns a package's audit rows in event-time order.
func (s *Store) Trail(ctx context.Context, trackingID string) ([]Row, error) {
	items, err := s.queryAll(ctx, trailQuery(s.table, trackingID))
	if err != nil {
		return nil, fmt.Errorf("query trail of %s: %w", trackingID, err)
	}
	rows := make([]Row, 0, len(items))
	for _, it := range items {
		rows = append(rows, Row{
			TrackingID:  stringAttr(it, attrTrackingID),
			EventID:     stringAttr(it, attrEventID),
			Status:      stringAttr(it, attrStatus),
			EventTime:   stringAttr(it, attrEventTime),
			MessageID:   stringAttr(it, attrMessageID),
			SentAt:      stringAttr(it, attrSentAt),
			ReceivedAt:  stringAttr(it, attrReceivedAt),
			PayloadHash: stringAttr(it, attrPayloadHash),
			Payload:     stringAttr(it, attrPayload),
		})
	}
	sortTrail(rows)
	return rows, nil
}

// trailQuery reads a package's audit rows through the by_event_time index.
func trailQuery(table, trackingID string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 &table,
		IndexName:                 aws.String(IndexByTime),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#ts": AttrEventTS},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(trackPK(trackingID))},
		// Emulator workaround, a no-op on AWS: an LSI is sparse (only items
		// with its sort key are in it), but kumo's LSI query returns every
		// item of the partition. See internal/localaws/README.md's gap table.
		FilterExpression: aws.String("attribute_exists(#ts)"),
		ConsistentRead:   aws.Bool(true),
	}
}

// sortTrail orders rows by event order. Emulator workaround, a no-op on AWS
// (an index query returns items in sort-key order): kumo's LSI query does not.
func sortTrail(rows []Row) {
	sort.SliceStable(rows, func(i, j int) bool {
		return eventOrder(rows[i].EventTime, rows[i].EventID) < eventOrder(rows[j].EventTime, rows[j].EventID)
	})
}

// LatestStatus returns a package's latest status; ok is false when none is recorded.
func (s *Store) LatestStatus(ctx context.Context, trackingID string) (Latest, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(trackPK(trackingID), skLatest),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Latest{}, false, fmt.Errorf("get latest status of %s: %w", trackingID, err)
	}
	if len(out.Item) == 0 {
		return Latest{}, false, nil
	}
	return Latest{
		TrackingID: trackingID,
		Status:     stringAttr(out.Item, attrStatus),
		EventTime:  stringAttr(out.Item, attrEventTime),
		EventID:    stringAttr(out.Item, attrEventID),
	}, true, nil
}

// Conflicts returns the conflicting deliveries recorded for a package.
func (s *Store) Conflicts(ctx context.Context, trackingID string) ([]ConflictRecord, error) {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                &s.table,
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     str(trackPK(trackingID)),
			":prefix": str(prefixConflict),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("query conflicts of %s: %w", trackingID, err)
	}
	out := make([]ConflictRecord, 0, len(items))
	for _, it := range items {
		out = append(out, ConflictRecord{
			EventID:             stringAttr(it, attrEventID),
			PayloadHash:         stringAttr(it, attrPayloadHash),
			OriginalPayloadHash: stringAttr(it, attrOriginalHash),
			MessageID:           stringAttr(it, attrMessageID),
			ReceivedAt:          stringAttr(it, attrReceivedAt),
			Payload:             stringAttr(it, attrPayload),
		})
	}
	return out, nil
}

// DailyStats sums a UTC day's counters with one Query per write shard.
func (s *Store) DailyStats(ctx context.Context, day time.Time) (DayStats, error) {
	st := DayStats{Day: day.UTC().Format(DayLayout), ByStatus: map[string]int64{}}
	for shard := range StatsShards {
		items, err := s.queryAll(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(DayPK(day, shard))},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return DayStats{}, fmt.Errorf("query stats shard %d of %s: %w", shard, st.Day, err)
		}
		for _, it := range items {
			for name, v := range it {
				n, ok := v.(*types.AttributeValueMemberN)
				if !ok || name == AttrExpiresAt {
					continue
				}
				count, err := strconv.ParseInt(n.Value, 10, 64)
				if err != nil {
					return DayStats{}, fmt.Errorf("stats counter %s of %s: %w", name, st.Day, err)
				}
				switch {
				case name == counterTotal:
					st.Total += count
				case name == counterDuplicates:
					st.Duplicates += count
				case name == counterConflicts:
					st.Conflicts += count
				case name == counterInvalid:
					st.Invalid += count
				case strings.HasPrefix(name, attrStatusPrefix):
					st.ByStatus[strings.TrimPrefix(name, attrStatusPrefix)] += count
				}
			}
		}
	}
	return st, nil
}

// Statuses returns the status names of st in order, for stable output.
func (st DayStats) Statuses() []string {
	names := make([]string, 0, len(st.ByStatus))
	for name := range st.ByStatus {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", aws.ToString(in.TableName), err)
		}
		items = append(items, page.Items...)
	}
	return items, nil
}
