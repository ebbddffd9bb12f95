package iam

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIdentityPolicyProblem(t *testing.T) {
	t.Parallel()
	const principal = "Policy document should not specify a principal."
	for _, tc := range []struct{ name, doc, want string }{
		{"an ARN", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}`, ""},
		{"everything", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, ""},
		{"a principal", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, principal},
		{"a not-principal", `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"*"}]}`, principal},
		{"a name", `{"Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":["arn:aws:sns:us-east-1:1:a","alerts"]}]}`, `Resource alerts must be in ARN format or "*".`},
		{"an empty not-resource", `{"Statement":[{"Effect":"Allow","Action":"sns:Publish","NotResource":""}]}`, `Resource  must be in ARN format or "*".`},
		{"not JSON: kumo's to answer", `{`, ""},
	} {
		assert.Equal(t, tc.want, identityPolicyProblem(tc.doc), tc.name)
	}
}
