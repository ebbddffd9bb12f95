package test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// policyDoc is an IAM policy document as the provider renders it.
type policyDoc struct {
	Statement []struct {
		Sid       string
		Effect    string
		Action    any
		Resource  any
		Principal any // "*" or {"AWS": ...}
		Condition map[string]map[string]any
	}
}

func (d policyDoc) statement(t *testing.T, sid string) (found bool, action, resource, principal any, cond map[string]map[string]any) {
	t.Helper()
	for _, s := range d.Statement {
		if s.Sid == sid {
			var p any
			if m, ok := s.Principal.(map[string]any); ok {
				p = m["AWS"]
			}
			return true, s.Action, s.Resource, p, s.Condition
		}
	}
	return false, nil, nil, nil, nil
}

// TestProducerAccess plans the fixture with producers of this and another
// account and reads the policy documents the queue and the key get (known
// at plan: the queue's ARN is built from its name): the queue lets exactly those principals
// send, the key lets them use it through SQS only, and producer_policy_json
// is that grant as an identity policy. Without producers neither policy
// names anyone. Skipped, with the reason, where the aws provider cannot be
// installed. (The local AWS does not enforce policies yet: issue 13.)
func TestProducerAccess(t *testing.T) {
	t.Parallel()
	const key = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"
	producers := []any{"arn:aws:iam::111122223333:role/label-printer", "444455556666"}
	dir := tfharness.LocalRoot(t, "test/fixtures/pipeline")
	zips := tfharness.HostZips(t)
	plan := func(t *testing.T, vars map[string]any) *terraform.PlanStruct {
		t.Helper()
		prefix := "plan-" + testenv.Unique("p")
		all := zips.Vars()
		all["name_prefix"], all["lambda_architecture"] = prefix, lambdazip.HostArchitecture()
		for k, v := range vars {
			all[k] = v
		}
		opts := tfharness.Options(dir, all)
		opts.PlanFilePath = filepath.Join(t.TempDir(), "plan")
		p, err := terraform.InitAndPlanAndShowWithStructE(t, opts)
		require.NoError(t, err)
		return p
	}
	// doc is a policy document data source as the plan read it (the
	// provider leaves the policy attributes of new resources unknown).
	doc := func(t *testing.T, p *terraform.PlanStruct, addr string) policyDoc {
		t.Helper()
		require.NotNil(t, p.RawPlan.PriorState, "the plan read no data source")
		for _, m := range p.RawPlan.PriorState.Values.RootModule.ChildModules {
			for _, r := range m.Resources {
				if r.Address != addr {
					continue
				}
				raw, ok := r.AttributeValues["json"].(string)
				require.True(t, ok, "%s has no json", addr)
				var d policyDoc
				require.NoError(t, json.Unmarshal([]byte(raw), &d))
				return d
			}
		}
		require.FailNow(t, "no "+addr+" read at plan")
		return policyDoc{}
	}

	t.Run("producers granted on the queue and, through SQS, on the key", func(t *testing.T) {
		p := plan(t, map[string]any{"producer_principal_arns": producers})
		queue := doc(t, p, "module.pipeline.data.aws_iam_policy_document.ingest")
		ok, action, resource, principal, _ := queue.statement(t, "ProducersSend")
		require.True(t, ok, "the queue policy has no producer statement")
		assert.Equal(t, "sqs:SendMessage", action)
		assert.Regexp(t, `^arn:aws:sqs:[a-z0-9-]+:\d{12}:plan-.*-ingest$`, resource)
		assert.ElementsMatch(t, producers, principal) // an account id stays an id; AWS reads it as the account root
		ok, _, _, _, _ = queue.statement(t, "DenyInsecureTransport")
		assert.True(t, ok, "the TLS-only deny stays")

		kms := doc(t, p, "module.pipeline.data.aws_iam_policy_document.kms[0]")
		ok, action, _, principal, cond := kms.statement(t, "ProducersThroughSQS")
		require.True(t, ok, "the key policy has no producer statement")
		assert.ElementsMatch(t, []any{"kms:GenerateDataKey", "kms:Decrypt"}, action)
		assert.ElementsMatch(t, producers, principal) // an account id stays an id; AWS reads it as the account root
		assert.Equal(t, "sqs.us-east-1.amazonaws.com", cond["StringEquals"]["kms:ViaService"])
	})

	t.Run("no producers: nobody named", func(t *testing.T) {
		p := plan(t, nil)
		ok, _, _, _, _ := doc(t, p, "module.pipeline.data.aws_iam_policy_document.ingest").statement(t, "ProducersSend")
		assert.False(t, ok)
		ok, _, _, _, _ = doc(t, p, "module.pipeline.data.aws_iam_policy_document.kms[0]").statement(t, "ProducersThroughSQS")
		assert.False(t, ok)
	})

	t.Run("producer_policy_json: the queue, and the key through SQS", func(t *testing.T) {
		p := plan(t, map[string]any{"kms_key_arn": key}) // a key of the caller's: its ARN is known at plan
		out, ok := p.RawPlan.PlannedValues.Outputs["producer_policy_json"]
		require.True(t, ok)
		raw, ok := out.Value.(string)
		require.True(t, ok, "producer_policy_json is not known at plan")
		var d policyDoc
		require.NoError(t, json.Unmarshal([]byte(raw), &d))
		require.Len(t, d.Statement, 2, "the queue and the key, nothing else")
		ok, action, resource, _, _ := d.statement(t, "SendTrackingUpdates")
		require.True(t, ok)
		assert.Equal(t, "sqs:SendMessage", action)
		assert.Regexp(t, `:plan-.*-ingest$`, resource)
		ok, action, resource, _, cond := d.statement(t, "EncryptThroughSQS")
		require.True(t, ok)
		assert.ElementsMatch(t, []any{"kms:GenerateDataKey", "kms:Decrypt"}, action)
		assert.Equal(t, key, resource)
		assert.Equal(t, "sqs.us-east-1.amazonaws.com", cond["StringEquals"]["kms:ViaService"])
	})
}
