package access

import (
	"encoding/json"
	"fmt"
	"net/url"
)

// call is one IAM action on one resource that a request needs.
type call struct {
	action, resource string
}

// Resources are named as the Service Authorization Reference names them:
// a table "arn:aws:dynamodb:<region>:<account>:table/<name>", its index
// ".../index/<name>", a queue "arn:aws:sqs:<region>:<account>:<name>".

// dynamoDBCalls are the actions a DynamoDB request needs. TransactWriteItems
// and TransactGetItems are authorised item by item as PutItem, UpdateItem,
// DeleteItem, ConditionCheckItem and GetItem ("Amazon DynamoDB
// transactions: using IAM with DynamoDB transactions"); a Query or Scan
// with IndexName is on the index.
func dynamoDBCalls(op string, body []byte, tableARN func(string) string) ([]call, error) {
	var req struct {
		TableName     string
		IndexName     string
		TransactItems []map[string]struct{ TableName string }
		RequestItems  map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("read the %s request: %w", op, err)
	}
	switch op {
	case "TransactWriteItems", "TransactGetItems":
		itemAction := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		var calls []call
		for _, item := range req.TransactItems {
			for kind, target := range item {
				a, ok := itemAction[kind]
				if !ok {
					return nil, fmt.Errorf("%s item of kind %s", op, kind)
				}
				calls = append(calls, call{"dynamodb:" + a, tableARN(target.TableName)})
			}
		}
		return calls, nil
	case "BatchWriteItem", "BatchGetItem":
		var calls []call
		for table := range req.RequestItems {
			calls = append(calls, call{"dynamodb:" + op, tableARN(table)})
		}
		return calls, nil
	}
	if req.TableName == "" {
		return []call{{"dynamodb:" + op, "*"}}, nil
	}
	resource := tableARN(req.TableName)
	if req.IndexName != "" && (op == "Query" || op == "Scan") {
		resource += "/index/" + req.IndexName
	}
	return []call{{"dynamodb:" + op, resource}}, nil
}

// sqsBatches are authorised as their single-message actions ("Amazon SQS
// API permissions: Actions and resource reference").
var sqsBatches = map[string]string{
	"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage", "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}

// sqsCalls are the actions an SQS (JSON protocol) request needs, on the
// queue its QueueUrl names.
func sqsCalls(op string, body []byte, queueARN func(string) (string, error)) ([]call, error) {
	var req struct{ QueueUrl string }
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("read the %s request: %w", op, err)
	}
	if single, ok := sqsBatches[op]; ok {
		op = single
	}
	if req.QueueUrl == "" {
		return []call{{"sqs:" + op, "*"}}, nil
	}
	arn, err := queueARN(req.QueueUrl)
	if err != nil {
		return nil, err
	}
	return []call{{"sqs:" + op, arn}}, nil
}

// snsCalls are the actions an SNS (Query protocol) request needs, on the
// topic its TopicArn names.
func snsCalls(form url.Values) []call {
	resource := form.Get("TopicArn")
	if resource == "" {
		resource = "*"
	}
	return []call{{"sns:" + form.Get("Action"), resource}}
}
