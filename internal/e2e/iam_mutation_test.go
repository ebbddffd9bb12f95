package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/provision"
)

// mutation removes one statement, or one action of one statement, from one
// of the module's role policies (iam.tf's documents, as the provisioner
// renders them).
type mutation struct {
	policy, sid, action string // action "" removes the whole statement
}

func (m mutation) String() string {
	if m.action == "" {
		return m.policy + "/" + m.sid
	}
	return m.policy + "/" + m.sid + " without " + m.action
}

// apply returns doc with the mutation made.
func (m mutation) apply(policy, doc string) string {
	if policy != m.policy {
		return doc
	}
	var d struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		panic(err) // the provisioner rendered it
	}
	var kept []map[string]any
	for _, s := range d.Statement {
		if s["Sid"] != m.sid {
			kept = append(kept, s)
			continue
		}
		if m.action == "" {
			continue
		}
		var actions []any
		for _, a := range s["Action"].([]any) {
			if a != m.action {
				actions = append(actions, a)
			}
		}
		s["Action"] = actions
		kept = append(kept, s)
	}
	d.Statement = kept
	out, _ := json.Marshal(d)
	return string(out)
}

// mutationsOf lists every statement and every action of a multi-action
// statement of the two execution-role policies.
func mutationsOf(t *testing.T, docs map[string]string) []mutation {
	t.Helper()
	var out []mutation
	for _, policy := range []string{"processor", "maintenance"} {
		var d struct {
			Statement []struct {
				Sid    string
				Action []string
			}
		}
		require.NoError(t, json.Unmarshal([]byte(docs[policy]), &d))
		for _, s := range d.Statement {
			require.NotEmpty(t, s.Sid, "every statement of %s has a Sid", policy)
			out = append(out, mutation{policy: policy, sid: s.Sid})
			if len(s.Action) > 1 {
				for _, a := range s.Action {
					out = append(out, mutation{policy: policy, sid: s.Sid, action: a})
				}
			}
		}
	}
	return out
}

// scenario is one thing the pipeline must do; it returns an error when it
// could not.
type scenario struct {
	name string
	run  func(ctx context.Context, s *stack) error
}

var iamScenarios = []scenario{
	{"processing (a row, a duplicate, poison to the DLQ)", func(ctx context.Context, s *stack) error {
		body := update("M1", "e1", "IN_TRANSIT", "2026-11-25T10:00:00Z")
		for _, b := range []string{body, body, `{"tracking_id":"M1","status":"lost"}`} {
			if _, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.out.IngestQueueURL, MessageBody: aws.String(b)}); err != nil {
				return err
			}
		}
		return within(20*time.Second, func() error {
			st, err := s.store.DailyStats(ctx, time.Now())
			switch {
			case err != nil:
				return err
			case st.Total != 1 || st.Duplicates != 1 || st.Invalid != 1:
				return fmt.Errorf("day counters %+v", st)
			}
			return nil
		})
	}},
	{"maintenance (digest, redrive, stats, stuck packages)", func(ctx context.Context, s *stack) error {
		// A message SQS moved to the DLQ (no reason attached): transient,
		// redriven; and a permanent failure, which the job must give back.
		if _, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.out.IngestDLQURL,
			MessageBody: aws.String(update("M2", "e1", "DELIVERED", "2026-11-25T11:00:00Z"))}); err != nil {
			return err
		}
		if _, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.out.IngestDLQURL, MessageBody: aws.String(`{"status":"lost"}`),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				deadletter.AttrErrorCode: {DataType: aws.String("String"), StringValue: aws.String("CONTRACT_VIOLATION")},
			}}); err != nil {
			return err
		}
		out, err := lambda.NewFromConfig(s.srv.ClientConfig()).Invoke(ctx, &lambda.InvokeInput{FunctionName: &s.out.MaintenanceFunctionName,
			Payload: []byte(`{"tasks":["dlq-digest","redrive","daily-stats"],"day":"` + time.Now().UTC().Format(audit.DayLayout) + `"}`)})
		if err != nil {
			return err
		}
		if out.FunctionError != nil {
			return fmt.Errorf("maintenance failed: %s", out.Payload)
		}
		back, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &s.out.IngestDLQURL, MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return err
		}
		if len(back.Messages) == 0 {
			return errors.New("the permanent failure the job inspected is still hidden: not given back")
		}
		return within(20*time.Second, func() error {
			if rows, err := s.store.Trail(ctx, "M2"); err != nil || len(rows) != 1 {
				return fmt.Errorf("the redriven update has no row (%w)", err)
			}
			return nil
		})
	}},
}

func within(d time.Duration, check func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond) //nolint:forbidigo // polling a deadline; a failure is the expected outcome here
	}
}

// mutationResult is one row of the table: what failed without the statement.
type mutationResult struct {
	m       mutation
	failed  []string
	denials []string
}

