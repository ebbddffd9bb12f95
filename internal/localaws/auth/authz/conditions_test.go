package authz_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
)

// TestConditions: one allow statement under a condition, asked with
// several request contexts (IAM User Guide, "Condition operators",
// "...IfExists condition operators", "Condition operator to check
// existence of condition keys", "Multivalued context keys").
func TestConditions(t *testing.T) {
	t.Parallel()
	type ctx = map[string][]string
	tests := []struct {
		name      string
		condition string
		context   ctx
		want      bool
	}{
		{"StringEquals matches", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, ctx{"aws:SourceAccount": {acct}}, true},
		{"StringEquals, any of the values", `{"StringEquals":{"aws:SourceAccount":["1","111122223333"]}}`, ctx{"aws:SourceAccount": {acct}}, true},
		{"StringEquals differs", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, ctx{"aws:SourceAccount": {other}}, false},
		{"keys are case-insensitive", `{"StringEquals":{"AWS:sourceaccount":"111122223333"}}`, ctx{"aws:SourceAccount": {acct}}, true},
		{"a missing key: false", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, ctx{}, false},
		{"a missing key with IfExists: true", `{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`, ctx{}, true},
		{"IfExists still compares a present key", `{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`, ctx{"aws:SourceAccount": {other}}, false},
		{"a negated operator on a missing key: true", `{"StringNotEquals":{"kms:ViaService":"sqs.us-east-1.amazonaws.com"}}`, ctx{}, true},
		{"StringNotEquals on another value: true", `{"StringNotEquals":{"kms:ViaService":"sqs.us-east-1.amazonaws.com"}}`, ctx{"kms:ViaService": {"sns.us-east-1.amazonaws.com"}}, true},
		{"StringNotEquals on the value: false", `{"StringNotEquals":{"kms:ViaService":"sqs.us-east-1.amazonaws.com"}}`, ctx{"kms:ViaService": {"sqs.us-east-1.amazonaws.com"}}, false},
		{"StringLike wildcards", `{"StringLike":{"kms:ViaService":"sqs.*.amazonaws.com"}}`, ctx{"kms:ViaService": {"sqs.eu-west-1.amazonaws.com"}}, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:PrincipalArn":"ARN:AWS:IAM::111122223333:ROLE/PROCESSOR"}}`, ctx{"aws:PrincipalArn": {role}}, true},
		{"Bool false", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx{"aws:SecureTransport": {"false"}}, true},
		{"Bool as a JSON boolean", `{"Bool":{"aws:SecureTransport":false}}`, ctx{"aws:SecureTransport": {"true"}}, false},
		{"Bool on a missing key: false", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx{}, false},
		{"ArnEquals", `{"ArnEquals":{"aws:SourceArn":"arn:aws:events:us-east-1:111122223333:rule/r"}}`, ctx{"aws:SourceArn": {"arn:aws:events:us-east-1:111122223333:rule/r"}}, true},
		{"ArnLike per component", `{"ArnLike":{"kms:EncryptionContext:aws:logs:arn":"arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/tp-*"}}`, ctx{"kms:EncryptionContext:aws:logs:arn": {"arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/tp-processor"}}, true},
		{"ArnLike: a wildcard does not cross a colon", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*"}}`, ctx{"aws:SourceArn": {"arn:aws:sns:us-east-1:111122223333:t"}}, false},
		{"ArnNotLike", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}`, ctx{"aws:SourceArn": {"arn:aws:sqs:us-east-1:111122223333:q"}}, true},
		{"NumericLessThan", `{"NumericLessThan":{"aws:SourceAccount":"200000000000"}}`, ctx{"aws:SourceAccount": {acct}}, true},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"aws:SourceAccount":200000000000}}`, ctx{"aws:SourceAccount": {acct}}, false},
		{"DateGreaterThan", `{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx{"aws:CurrentTime": {"2026-12-02T18:00:00Z"}}, true},
		{"DateLessThan, epoch seconds", `{"DateLessThan":{"aws:CurrentTime":"1767225600"}}`, ctx{"aws:CurrentTime": {"2026-12-02T18:00:00Z"}}, false},
		{"Null true: the key is absent", `{"Null":{"aws:SourceArn":"true"}}`, ctx{}, true},
		{"Null false: the key is present", `{"Null":{"aws:SourceArn":"false"}}`, ctx{"aws:SourceArn": {"arn:aws:events:us-east-1:111122223333:rule/r"}}, true},
		{"two keys: both must hold", `{"StringEquals":{"aws:SourceAccount":"111122223333","kms:ViaService":"sqs.us-east-1.amazonaws.com"}}`, ctx{"aws:SourceAccount": {acct}}, false},
		{"two operators: both must hold", `{"StringEquals":{"aws:SourceAccount":"111122223333"},"Bool":{"aws:SecureTransport":"true"}}`, ctx{"aws:SourceAccount": {acct}, "aws:SecureTransport": {"true"}}, true},
		{"ForAnyValue: one value matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctx{"aws:TagKeys": {"cost", "team"}}, true},
		{"ForAnyValue on a missing key: false", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`, ctx{}, false},
		{"ForAllValues: every value matches", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctx{"aws:TagKeys": {"env", "team"}}, true},
		{"ForAllValues: one does not", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctx{"aws:TagKeys": {"env", "cost"}}, false},
		{"ForAllValues on a missing key: true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`, ctx{}, true},
		{"encryption context keys by prefix", `{"StringEquals":{"kms:EncryptionContext:aws:sqs:arn":"` + queue + `"}}`, ctx{"kms:EncryptionContext:aws:sqs:arn": {queue}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := parse(t, "id", `{"Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":`+tt.condition+`}}`)
			got, err := authz.Evaluate(authz.Request{Caller: authz.Caller{ARN: role}, Action: "sqs:SendMessage", Resource: queue, Context: tt.context},
				authz.Policies{Identity: []*authz.Policy{p}})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Effect == authz.Allow, got.Reason)
		})
	}
}

// TestUnknownConditionsRefuseLoudly: an operator or key the local AWS does
// not evaluate is an error naming it, never an allow.
func TestUnknownConditionsRefuseLoudly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ condition, names string }{
		{`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "IpAddress"},
		{`{"StringEquals":{"aws:SourceVpce":"vpce-1"}}`, "aws:SourceVpce"},
		{`{"ForSomeValues:StringEquals":{"aws:TagKeys":"x"}}`, "ForSomeValues:StringEquals"},
		{`{"Bool":{"aws:SecureTransport":"maybe"}}`, "maybe"},
	} {
		p := parse(t, "id", `{"Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":`+c.condition+`}}`)
		_, err := authz.Evaluate(authz.Request{Caller: authz.Caller{ARN: role}, Action: "sqs:SendMessage", Resource: queue,
			Context: map[string][]string{"aws:SecureTransport": {"true"}}}, authz.Policies{Identity: []*authz.Policy{p}})
		require.Error(t, err, c.condition)
		assert.Contains(t, err.Error(), c.names)
	}
}

func TestParseRefusesWhatIsNoPolicy(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{`{`, `{"Version":"2012-10-17"}`, `{"Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}`} {
		_, err := authz.Parse("p", []byte(doc))
		assert.Error(t, err, doc)
	}
}
