package access

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// call is one IAM action on one resource that a request needs.
type call struct {
	action, resource string
	context          map[string][]string // condition keys of this call alone (an event's source)
	policy           string              // the resource's own policy; "" for none
	defaultPolicy    bool                // the resource has kumo's default policy (read as none)
	unjudged         bool                // the resource's policy is not judged (README, gap table); the key still is
	key              *keyUse             // the KMS key the service uses on the caller's behalf; nil for none
}

// keyUse is a service's use of a KMS key on the caller's behalf: the
// actions the caller must be allowed on the key, through that service.
type keyUse struct {
	keyID      string
	actions    []string
	viaService string            // kms:ViaService
	context    map[string]string // the encryption context the service uses
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
				calls = append(calls, call{action: "dynamodb:" + a, resource: tableARN(target.TableName)})
			}
		}
		return calls, nil
	case "BatchWriteItem", "BatchGetItem":
		var calls []call
		for table := range req.RequestItems {
			calls = append(calls, call{action: "dynamodb:" + op, resource: tableARN(table)})
		}
		return calls, nil
	}
	if req.TableName == "" {
		return []call{{action: "dynamodb:" + op, resource: "*"}}, nil
	}
	resource := tableARN(req.TableName)
	if req.IndexName != "" && (op == "Query" || op == "Scan") {
		resource += "/index/" + req.IndexName
	}
	return []call{{action: "dynamodb:" + op, resource: resource}}, nil
}

// sqsBatches are authorised as their single-message actions ("Amazon SQS
// API permissions: Actions and resource reference").
var sqsBatches = map[string]string{
	"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage", "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}

// sqsKeyActions are what a caller needs on an encrypted queue's key:
// "producers must have the kms:GenerateDataKey and kms:Decrypt
// permissions", consumers kms:Decrypt (Amazon SQS Developer Guide,
// "Configuring KMS permissions for producers/consumers"); the encryption
// context is aws:sqs:arn.
var sqsKeyActions = map[string][]string{
	"SendMessage":    {"kms:GenerateDataKey", "kms:Decrypt"},
	"ReceiveMessage": {"kms:Decrypt"},
}

// sqsCalls are the actions an SQS (JSON protocol) request needs, on the
// queue its QueueUrl names, under the queue's policy, and the key use on
// an encrypted queue.
func sqsCalls(ctx context.Context, op string, body []byte, res Resources, region string) ([]call, error) {
	var req struct{ QueueUrl string }
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("read the %s request: %w", op, err)
	}
	if single, ok := sqsBatches[op]; ok {
		op = single
	}
	if req.QueueUrl == "" {
		return []call{{action: "sqs:" + op, resource: "*"}}, nil
	}
	q, err := res.Queue(ctx, req.QueueUrl)
	if err != nil {
		return nil, err
	}
	c := call{action: "sqs:" + op, resource: q.ARN, policy: q.Policy}
	if actions := sqsKeyActions[op]; q.KeyID != "" && actions != nil {
		c.key = &keyUse{keyID: q.KeyID, actions: actions, viaService: "sqs." + region + ".amazonaws.com", context: map[string]string{"aws:sqs:arn": q.ARN}}
	}
	return []call{c}, nil
}

// snsCalls are the actions an SNS (Query protocol) request needs, on the
// topic its TopicArn names, under the topic's policy; publishing to an
// encrypted topic needs "kms:GenerateDataKey* and kms:Decrypt" on its key
// (Amazon SNS Developer Guide, "Configuring AWS KMS permissions"), with the
// encryption context aws:sns:topicArn.
func snsCalls(ctx context.Context, form url.Values, res Resources, region string) ([]call, error) {
	action := form.Get("Action")
	arn := form.Get("TopicArn")
	if arn == "" {
		return []call{{action: "sns:" + action, resource: "*"}}, nil
	}
	t, err := res.Topic(ctx, arn)
	if err != nil {
		return nil, err
	}
	c := call{action: "sns:" + action, resource: arn, policy: t.Policy, defaultPolicy: t.DefaultPolicy}
	if (action == "Publish" || action == "PublishBatch") && t.KeyID != "" {
		c.action = "sns:Publish" // PublishBatch is authorised as Publish
		c.key = &keyUse{keyID: t.KeyID, actions: []string{"kms:GenerateDataKey", "kms:Decrypt"}, viaService: "sns." + region + ".amazonaws.com", context: map[string]string{"aws:sns:topicArn": arn}}
	}
	return []call{c}, nil
}

// eventsCalls are the actions an EventBridge PutEvents request needs:
// events:PutEvents on each entry's bus ("arn:${Partition}:events:${Region}:
// ${Account}:event-bus/${EventBusName}", the name or the ARN the entry
// gives, default when none), with the entry's events:source and
// events:detail-type ("Actions, resources, and condition keys for Amazon
// EventBridge"). Other EventBridge calls of a role are not evaluated.
func eventsCalls(op string, body []byte, region string) ([]call, error) {
	if op != "PutEvents" {
		return nil, fmt.Errorf("the local AWS does not evaluate EventBridge %s of a role", op)
	}
	var req struct {
		Entries []struct{ EventBusName, Source, DetailType string }
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("read the %s request: %w", op, err)
	}
	calls := make([]call, 0, len(req.Entries))
	for _, e := range req.Entries {
		bus := e.EventBusName
		switch {
		case bus == "":
			bus = "default"
		case strings.HasPrefix(bus, "arn:"):
			calls = append(calls, call{action: "events:PutEvents", resource: bus, context: entryContext(e.Source, e.DetailType)})
			continue
		}
		calls = append(calls, call{action: "events:PutEvents", resource: fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", region, awsapi.Account, bus),
			context: entryContext(e.Source, e.DetailType)})
	}
	return calls, nil
}

func entryContext(source, detailType string) map[string][]string {
	return map[string][]string{"events:source": {source}, "events:detail-type": {detailType}}
}
