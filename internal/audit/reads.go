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

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
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
	UpdatedAt  string `json:"updated_at,omitempty"` // when the projector moved it (LatestStatus only)
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

// DayStats are one UTC day's counters, summed over its stream shards.
type DayStats struct {
	Day        string           `json:"day"`
	Total      int64            `json:"total"`
	Duplicates int64            `json:"duplicates"`
	Conflicts  int64            `json:"conflicts"`
	Invalid    int64            `json:"invalid"`
	ByStatus   map[string]int64 `json:"by_status"`
}

// Trail returns a package's audit rows in event-time order: one Query of
// its partition's rows, sorted here (the trail of one package is short; an
// index that sorted it would cost a write unit on every row).
func (s *Store) Trail(ctx context.Context, trackingID string) ([]Row, error) {
	items, err := s.partition(ctx, trackPK(trackingID), prefixEvent)
	if err != nil {
		return nil, fmt.Errorf("query trail of %s: %w", trackingID, err)
	}
	rows := make([]Row, 0, len(items))
	for _, it := range items {
		r := Row{
			TrackingID:  trackingID,
			EventID:     strings.TrimPrefix(stringAttr(it, AttrSK), prefixEvent),
			MessageID:   stringAttr(it, AttrMessageID),
			SentAt:      stringAttr(it, AttrSentAt),
			ReceivedAt:  stringAttr(it, attrReceivedAt),
			PayloadHash: stringAttr(it, AttrPayloadHash),
			Payload:     stringAttr(it, AttrPayload),
		}
		// The row keeps the payload that passed the contract: its status
		// and event time are read back from it.
		if u, err := contract.Parse([]byte(r.Payload)); err == nil {
			r.Status, r.EventTime = u.Status, u.EventTimeKey()
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return eventOrder(rows[i].EventTime, rows[i].EventID) < eventOrder(rows[j].EventTime, rows[j].EventID)
	})
	return rows, nil
}

// LatestStatus returns a package's latest status; ok is false when none is
// recorded. The latest status is a projection of the rows: it follows a
// written row within the projection's lag.
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
	l := latestOf(trackingID, stringAttr(out.Item, attrStatus), stringAttr(out.Item, AttrLatestOrder))
	l.UpdatedAt = stringAttr(out.Item, attrUpdatedAt)
	return l, true, nil
}

// latestOf is a latest status from its order.
func latestOf(trackingID, status, order string) Latest {
	eventTime, eventID := splitOrder(order)
	return Latest{TrackingID: trackingID, Status: status, EventTime: eventTime, EventID: eventID}
}

// Conflicts returns the conflicting deliveries recorded for a package.
func (s *Store) Conflicts(ctx context.Context, trackingID string) ([]ConflictRecord, error) {
	items, err := s.partition(ctx, trackPK(trackingID), prefixConflict)
	if err != nil {
		return nil, fmt.Errorf("query conflicts of %s: %w", trackingID, err)
	}
	out := make([]ConflictRecord, 0, len(items))
	for _, it := range items {
		// CONFLICT#<event_id>#<hash>: the hash is hex, the event id may hold '#'.
		rest := strings.TrimPrefix(stringAttr(it, AttrSK), prefixConflict)
		cut := strings.LastIndex(rest, "#")
		out = append(out, ConflictRecord{
			EventID:             rest[:max(cut, 0)],
			PayloadHash:         rest[cut+1:],
			OriginalPayloadHash: stringAttr(it, attrOriginalHash),
			MessageID:           stringAttr(it, AttrMessageID),
			ReceivedAt:          stringAttr(it, attrReceivedAt),
			Payload:             stringAttr(it, AttrPayload),
		})
	}
	return out, nil
}

// DailyStats sums a UTC day's counters: one Query of the day's partition,
// whose items are the counts each stream shard added. They follow the
// rows within the projection's lag (a tumbling window and its write).
func (s *Store) DailyStats(ctx context.Context, day time.Time) (DayStats, error) {
	st := DayStats{Day: day.UTC().Format(DayLayout), ByStatus: map[string]int64{}}
	items, err := s.partition(ctx, dayPK(st.Day), prefixCounts)
	if err != nil {
		return DayStats{}, fmt.Errorf("query stats of %s: %w", st.Day, err)
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
			case name == CounterTotal:
				st.Total += count
			case name == CounterDuplicates:
				st.Duplicates += count
			case name == CounterConflicts:
				st.Conflicts += count
			case name == CounterInvalid:
				st.Invalid += count
			case strings.HasPrefix(name, attrStatusPrefix):
				st.ByStatus[strings.TrimPrefix(name, attrStatusPrefix)] += count
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

// partition reads the items of partition pk whose sort key begins with
// prefix (consistently, every page).
func (s *Store) partition(ctx context.Context, pk, prefix string) ([]map[string]types.AttributeValue, error) {
	return s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                &s.table,
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":prefix": str(prefix),
		},
		ConsistentRead: aws.Bool(true),
	})
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
