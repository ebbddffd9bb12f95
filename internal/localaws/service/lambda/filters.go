package lambda

import (
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/eventpattern"
)

// invalidFilter is Lambda's refusal of filter criteria whose pattern is
// not valid (CreateEventSourceMapping and UpdateEventSourceMapping,
// InvalidParameterValueException).
const invalidFilter = "Invalid filter pattern definition."

// filtersOf reads a mapping's FilterCriteria, {"Filters": [{"Pattern":
// "<event pattern>"}, ...]} ("Lambda event filtering"), and returns its
// patterns, or the message refusing them.
func filtersOf(raw json.RawMessage) ([]eventpattern.Pattern, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, ""
	}
	var criteria struct{ Filters []struct{ Pattern string } }
	if err := json.Unmarshal(raw, &criteria); err != nil {
		return nil, invalidFilter
	}
	patterns := make([]eventpattern.Pattern, 0, len(criteria.Filters))
	for _, f := range criteria.Filters {
		p, err := eventpattern.ParseAs(eventpattern.Lambda, f.Pattern)
		switch {
		case errors.Is(err, eventpattern.ErrNotEmulated):
			return nil, err.Error()
		case err != nil:
			return nil, invalidFilter
		}
		patterns = append(patterns, p)
	}
	return patterns, ""
}

// splitByFilters returns the messages of batch that match one of the
// patterns, and those that match none, which Lambda deletes without
// invoking the function ("If a message doesn't match any of your filter
// criteria, Lambda deletes it from the queue"; "Filtering Amazon SQS
// messages"). A message is matched as its record in the event, its body
// as JSON when it is a JSON object ("If the body is valid JSON, you can
// filter on its properties").
func splitByFilters(patterns []eventpattern.Pattern, batch []sqstypes.Message, arn, region string) (matched, unmatched []sqstypes.Message) {
	if len(patterns) == 0 {
		return batch, nil
	}
	for _, msg := range batch {
		doc, _ := json.Marshal(toRecord(msg, arn, region)) // a record always encodes
		record, _ := eventpattern.Decode(doc)              // numbers kept as written, as Lambda compares them
		if body, err := eventpattern.Decode([]byte(aws.ToString(msg.Body))); err == nil {
			record["body"] = body
		}
		hit := false
		for _, p := range patterns {
			if p.Matches(record) {
				hit = true
				break
			}
		}
		if hit {
			matched = append(matched, msg)
		} else {
			unmatched = append(unmatched, msg)
		}
	}
	return matched, unmatched
}
