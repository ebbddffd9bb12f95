package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// PutReport stores a maintenance report (stats, DLQ digest) for a day as
// JSON, replacing the day's previous one of the same kind.
func (s *Store) PutReport(ctx context.Context, kind, day string, report any) error {
	body, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("encode %s report of %s: %w", kind, day, err)
	}
	now := s.now().UTC()
	item := s.reportItem(kind, day, string(body), now)
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("store %s report of %s: %w", kind, day, err)
	}
	return nil
}

// Report reads a stored report into out; ok is false when there is none.
func (s *Store) Report(ctx context.Context, kind, day string, out any) (bool, error) {
	got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(reportPK(kind, day), skReport), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("read %s report of %s: %w", kind, day, err)
	}
	if len(got.Item) == 0 {
		return false, nil
	}
	if err := json.Unmarshal([]byte(stringAttr(got.Item, attrReport)), out); err != nil {
		return false, fmt.Errorf("decode %s report of %s: %w", kind, day, err)
	}
	return true, nil
}
