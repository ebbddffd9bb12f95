package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/faults"
)

// mutation removes one statement, or one action of one statement, from one
// of the module's policies (the documents of iam.tf, kms.tf, sqs.tf and
// alerts.tf, as the provisioner renders them).
type mutation struct {
	policy, sid, action string // action "" removes the whole statement
	deny                bool   // the statement denies: without it a refusal goes missing
}

// mutatedPolicies are the documents mutated: the three execution roles',
// the key policy, the queue policies and the topic policy.
var mutatedPolicies = []string{"processor", "projector", "maintenance", "scheduler", "kms", "ingest", `queue_tls_only["ingest_dlq"]`, `queue_tls_only["maintenance_dlq"]`,
	`queue_tls_only["projector_dlq"]`, "alert_dlq", "alerts"}

func (m mutation) String() string {
	if m.action == "" {
		return m.policy + "/" + m.sid
	}
	return m.policy + "/" + m.sid + " without " + m.action
}

// apply returns doc with the mutation made.
func (m mutation) apply(policy, doc string) string {
	if m.action == "" {
		return editStatement(m.policy, m.sid, nil)(policy, doc)
	}
	return editStatement(m.policy, m.sid, func(st map[string]any) {
		var actions []any
		for _, a := range st["Action"].([]any) {
			if a != m.action {
				actions = append(actions, a)
			}
		}
		st["Action"] = actions
	})(policy, doc)
}

