package localaws_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// TestResourceAndKeyPoliciesDecide: a KMS-encrypted queue whose policy
// denies plain HTTP and lets one role send directly, with a key policy
// that delegates to IAM and lets that role use the key through SQS only
// (the module's ingest queue and key, in small). Roles send to it over
// HTTPS or plain HTTP. Bare kumo lets every one of them send; the local
// AWS decides as AWS documents: the TLS deny refuses plain HTTP whoever
// calls, the queue policy alone lets the named role send, an identity
// policy without the key refuses with KmsAccessDenied, a stranger gets
// AccessDenied.
func TestResourceAndKeyPoliciesDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type sender struct {
		name     string
		identity string // its role policy; "" none
		https    bool
	}
	const sendAndKey = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"},` +
		`{"Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"sqs.us-east-1.amazonaws.com"}}}]}`
	senders := []sender{
		{"iam-producer", sendAndKey, true},
		{"iam-producer-plain-http", sendAndKey, false},
		{"named-by-the-queue", "", true},
		{"no-key-use", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`, true},
		{"stranger", "", true},
	}
	code := func(err error) string {
		var apiErr smithy.APIError
		switch {
		case err == nil:
			return ""
		case errors.As(err, &apiErr):
			return apiErr.ErrorCode()
		}
		return err.Error()
	}

	t.Run("bare kumo lets every one send", func(t *testing.T) {
		t.Parallel()
		bare := upstream.NewServer()
		t.Cleanup(bare.Close)
		q, err := sqs.NewFromConfig(localawstest.Config(bare.URL)).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("sealed"))})
		require.NoError(t, err)
		for _, s := range senders {
			role := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(bare.URL), Credentials: credentials.NewStaticCredentialsProvider("ASIA"+s.name, "x", "")}
			_, err := sqs.NewFromConfig(role).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")})
			assert.NoError(t, err, s.name)
		}
	})

	srv := localawstest.New(t, localaws.Options{})
	admin := srv.ClientConfig()
	roleARN := map[string]string{}
	for _, s := range senders {
		name := testenv.Unique(s.name)
		r, err := iam.NewFromConfig(admin).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name,
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`)})
		require.NoError(t, err)
		if s.identity != "" {
			_, err = iam.NewFromConfig(admin).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("p"), PolicyDocument: aws.String(s.identity)})
			require.NoError(t, err)
		}
		roleARN[s.name] = aws.ToString(r.Role.Arn)
	}
	named := roleARN["named-by-the-queue"]
	key, err := kms.NewFromConfig(admin).CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Sid":"Producer","Effect":"Allow","Principal":{"AWS":"` + named + `"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*",` +
		`"Condition":{"StringEquals":{"kms:ViaService":"sqs.us-east-1.amazonaws.com"}}}]}`)})
	require.NoError(t, err)
	queueName := testenv.Unique("sealed")
	queueARN := "arn:aws:sqs:us-east-1:000000000000:" + queueName
	q, err := sqs.NewFromConfig(admin).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &queueName, Attributes: map[string]string{
		"KmsMasterKeyId": aws.ToString(key.KeyMetadata.Arn),
		"Policy": `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"` + queueARN + `","Condition":{"Bool":{"aws:SecureTransport":"false"}}},` +
			`{"Sid":"ProducersSend","Effect":"Allow","Principal":{"AWS":"` + named + `"},"Action":"sqs:SendMessage","Resource":"` + queueARN + `"}]}`,
	}})
	require.NoError(t, err)

	trusting := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = &tls.Config{RootCAs: srv.Authority.CertPool(), MinVersion: tls.VersionTLS12}
	})
	for _, tt := range []struct {
		sender string
		want   string // "" sent, else the error code
	}{
		{"iam-producer", ""},
		{"iam-producer-plain-http", "AccessDenied"},
		{"named-by-the-queue", ""},
		{"no-key-use", "KMS.AccessDeniedException"}, // KmsAccessDenied, by its query-compatible code
		{"stranger", "AccessDenied"},
	} {
		t.Run(tt.sender, func(t *testing.T) {
			var s sender
			for _, c := range senders {
				if c.name == tt.sender {
					s = c
				}
			}
			assumed, err := sts.NewFromConfig(admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN[s.name]), RoleSessionName: aws.String(s.name)})
			require.NoError(t, err)
			c := assumed.Credentials
			role := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))}
			if s.https {
				role.BaseEndpoint, role.HTTPClient = aws.String(srv.TLSURL), trusting
			}
			_, err = sqs.NewFromConfig(role).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")})
			assert.Equal(t, tt.want, code(err), "%v", err)
			var kmsDenied *sqstypes.KmsAccessDenied
			assert.Equal(t, tt.sender == "no-key-use", errors.As(err, &kmsDenied), "the SDK's typed KmsAccessDenied")
		})
	}
}

// TestAssumeRoleMeetsTheTrustPolicy: AssumeRole issues keys of the role's
// session only when the role's trust policy lets the caller assume it.
// Bare kumo issues keys for any role, whatever its trust policy.
func TestAssumeRoleMeetsTheTrustPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	trusts := map[string]string{
		"account": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`,
		"lambda":  localawstest.LambdaTrust,
	}
	assume := func(t *testing.T, admin aws.Config, trust, session string) (*sts.AssumeRoleOutput, error) {
		t.Helper()
		roleARN := "arn:aws:iam::123456789012:role/missing"
		if trust != "" {
			name := testenv.Unique("assumed")
			r, err := iam.NewFromConfig(admin).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: aws.String(trusts[trust])})
			require.NoError(t, err)
			roleARN = aws.ToString(r.Role.Arn)
		}
		return sts.NewFromConfig(admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: &session})
	}

	t.Run("bare kumo lets anyone assume a role only Lambda may", func(t *testing.T) {
		t.Parallel()
		bare := upstream.NewServer()
		t.Cleanup(bare.Close)
		_, err := assume(t, localawstest.Config(bare.URL), "lambda", "operator")
		assert.NoError(t, err)
	})
	srv := localawstest.New(t, localaws.Options{})
	for _, tt := range []struct {
		name, trust, session, want string
	}{
		{"a trust policy naming the account", "account", "operator", ""},
		{"a trust policy naming only Lambda", "lambda", "operator", "AccessDenied"},
		{"a role that does not exist", "", "operator", "AccessDenied"},
		{"a session name AWS refuses", "account", "a", "ValidationError"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := assume(t, srv.ClientConfig(), tt.trust, tt.session)
			var apiErr smithy.APIError
			if tt.want != "" {
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.want, apiErr.ErrorCode())
				return
			}
			require.NoError(t, err)
			assert.Contains(t, aws.ToString(out.AssumedRoleUser.Arn), ":assumed-role/assumed-")
			assert.True(t, strings.HasSuffix(aws.ToString(out.AssumedRoleUser.Arn), "/operator"))
			caller, admin, known := srv.Principals.Lookup(aws.ToString(out.Credentials.AccessKeyId))
			assert.True(t, known && !admin, "the keys are the session's")
			assert.Equal(t, aws.ToString(out.AssumedRoleUser.Arn), caller.ARN)
		})
	}
}

