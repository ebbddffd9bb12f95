// Command streamhandler is the local AWS's test function for DynamoDB
// stream mappings. It prints each invocation as one line, "STREAMTEST "
// and JSON (the function, the records' keys and sequence numbers, the
// window's state and whether the invocation is the window's final one),
// then answers as the records ask through their "fail" attribute:
// "always" fails the invocation, "item" reports the record in
// batchItemFailures. In a tumbling window it counts records in its state.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type record struct {
	EventName    string `json:"eventName"`
	UserIdentity *struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
	} `json:"userIdentity"`
	Dynamodb struct {
		SequenceNumber string
		Keys, NewImage map[string]map[string]any
	} `json:"dynamodb"`
}

type event struct {
	Records []record `json:"Records"`
	Window  *struct {
		Start string `json:"start"`
	} `json:"window"`
	State   map[string]int `json:"state"`
	IsFinal bool           `json:"isFinalInvokeForWindow"`
}

type seen struct {
	Function string         `json:"function"`
	Keys     []string       `json:"keys"`
	Seqs     []string       `json:"seqs"`
	TTL      []bool         `json:"ttl"`
	Window   string         `json:"window,omitempty"`
	State    map[string]int `json:"state,omitempty"`
	Final    bool           `json:"final"`
}

func handle(_ context.Context, ev event) (map[string]any, error) {
	s := seen{Function: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), Keys: []string{}, Seqs: []string{}, State: ev.State, Final: ev.IsFinal}
	if ev.Window != nil {
		s.Window = ev.Window.Start
	}
	var failures []map[string]string
	failing := false
	for _, r := range ev.Records {
		s.Keys = append(s.Keys, fmt.Sprint(r.Dynamodb.Keys["pk"]["S"]))
		s.Seqs = append(s.Seqs, r.Dynamodb.SequenceNumber)
		s.TTL = append(s.TTL, r.UserIdentity != nil && r.UserIdentity.PrincipalID == "dynamodb.amazonaws.com")
		switch r.Dynamodb.NewImage["fail"]["S"] {
		case "always":
			failing = true
		case "item":
			failures = append(failures, map[string]string{"itemIdentifier": r.Dynamodb.SequenceNumber})
		}
	}
	line, _ := json.Marshal(s)
	fmt.Println("STREAMTEST " + string(line))
	if failing {
		return nil, errors.New("a record asked to fail")
	}
	resp := map[string]any{"batchItemFailures": failures}
	if ev.Window != nil {
		state := map[string]int{"count": ev.State["count"] + len(ev.Records)}
		resp["state"] = state
	}
	return resp, nil
}

func main() { lambda.Start(handle) }