// mutationsOf lists every statement and every action of a multi-action
// statement of the mutated policies.
func mutationsOf(t *testing.T, docs map[string]string) []mutation {
	t.Helper()
	var out []mutation
	for _, policy := range mutatedPolicies {
		require.Contains(t, docs, policy, "the provisioner puts %s on the stack", policy)
		var d struct {
			Statement []struct {
				Sid    string
				Effect string
				Action []string
			}
		}
		require.NoError(t, json.Unmarshal([]byte(docs[policy]), &d))
		for _, s := range d.Statement {
			require.NotEmpty(t, s.Sid, "every statement of %s has a Sid", policy)
			deny := s.Effect == "Deny"
			out = append(out, mutation{policy: policy, sid: s.Sid, deny: deny})
			if len(s.Action) > 1 {
				for _, a := range s.Action {
					out = append(out, mutation{policy: policy, sid: s.Sid, action: a, deny: deny})
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
	{"projection (latest status, status index, a status-change event on the bus)", func(ctx context.Context, s *stack) error {
		c, err := newConsumer(ctx, s)
		if err != nil {
			return err
		}
		for _, b := range []string{update("P1", "e1", "IN_TRANSIT", "2026-11-25T10:00:00Z"), update("P1", "e2", "DELIVERED", "2026-11-25T12:00:00Z")} {
			if _, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.out.IngestQueueURL, MessageBody: aws.String(b)}); err != nil {
				return err
			}
		}
		var seen []string
		return within(20*time.Second, func() error {
			latest, ok, err := s.store.LatestStatus(ctx, "P1")
			if err != nil || !ok || latest.Status != "DELIVERED" {
				return fmt.Errorf("latest status %+v (%w)", latest, err)
			}
			delivered, err := s.store.InStatus(ctx, "DELIVERED", time.Time{}, 10)
			if err != nil || len(delivered) != 1 {
				return fmt.Errorf("packages delivered %+v (%w)", delivered, err)
			}
			got, err := c.changes(ctx)
			if seen = append(seen, got...); err != nil {
				return err
			}
			if !slices.Contains(seen, "P1:IN_TRANSIT>DELIVERED") && !slices.Contains(seen, "P1:->DELIVERED") {
				return fmt.Errorf("status changes on the bus: %v", seen)
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
	{"the daily schedule runs maintenance (the scheduler acting as its role)", func(ctx context.Context, s *stack) error {
		// A transient failure in the DLQ: only the scheduled run's redrive gives it a row.
		if _, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.out.IngestDLQURL,
			MessageBody: aws.String(update("M3", "e1", "DELIVERED", "2026-11-25T12:00:00Z"))}); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.srv.URL+"/_localaws/schedules/"+s.out.MaintenanceScheduleName+"/trigger", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("trigger: %s", resp.Status)
		}
		return within(20*time.Second, func() error {
			if rows, err := s.store.Trail(ctx, "M3"); err != nil || len(rows) != 1 {
				return fmt.Errorf("the scheduled run did not redrive the update (%w)", err)
			}
			return nil
		})
	}},
	{"a failed asynchronous maintenance run reaches the maintenance DLQ", func(ctx context.Context, s *stack) error {
		task := "no-such-task-" + s.out.MaintenanceFunctionName
		if _, err := lambda.NewFromConfig(s.srv.ClientConfig()).Invoke(ctx, &lambda.InvokeInput{FunctionName: &s.out.MaintenanceFunctionName,
			InvocationType: lambdatypes.InvocationTypeEvent, Payload: []byte(`{"tasks":["` + task + `"]}`)}); err != nil {
			return err
		}
		return queueGets(ctx, s, s.out.MaintenanceDLQURL, func(body string) bool { return strings.Contains(body, task) },
			"no record of the failed run on the maintenance DLQ (Lambda sends it as the function's role)")
	}},
	{"a stream batch the projector gives up on is described in the projector DLQ (Lambda sends it as the function's role)", projectorGivesUp},
}

// projectorGivesUp makes the projector fail every invocation and its
// mapping give up after the first attempt (MaximumRetryAttempts 0, where
// the module's -1 gives up only at 12 hours of record age: the same path
// to the on-failure destination, without the wait), sends an update, and
// waits for the description of its record's batch in the projector DLQ.
// The mapping and the faults are restored whatever happens.
func projectorGivesUp(ctx context.Context, s *stack) error {
	fns := lambda.NewFromConfig(s.srv.ClientConfig())
	list, err := fns.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: &s.out.ProjectorFunctionName})
	if err != nil {
		return err
	}
	if len(list.EventSourceMappings) != 1 {
		return fmt.Errorf("%d projector mappings", len(list.EventSourceMappings))
	}
	m := list.EventSourceMappings[0]
	retries := func(n int32) error {
		_, err := fns.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: m.UUID, MaximumRetryAttempts: &n})
		return err
	}
	if err := retries(0); err != nil {
		return err
	}
	defer func() { _ = retries(aws.ToInt32(m.MaximumRetryAttempts)) }()
	rules, err := faults.Parse("lambda:" + s.out.ProjectorFunctionName + ":crash=1ms:1")
	if err != nil {
		return err
	}
	s.srv.Faults.Set(rules)
	defer s.srv.Faults.Set(nil)

	if _, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.out.IngestQueueURL,
		MessageBody: aws.String(update("G1", "e1", "IN_TRANSIT", "2026-11-25T10:00:00Z"))}); err != nil {
		return err
	}
	return queueGets(ctx, s, s.out.ProjectorDLQURL, func(body string) bool {
		var d struct {
			Info struct {
				StreamArn string `json:"streamArn"`
			} `json:"DDBStreamBatchInfo"`
		}
		return json.Unmarshal([]byte(body), &d) == nil && d.Info.StreamArn == aws.ToString(m.EventSourceArn)
	}, "no description of the given-up batch in the projector DLQ")
}

// queueGets waits up to 20 s for a message on queue whose body matches;
// it fails with missing when none came.
func queueGets(ctx context.Context, s *stack, queue string, matches func(body string) bool, missing string) error {
	return within(20*time.Second, func() error {
		out, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			return err
		}
		for _, m := range out.Messages {
			if matches(aws.ToString(m.Body)) {
				return nil
			}
		}
		return errors.New(missing)
	})
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
	errs    []string // what each failed scenario said
	denials []string
}

