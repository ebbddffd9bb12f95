package authz_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
)

const (
	acct     = "111122223333"
	other    = "444455556666"
	role     = "arn:aws:iam::111122223333:role/processor"
	session  = "arn:aws:sts::111122223333:assumed-role/processor/fn-session"
	stranger = "arn:aws:iam::444455556666:role/producer"
	queue    = "arn:aws:sqs:us-east-1:111122223333:tp-ingest"
	key      = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	topic    = "arn:aws:sns:us-east-1:111122223333:tp-alerts"
)

func parse(t *testing.T, name, doc string) *authz.Policy {
	t.Helper()
	p, err := authz.Parse(name, []byte(doc))
	require.NoError(t, err, name)
	return p
}

// TestEvaluate: the cases of the IAM User Guide's "Policy evaluation
// logic", "Action", "NotAction", "NotResource", "Principal" and "Condition
// operators" pages, on this stack's resources.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	allowSend := `{"Version":"2012-10-17","Statement":{"Sid":"Send","Effect":"Allow","Action":"sqs:SendMessage","Resource":"` + queue + `"}}`
	tests := []struct {
		name     string
		req      authz.Request
		identity []string
		resource string
		keyPol   bool
		want     authz.Effect
		wantBy   []string
	}{
		{
			name: "nothing allows: implicit deny",
			req:  authz.Request{Caller: authz.Caller{ARN: role}, Action: "sqs:SendMessage", Resource: queue},
			want: authz.ImplicitDeny,
		},
		{
			name:     "an identity policy allows",
			req:      authz.Request{Caller: authz.Caller{ARN: session}, Action: "sqs:SendMessage", Resource: queue},
			identity: []string{allowSend},
			want:     authz.Allow, wantBy: []string{"id0/Send"},
		},
		{
			name:     "an explicit deny beats an allow",
			req:      authz.Request{Caller: authz.Caller{ARN: role}, Action: "sqs:SendMessage", Resource: queue},
			identity: []string{allowSend},
			resource: `{"Statement":[{"Sid":"NoOne","Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"` + queue + `"}]}`,
			want:     authz.ExplicitDeny, wantBy: []string{"resource/NoOne"},
		},
		{
			name:     "action wildcards, case-insensitive",
			req:      authz.Request{Caller: authz.Caller{ARN: role}, Action: "sqs:SendMessageBatch", Resource: queue},
			identity: []string{`{"Statement":{"Effect":"Allow","Action":"SQS:send*","Resource":"arn:aws:sqs:*:111122223333:tp-?ngest"}}`},
			want:     authz.Allow, wantBy: []string{"id0/statement 0"},
		},
		{
			name:     "resource ARNs are case-sensitive",
			req:      authz.Request{Caller: authz.Caller{ARN: role}, Action: "sqs:SendMessage", Resource: queue},
			identity: []string{`{"Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:TP-INGEST"}}`},
			want:     authz.ImplicitDeny,
		},
		{
			name:     "NotAction allows every other action",
			req:      authz.Request{Caller: authz.Caller{ARN: role}, Action: "sqs:ReceiveMessage", Resource: queue},
			identity: []string{`{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`},
			want:     authz.Allow, wantBy: []string{"id0/statement 0"},
		},
		{
			name:     "NotAction does not allow the actions it names",
			req:      authz.Request{Caller: authz.Caller{ARN: role}, Action: "iam:CreateUser", Resource: "arn:aws:iam::111122223333:user/x"},
			identity: []string{`{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`},
			want:     authz.ImplicitDeny,
		},
		{
			name: "NotResource in a deny: every resource but the named one",
			req:  authz.Request{Caller: authz.Caller{ARN: role}, Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:111122223333:elsewhere"},
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"},
				{"Sid":"OnlyIngest","Effect":"Deny","Action":"sqs:*","NotResource":"` + queue + `"}]}`},
			want: authz.ExplicitDeny, wantBy: []string{"id0/OnlyIngest"},
		},
		{
			name:     "a resource policy naming the role allows it alone",
			req:      authz.Request{Caller: authz.Caller{ARN: session}, Action: "sqs:SendMessage", Resource: queue},
			resource: `{"Statement":{"Sid":"Role","Effect":"Allow","Principal":{"AWS":"` + role + `"},"Action":"sqs:SendMessage","Resource":"` + queue + `"}}`,
			want:     authz.Allow, wantBy: []string{"resource/Role"},
		},
		{
			name:     "a resource policy naming the account delegates to identity policies",
			req:      authz.Request{Caller: authz.Caller{ARN: role}, Action: "sqs:SendMessage", Resource: queue},
			resource: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sqs:SendMessage","Resource":"` + queue + `"}}`,
			want:     authz.ImplicitDeny,
		},
		{
			name:     "across accounts an identity policy alone is not enough",
			req:      authz.Request{Caller: authz.Caller{ARN: stranger}, Action: "sqs:SendMessage", Resource: queue},
			identity: []string{allowSend},
			want:     authz.ImplicitDeny,
		},
		{
			name:     "across accounts a resource policy alone is not enough",
			req:      authz.Request{Caller: authz.Caller{ARN: stranger}, Action: "sqs:SendMessage", Resource: queue},
			resource: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + other + `"},"Action":"sqs:SendMessage","Resource":"` + queue + `"}}`,
			want:     authz.ImplicitDeny,
		},
		{
			name:     "across accounts both sides allow",
			req:      authz.Request{Caller: authz.Caller{ARN: stranger}, Action: "sqs:SendMessage", Resource: queue},
			identity: []string{allowSend},
			resource: `{"Statement":{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"` + other + `"},"Action":"sqs:SendMessage","Resource":"` + queue + `"}}`,
			want:     authz.Allow, wantBy: []string{"id0/Send", "resource/Partner"},
		},
		{
			name:     "a service principal needs the resource policy",
			req:      authz.Request{Caller: authz.Caller{Service: "events.amazonaws.com"}, Action: "sns:Publish", Resource: topic, Context: map[string][]string{"aws:SourceAccount": {acct}}},
			resource: `{"Statement":{"Sid":"Events","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish","Resource":"` + topic + `","Condition":{"StringEquals":{"aws:SourceAccount":"` + acct + `"}}}}`,
			want:     authz.Allow, wantBy: []string{"resource/Events"},
		},
		{
			name:     "another service is not that principal",
			req:      authz.Request{Caller: authz.Caller{Service: "cloudwatch.amazonaws.com"}, Action: "sns:Publish", Resource: topic, Context: map[string][]string{"aws:SourceAccount": {acct}}},
			resource: `{"Statement":{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish","Resource":"` + topic + `"}}`,
			want:     authz.ImplicitDeny,
		},
		{
			name:     "a key policy naming the account lets identity policies grant",
			req:      authz.Request{Caller: authz.Caller{ARN: role}, Action: "kms:Decrypt", Resource: key},
			identity: []string{`{"Statement":{"Sid":"Key","Effect":"Allow","Action":"kms:Decrypt","Resource":"` + key + `"}}`},
			resource: `{"Statement":{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}}`,
			keyPol:   true,
			want:     authz.Allow, wantBy: []string{"id0/Key", "resource/Root"},
		},
		{
			name:     "a key policy that does not name the account: identity policies cannot grant",
			req:      authz.Request{Caller: authz.Caller{ARN: role}, Action: "kms:Decrypt", Resource: key},
			identity: []string{`{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}`},
			resource: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"kms:*","Resource":"*"}}`,
			keyPol:   true,
			want:     authz.ImplicitDeny,
		},
		{
			name:     "a key policy naming another account: identity policies cannot grant",
			req:      authz.Request{Caller: authz.Caller{ARN: role}, Action: "kms:Decrypt", Resource: key},
			identity: []string{`{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}`},
			resource: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}}`,
			keyPol:   true,
			want:     authz.ImplicitDeny,
		},
		{
			name:     "in one account (the local AWS) any account a policy names is the caller's",
			req:      authz.Request{Caller: authz.Caller{ARN: role}, Action: "kms:Decrypt", Resource: key, OneAccount: true},
			identity: []string{`{"Statement":{"Sid":"Key","Effect":"Allow","Action":"kms:*","Resource":"*"}}`},
			resource: `{"Statement":{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}}`,
			keyPol:   true,
			want:     authz.Allow, wantBy: []string{"id0/Key", "resource/Root"},
		},
		{
			name:     "a key policy naming the role allows it alone",
			req:      authz.Request{Caller: authz.Caller{ARN: session}, Action: "kms:GenerateDataKey", Resource: key},
			resource: `{"Statement":{"Sid":"Fn","Effect":"Allow","Principal":{"AWS":"` + role + `"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}}`,
			keyPol:   true,
			want:     authz.Allow, wantBy: []string{"resource/Fn"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var pol authz.Policies
			for i, doc := range tt.identity {
				pol.Identity = append(pol.Identity, parse(t, "id"+string(rune('0'+i)), doc))
			}
			if tt.resource != "" {
				pol.Resource = parse(t, "resource", tt.resource)
			}
			pol.KeyPolicy = tt.keyPol
			got, err := authz.Evaluate(tt.req, pol)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Effect, got.Reason)
			assert.Equal(t, tt.wantBy, got.By)
			if tt.want != authz.Allow {
				assert.NotEmpty(t, got.Reason)
			}
		})
	}
}
