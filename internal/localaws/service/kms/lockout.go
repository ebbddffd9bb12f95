package kms

import (
	"net/http"
	"strings"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// lockedOut is KMS's answer to a key policy that fails the lockout safety
// check (MalformedPolicyDocumentException).
const lockedOut = "The new key policy will not allow you to update the key policy in the future."

// adminIdentity is the administrator's identity policy: everything.
var adminIdentity, _ = authz.Parse("administrator", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))

// locksOutAdmin is KMS's policy lockout safety check for the account's
// administrator (the local AWS's admin key): "the principal that is making
// the CreateKey [PutKeyPolicy] request must be allowed to make a subsequent
// PutKeyPolicy request on the KMS key" unless the request sets
// BypassPolicyLockoutSafetyCheck (KMS API Reference, CreateKey and
// PutKeyPolicy). A key policy allows that only by naming the caller or by
// naming the account so that its IAM policies apply ("Key policies": no
// principal, the root user included, has access to a key the key policy
// does not allow). Calls of a function's role, and policies whose
// conditions use keys the local AWS does not fill in, are not judged (see
// the refusal table).
func locksOutAdmin(r *http.Request, policy, keyID string) bool {
	if key, signed := principals.AccessKeyOf(r); signed && key != principals.AdminKey {
		return false
	}
	p, err := authz.Parse("key policy", []byte(policy))
	if err != nil {
		return false // principals.Missing has refused what cannot be read
	}
	resource := keyID
	switch {
	case keyID == "":
		resource = "arn:aws:kms:" + awsapi.SigningRegion(r) + ":" + awsapi.Account + ":key/new-key"
	case !strings.HasPrefix(keyID, "arn:"):
		resource = "arn:aws:kms:" + awsapi.SigningRegion(r) + ":" + awsapi.Account + ":key/" + keyID
	}
	root := "arn:aws:iam::" + awsapi.Account + ":root"
	d, err := authz.Evaluate(authz.Request{
		Caller:   authz.Caller{ARN: root},
		Action:   "kms:PutKeyPolicy",
		Resource: resource,
		Context: map[string][]string{
			"aws:PrincipalArn": {root}, "aws:PrincipalAccount": {awsapi.Account}, "kms:CallerAccount": {awsapi.Account},
		},
		OneAccount: true,
	}, authz.Policies{Identity: []*authz.Policy{adminIdentity}, Resource: p, KeyPolicy: true})
	return err == nil && d.Effect != authz.Allow
}