// TestEachIAMStatementIsNeeded is the IAM mutation test (make test-iam):
// for every statement of the processor's, the maintenance job's and the
// scheduler's role policies, the key policy, the queue policies and the topic policy, and
// every action of a statement with several, a stack with exactly that
// removed runs the scenarios with the local AWS enforcing IAM; some
// scenario must fail with AccessDenied (for a Deny statement: a refusal it
// makes goes missing), or the statement must say in the module's HCL
// which real-AWS path needs it ("Needed on AWS:"). With the policies
// whole, every scenario passes (nothing wider is needed).
func TestEachIAMStatementIsNeeded(t *testing.T) {
	t.Parallel()
	whole := runScenarios(t, nil)
	require.Empty(t, whole.failed, "with the module's policies whole every scenario passes: %v %v", whole.errs, whole.denials)

	docs := renderedPolicies(t)
	muts := mutationsOf(t, docs)
	if os.Getenv(allMutationsEnv) != "all" {
		muts = representative(muts)
		t.Logf("%d representative mutations (%s=all, as CI and make test-iam set, runs every one)", len(muts), allMutationsEnv)
	}
	results := make([]mutationResult, len(muts))
	t.Run("mutations", func(t *testing.T) { // returns once every parallel mutation has run
		for i, m := range muts {
			t.Run(m.String(), func(t *testing.T) {
				t.Parallel()
				results[i] = runScenarios(t, &m)
			})
		}
	})

	var hcl []byte
	for _, f := range []string{"iam.tf", "kms.tf", "sqs.tf", "alerts.tf"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "modules", "tracking-pipeline", f))
		require.NoError(t, err)
		hcl = append(hcl, b...)
	}
	var table strings.Builder
	table.WriteString("| Removed | Scenario that failed | AccessDenied seen (AWS's refusal of the policy, or the refusal that went missing) |\n| --- | --- | --- |\n")
	for _, r := range results {
		if r.failed == nil || r.failed[0] != deployScenario { // the refusals the scenarios expect (plain HTTP) are no finding
			r.denials = without(r.denials, whole.denials)
		} else {
			r.denials = without(r.denials, nil)
		}
		failed, denial := strings.Join(r.failed, "; "), ""
		refused := ""
		if len(r.failed) > 0 && r.failed[0] == deployScenario {
			refused = refusedPolicy(r.errs)
		}
		switch {
		case len(r.denials) > 0:
			denial = r.denials[0]
		case refused != "":
			denial = refused
		case r.m.deny && len(r.errs) > 0:
			denial = r.errs[0]
		}
		if failed == "" {
			failed = "none here: " + awsOnlyReason(string(hcl), r.m.sid)
		}
		fmt.Fprintf(&table, "| `%s` | %s | %s |\n", r.m, failed, denial)
		if len(r.failed) == 0 {
			assert.NotEmpty(t, awsOnlyReason(string(hcl), r.m.sid), "%s: no scenario needs it and iam.tf does not say which AWS path does", r.m)
		} else if !r.m.deny && refused == "" {
			assert.NotEmpty(t, r.denials, "%s: a scenario failed without an AccessDenied", r.m)
		}
	}
	t.Log("\n" + table.String())
	if out := os.Getenv("TRACKING_IAM_TABLE"); out != "" { // make test-iam writes it for the module README
		require.NoError(t, os.WriteFile(out, []byte(table.String()), 0o600))
	}
}

// allMutationsEnv set to "all" runs every mutation; make test runs the
// representative part, CI (.ci/run) and make test-iam the whole table.
const allMutationsEnv = "TRACKING_IAM_MUTATIONS"

