package audit

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// row is e's audit row, received now: the key, the payload verbatim, its
// hash (to tell a duplicate from a conflict), the SQS message id (to tell a
// redelivery), the send time (the stats day) and the TTL. The tracking id,
// event id, status and event time are in the key and the payload; a 500-byte
// body gives a row under 1 KB, one write unit.
func (s *Store) row(e Entry, now time.Time) map[string]types.AttributeValue {
	u := e.Update
	return map[string]types.AttributeValue{
		AttrPK:          str(trackPK(u.TrackingID)),
		AttrSK:          str(eventSK(u.EventID)),
		AttrPayload:     str(e.Payload),
		AttrPayloadHash: str(u.PayloadHash),
		AttrMessageID:   str(e.MessageID),
		AttrSentAt:      str(e.SentAt.UTC().Format(timeLayout)),
		attrReceivedAt:  str(now.Format(timeLayout)),
		AttrExpiresAt:   s.expiresAt(now),
	}
}

// conflictItem records e, whose event id names a row of other content
// (originalHash), apart from that row; its hash is in its sort key.
func (s *Store) conflictItem(e Entry, originalHash string, now time.Time) map[string]types.AttributeValue {
	u := e.Update
	return map[string]types.AttributeValue{
		AttrPK:           str(trackPK(u.TrackingID)),
		AttrSK:           str(conflictSK(u.EventID, u.PayloadHash)),
		AttrPayload:      str(e.Payload),
		attrOriginalHash: str(originalHash),
		AttrMessageID:    str(e.MessageID),
		AttrSentAt:       str(e.SentAt.UTC().Format(timeLayout)),
		attrReceivedAt:   str(now.Format(timeLayout)),
		AttrExpiresAt:    s.expiresAt(now),
	}
}

// settledItem marks messageID, sent at sentAt, as counted as outcome.
func (s *Store) settledItem(messageID, outcome string, sentAt, now time.Time) map[string]types.AttributeValue {
	item := key(messagePK(messageID), skSettled)
	item[AttrOutcome] = str(outcome)
	item[AttrSentAt] = str(sentAt.UTC().Format(timeLayout))
	item[attrReceivedAt] = str(now.Format(timeLayout))
	item[AttrExpiresAt] = s.expiresAt(now)
	return item
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