// TestEachIAMStatementIsNeeded is the IAM mutation test (make test-iam):
// for every statement of the processor's and the maintenance job's role
// policies, and every action of a statement with several, a stack with
// exactly that removed runs the scenarios with the local AWS enforcing
// IAM; some scenario must fail with AccessDenied, or the statement must
// say in iam.tf which real-AWS path needs it ("Needed on AWS:"). With the
// policies whole, every scenario passes (nothing wider is needed).
func TestEachIAMStatementIsNeeded(t *testing.T) {
	t.Parallel()
	whole := runScenarios(t, nil)
	require.Empty(t, whole.failed, "with the module's policies whole every scenario passes: %v", whole.denials)

	docs := renderedPolicies(t)
	muts := mutationsOf(t, docs)
	results := make([]mutationResult, len(muts))
	t.Run("mutations", func(t *testing.T) { // returns once every parallel mutation has run
		for i, m := range muts {
			t.Run(m.String(), func(t *testing.T) {
				t.Parallel()
				results[i] = runScenarios(t, &m)
			})
		}
	})

	hcl, err := os.ReadFile(filepath.Join("..", "..", "modules", "tracking-pipeline", "iam.tf"))
	require.NoError(t, err)
	var table strings.Builder
	table.WriteString("| Removed | Scenario that failed | AccessDenied seen |\n| --- | --- | --- |\n")
	for _, r := range results {
		failed, denial := strings.Join(r.failed, "; "), ""
		if len(r.denials) > 0 {
			denial = r.denials[0]
		}
		if failed == "" {
			failed = "none here: " + awsOnlyReason(string(hcl), r.m.sid)
		}
		fmt.Fprintf(&table, "| `%s` | %s | %s |\n", r.m, failed, denial)
		if len(r.failed) == 0 {
			assert.NotEmpty(t, awsOnlyReason(string(hcl), r.m.sid), "%s: no scenario needs it and iam.tf does not say which AWS path does", r.m)
		} else {
			assert.NotEmpty(t, r.denials, "%s: a scenario failed without an AccessDenied", r.m)
		}
	}
	t.Log("\n" + table.String())
	if out := os.Getenv("TRACKING_IAM_TABLE"); out != "" { // make test-iam writes it for the module README
		require.NoError(t, os.WriteFile(out, []byte(table.String()), 0o600))
	}
}

// awsOnlyReason is the "Needed on AWS:" comment of statement sid in iam.tf, or "".
func awsOnlyReason(hcl, sid string) string {
	i := strings.Index(hcl, `sid = "`+sid+`"`)
	if i < 0 {
		i = strings.Index(hcl, `"`+sid+`"`)
	}
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(hcl[:i], "statement {")
	end := strings.Index(hcl[i:], "\n  }\n")
	if start < 0 || end < 0 {
		return ""
	}
	m := regexp.MustCompile(`# Needed on AWS: ([^\n]+)`).FindStringSubmatch(hcl[start : i+end])
	if m == nil {
		return ""
	}
	return m[1]
}

// renderedPolicies are the two role documents as a stack receives them.
func renderedPolicies(t *testing.T) map[string]string {
	t.Helper()
	docs := map[string]string{}
	var mu sync.Mutex
	deployEdited(t, func(policy, doc string) string {
		mu.Lock()
		defer mu.Unlock()
		docs[policy] = doc
		return doc
	}).srv.Close()
	return docs
}

// runScenarios deploys a stack with m made (nil: none) and runs every
// scenario on it, recording which failed and the AccessDenied seen.
func runScenarios(t *testing.T, m *mutation) mutationResult {
	t.Helper()
	var edit func(policy, doc string) string
	if m != nil {
		edit = m.apply
	}
	s := deployEdited(t, edit)
	defer s.srv.Close()
	var r mutationResult
	if m != nil {
		r.m = *m
	}
	ctx := context.Background()
	for _, sc := range iamScenarios {
		if err := sc.run(ctx, s); err != nil {
			r.failed = append(r.failed, sc.name)
		}
	}
	seen := map[string]bool{}
	prefix := regexp.MustCompile(`e2e-[0-9a-f]{8}`)
	for _, d := range s.srv.Access.Denials() {
		line := d.Action + " on " + prefix.ReplaceAllString(d.Resource[strings.LastIndex(d.Resource, ":")+1:], "<prefix>")
		if !seen[line] {
			seen[line] = true
			r.denials = append(r.denials, line)
		}
	}
	sort.Strings(r.denials)
	return r
}

// deployEdited deploys a quiet stack (no logs) with the role policies
// edited, the DLQ redrive of transient failures on and quick.
func deployEdited(t *testing.T, edit func(policy, doc string) string) *stack {
	t.Helper()
	return deployWith(t, localaws.Options{Log: zap.NewNop(), FunctionOutput: io.Discard}, func(st *provision.Settings) {
		quickRedrive(st)
		st.MaintenanceRedriveTransient = true
	}, edit)
}