// representative keeps, of each mutated policy, the first statement removed
// whole and the first action removed from a statement with several: every
// policy and both kinds of mutation are tried, in about a fifth of the time.
func representative(muts []mutation) []mutation {
	type kind struct {
		policy  string
		partial bool
	}
	seen := map[kind]bool{}
	var out []mutation
	for _, m := range muts {
		k := kind{m.policy, m.action != ""}
		if !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	return out
}

// refusedPolicy is AWS's refusal of a policy document in a deployment's
// errors, from its code on, or "": KMS refuses a key policy that would
// lock the account out of the key (its lockout safety check), so removing
// the statement that names the account fails before any call is judged.
func refusedPolicy(errs []string) string {
	for _, e := range errs {
		if i := strings.Index(e, "MalformedPolicyDocument"); i >= 0 {
			return e[i:]
		}
	}
	return ""
}

// awsOnlyReason is the "Needed on AWS:" comment of statement sid in the module's HCL, or "".
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

// renderedPolicies are the mutated documents as a stack receives them.
func renderedPolicies(t *testing.T) map[string]string {
	t.Helper()
	docs := map[string]string{}
	var mu sync.Mutex
	s, err := deployEdited(t, func(policy, doc string) string {
		mu.Lock()
		defer mu.Unlock()
		docs[policy] = doc
		return doc
	})
	s.srv.Close()
	require.NoError(t, err)
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
	s, deployErr := deployEdited(t, edit)
	defer s.srv.Close() //nolint:staticcheck // SA5001: deployE returns the stack and its running server with the error
	var r mutationResult
	if m != nil {
		r.m = *m
	}
	ctx := context.Background()
	scenarios := append(append([]scenario(nil), iamScenarios...), resourcePolicyScenarios...)
	if deployErr != nil { // AWS refused to create part of the stack: nothing else can run
		scenarios = []scenario{{deployScenario, func(context.Context, *stack) error { return deployErr }}}
	}
	for _, sc := range scenarios {
		if err := sc.run(ctx, s); err != nil {
			r.failed = append(r.failed, sc.name)
			r.errs = append(r.errs, prefixPattern.ReplaceAllString(err.Error(), "<prefix>"))
		}
	}
	for _, d := range s.srv.Access.Denials() { // every one, repeats too: see without
		r.denials = append(r.denials, denial(d.Action, d.Resource))
	}
	return r
}

// without is list less the entries of drop, counted (a refusal the whole
// stack also makes, made once more, is a finding), then each entry once, sorted.
func without(list, drop []string) []string {
	left := map[string]int{}
	for _, d := range drop {
		left[d]++
	}
	var out []string
	for _, l := range list {
		if left[l] > 0 {
			left[l]--
			continue
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// prefixPattern is a stack's name prefix, left out of the table; a
// stream's label (its creation time) is left out too.
var (
	prefixPattern      = regexp.MustCompile(`e2e-[0-9a-f]{8}`)
	streamLabelPattern = regexp.MustCompile(`/stream/[0-9T:.-]+$`)
)

// denial is a refusal as the table shows it: the action on the ARN's
// resource part (after its fifth colon: a stream's label holds colons
// too), without the stack's prefix or the stream's label.
func denial(action, resource string) string {
	if parts := strings.SplitN(resource, ":", 6); len(parts) == 6 {
		resource = parts[5]
	}
	resource = streamLabelPattern.ReplaceAllString(resource, "/stream/<label>")
	return action + " on " + prefixPattern.ReplaceAllString(resource, "<prefix>")
}

// deployScenario names the failure of the deployment itself: AWS refuses
// to create part of the stack (an event source mapping whose role may not
// poll the queue, a key policy that locks the account out, a log group
// whose key CloudWatch Logs may not use), so no other scenario can run.
const deployScenario = "the stack deploys (AWS checks roles and keys as it creates resources)"

// deployEdited deploys a quiet stack (no logs) with the policies edited,
// the DLQ redrive of transient failures on and quick, and a producer
// named in producer_principal_arns.
func deployEdited(t *testing.T, edit func(policy, doc string) string) (*stack, error) {
	t.Helper()
	return deployE(t, localaws.Options{Log: zap.NewNop(), FunctionOutput: io.Discard}, func(st *provision.Settings) {
		quickRedrive(st)
		st.MaintenanceRedriveTransient = true
		st.AlertEmailAddresses = []string{alertSubscriber}
		withNamedProducer(st)
	}, edit, createProducerRole)
}

func TestDenialShowsTheResourceWithoutPrefixOrLabel(t *testing.T) {
	t.Parallel()
	tests := []struct{ action, resource, want string }{
		{"sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:e2e-0123abcd-projector-dlq", "sqs:SendMessage on <prefix>-projector-dlq"},
		{"dynamodb:GetRecords", "arn:aws:dynamodb:us-east-1:000000000000:table/e2e-0123abcd-audit/stream/2026-12-05T03:21:35.664",
			"dynamodb:GetRecords on table/<prefix>-audit/stream/<label>"},
		{"dynamodb:ListStreams", "arn:aws:dynamodb:us-east-1:000000000000:table/e2e-0123abcd-audit/stream/*", "dynamodb:ListStreams on table/<prefix>-audit/stream/*"},
		{"kms:Decrypt", "arn:aws:kms:us-east-1:000000000000:key/a9f78cf3", "kms:Decrypt on key/a9f78cf3"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, denial(tt.action, tt.resource))
	}
}
