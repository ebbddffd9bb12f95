package test

import (
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// TestRefusingRootFailsAsOnAWS applies, through the provider, a root whose
// resources AWS refuses and the provider lets through (no plan-time check,
// no retry): a role policy naming a principal, a policy naming a resource
// by name, and the destroy of a table with deletion protection on. Each
// must fail with AWS's code and message, on the local AWS as on AWS
// (TRACKING_E2E_TARGET=aws). Refusals the provider retries for minutes
// (principals that do not exist yet, KMS's lockout check) are checked at
// the API level in internal/localaws instead.
func TestRefusingRootFailsAsOnAWS(t *testing.T) {
	t.Parallel()
	tgt := chooseTarget(t)
	dir := tfharness.CopyRoots(t, "test/fixtures/refusals")
	if tgt.endpoint != "" {
		tfharness.WriteLocalOverride(t, dir, tgt.endpoint)
	}
	opts := tfharness.Options(dir, map[string]any{
		"name_prefix": "refuse-" + strings.ToLower(random.UniqueId()), "region": tgt.cfg.Region, "protected": true,
	})
	tfharness.Init(t, opts)
	defer func() { // turn the protection off, then remove what was made
		opts.Vars["protected"] = false
		opts.Targets = []string{"aws_dynamodb_table.protected"}
		terraform.Apply(t, opts)
		opts.Targets = nil
		terraform.Destroy(t, opts)
	}()

	out, err := terraform.ApplyE(t, opts)
	require.Error(t, err, "AWS refuses this root's policies")
	applied := squash(out + err.Error())
	for _, want := range []string{
		"MalformedPolicyDocument: Policy document should not specify a principal.",
		`MalformedPolicyDocument: Resource alerts must be in ARN format or "*".`,
	} {
		assert.Contains(t, applied, want)
	}

	out, err = terraform.DestroyE(t, opts)
	require.Error(t, err, "destroy deleted a table with deletion protection on")
	assert.Contains(t, squash(out+err.Error()),
		"ValidationException: Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
}
