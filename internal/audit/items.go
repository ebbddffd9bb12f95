package audit

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// row is e's audit row, received now.
func (s *Store) row(e Entry, now time.Time) map[string]types.AttributeValue {
	u := e.Update
	row := map[string]types.AttributeValue{
		AttrPK:             str(trackPK(u.TrackingID)),
		AttrSK:             str(eventSK(u.EventID)),
		AttrEventTS:        str(eventOrder(u.EventTimeKey(), u.EventID)),
		attrTrackingID:     str(u.TrackingID),
		attrEventID:        str(u.EventID),
		attrEventIDDerived: &types.AttributeValueMemberBOOL{Value: u.EventIDDerived},
		attrStatus:         str(u.Status),
		attrEventTime:      str(u.EventTimeKey()),
		attrPayload:        str(e.Payload),
		attrPayloadHash:    str(u.PayloadHash),
		attrMessageID:      str(e.MessageID),
		attrReceivedAt:     str(now.Format(timeLayout)),
		attrSentAt:         str(e.SentAt.UTC().Format(timeLayout)),
		AttrExpiresAt:      s.expiresAt(now),
	}
	if u.Carrier != "" {
		row[attrCarrier] = str(u.Carrier)
	}
	if len(u.Extra) > 0 {
		names := make([]string, 0, len(u.Extra))
		for name := range u.Extra {
			names = append(names, name)
		}
		sort.Strings(names)
		row[attrExtraFields] = &types.AttributeValueMemberSS{Value: names}
	}
	return row
}

// conflictItem records e, whose event id names a row of other content
// (originalHash), apart from that row.
func (s *Store) conflictItem(e Entry, originalHash string, now time.Time) map[string]types.AttributeValue {
	u := e.Update
	return map[string]types.AttributeValue{
		AttrPK:           str(trackPK(u.TrackingID)),
		AttrSK:           str(conflictSK(u.EventID, u.PayloadHash)),
		attrTrackingID:   str(u.TrackingID),
		attrEventID:      str(u.EventID),
		attrStatus:       str(u.Status),
		attrEventTime:    str(u.EventTimeKey()),
		attrPayload:      str(e.Payload),
		attrPayloadHash:  str(u.PayloadHash),
		attrOriginalHash: str(originalHash),
		attrMessageID:    str(e.MessageID),
		attrReceivedAt:   str(now.Format(timeLayout)),
		AttrExpiresAt:    s.expiresAt(now),
	}
}

// latestUpdate moves the latest status to e unless a later event holds it.
func (s *Store) latestUpdate(e Entry, now time.Time) *types.Update {
	u := e.Update
	return &types.Update{
		TableName: &s.table,
		Key:       key(trackPK(u.TrackingID), skLatest),
		UpdateExpression: aws.String("SET #status = :status, #time = :time, #id = :id, #order = :order, " +
			"#msg = :msg, #now = :now, #tid = :tid, #exp = :exp, #ss = :ss"),
		ConditionExpression: aws.String("attribute_not_exists(#pk) OR #order < :order"),
		ExpressionAttributeNames: map[string]string{
			"#pk":     AttrPK,
			"#status": attrStatus,
			"#time":   attrEventTime,
			"#id":     attrEventID,
			"#order":  AttrLatestOrder,
			"#msg":    attrMessageID,
			"#now":    attrUpdatedAt,
			"#tid":    attrTrackingID,
			"#exp":    AttrExpiresAt,
			"#ss":     AttrStatusShard,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status": str(u.Status),
			":time":   str(u.EventTimeKey()),
			":id":     str(u.EventID),
			":order":  str(eventOrder(u.EventTimeKey(), u.EventID)),
			":msg":    str(e.MessageID),
			":now":    str(now.Format(timeLayout)),
			":tid":    str(u.TrackingID),
			":exp":    s.expiresAt(now),
			":ss":     str(statusShard(u.Status, u.TrackingID)),
		},
	}
}

// countUpdate adds counts to the counters of one write shard of a day.
func (s *Store) countUpdate(day time.Time, shard int, counts map[string]int64) *types.Update {
	counters := make([]string, 0, len(counts))
	for c := range counts {
		counters = append(counters, c)
	}
	sort.Strings(counters) // one expression per set of counters, whatever the map order
	names := make(map[string]string, len(counters))
	values := map[string]types.AttributeValue{
		":exp": s.expiresAt(day.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)),
	}
	var expr strings.Builder
	expr.WriteString("SET " + AttrExpiresAt + " = if_not_exists(" + AttrExpiresAt + ", :exp) ADD ")
	for i, c := range counters {
		ref := strconv.Itoa(i)
		names["#c"+ref] = c
		values[":n"+ref] = &types.AttributeValueMemberN{Value: strconv.FormatInt(counts[c], 10)}
		if i > 0 {
			expr.WriteString(", ")
		}
		expr.WriteString("#c" + ref + " :n" + ref)
	}
	return &types.Update{
		TableName:                 &s.table,
		Key:                       key(DayPK(day, shard), skCounts),
		UpdateExpression:          aws.String(expr.String()),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}

// reportItem is a day's report of one kind, generated now.
func (s *Store) reportItem(kind, day, body string, now time.Time) map[string]types.AttributeValue {
	item := key(reportPK(kind, day), skReport)
	item[attrReport] = str(body)
	item[attrGeneratedAt] = str(now.Format(timeLayout))
	item[AttrExpiresAt] = s.expiresAt(now)
	return item
}

// expiresAt is the TTL attribute of an item written at from.
func (s *Store) expiresAt(from time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(from.Add(s.retention).Unix(), 10)}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(pk), AttrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