// TestEventSourceMappingNeedsARoleThatMayPoll: CreateEventSourceMapping
// refuses a function whose role may not receive, delete and read the
// queue, as Lambda does. Bare kumo creates the mapping whatever the role.
func TestEventSourceMappingNeedsARoleThatMayPoll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	create := func(t *testing.T, cfg aws.Config, actions []string) error {
		t.Helper()
		name := testenv.Unique("poller")
		q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name})
		require.NoError(t, err)
		attrs, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
		require.NoError(t, err)
		policy := ""
		if len(actions) > 0 {
			doc, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": actions, "Resource": attrs.Attributes["QueueArn"]}}})
			require.NoError(t, err)
			policy = string(doc)
		}
		code, err := os.ReadFile(testenv.LambdaZip(t, "maintenance"))
		require.NoError(t, err)
		createFunction(ctx, t, cfg, name, executionRole(ctx, t, cfg, name, policy), code)
		_, err = lambda.NewFromConfig(cfg).CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &name, EventSourceArn: aws.String(attrs.Attributes["QueueArn"]), Enabled: aws.Bool(false)})
		return err //nolint:wrapcheck // compared as it is
	}
	t.Run("bare kumo maps a role that may not poll", func(t *testing.T) {
		t.Parallel()
		bare := upstream.NewServer()
		t.Cleanup(bare.Close)
		assert.NoError(t, create(t, localawstest.Config(bare.URL), nil))
	})
	srv := localawstest.New(t, localaws.Options{})
	for _, tt := range []struct {
		name    string
		actions []string
		want    string // "" created, else the message
	}{
		{"a role that may receive, delete and read", []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}, ""},
		{"a role without any", nil, "The provided execution role does not have permissions to call ReceiveMessage on SQS"},
		{"a role that may not delete", []string{"sqs:ReceiveMessage", "sqs:GetQueueAttributes"}, "The provided execution role does not have permissions to call DeleteMessage on SQS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := create(t, srv.ClientConfig(), tt.actions)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			var apiErr smithy.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "InvalidParameterValueException", apiErr.ErrorCode())
			assert.Equal(t, tt.want, apiErr.ErrorMessage())
		})
	}
}
