package test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/gruntwork-io/terratest/modules/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// validateProducers sends as producers do (contract README): a role with
// exactly producer_policy_json sends over TLS and its update is audited;
// the same policy without its key statement is refused by SQS's use of the
// key (KmsAccessDenied); a role with no policy is refused (AccessDenied).
// On the local AWS this holds only because it evaluates the queue policy
// (TLS only), the key policy and the roles' policies as AWS does.
func validateProducers(t *testing.T, tgt target, out outputs.Stack, prefix string) {
	t.Helper()
	require.NotEmpty(t, out.ProducerPolicyJSON, "output producer_policy_json")
	withoutKey := withoutStatement(t, out.ProducerPolicyJSON, "EncryptThroughSQS")
	trackingID := "P-" + prefix
	for _, p := range []struct {
		name, policy string
		denied       string // "" sends; else the error code refusing it
	}{
		{"producer", out.ProducerPolicyJSON, ""},
		{"producer-without-key", withoutKey, "KMS.AccessDeniedException"},
		{"stranger", "", "AccessDenied"},
	} {
		t.Run(p.name, func(t *testing.T) {
			cfg := tgt.assume(t, createRole(t, tgt, prefix+"-"+p.name, p.policy, out.IngestQueueARN), p.name)
			body := fmt.Sprintf(`{"tracking_id":%q,"event_id":%q,"status":"PICKED_UP","event_time":"2026-11-25T08:00:00Z"}`, trackingID, p.name)
			send := func() error {
				_, err := sqs.NewFromConfig(cfg).SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: &out.IngestQueueURL, MessageBody: &body})
				return err //nolint:wrapcheck // the code is what is compared
			}
			if p.denied == "" {
				// IAM changes reach every AWS endpoint within seconds: retry, not sleep.
				retry.DoWithRetry(t, "producer sends", 15, 2*time.Second, func() (string, error) { return "", send() })
				return
			}
			var apiErr smithy.APIError
			require.ErrorAs(t, send(), &apiErr)
			assert.Equal(t, p.denied, apiErr.ErrorCode(), apiErr.ErrorMessage())
		})
	}
	store := audit.NewStore(dynamodb.NewFromConfig(tgt.cfg), out.AuditTableName, 90)
	retry.DoWithRetry(t, "the producer's update audited", 30, 2*time.Second, func() (string, error) {
		rows, err := store.Trail(t.Context(), trackingID)
		if err != nil || len(rows) != 1 {
			return "", fmt.Errorf("%d rows for %s: %w", len(rows), trackingID, err)
		}
		return "", nil
	})
}

// withoutStatement is policy with statement sid removed.
func withoutStatement(t *testing.T, policy, sid string) string {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(policy), &doc))
	statements, _ := doc["Statement"].([]any)
	var kept []any
	for _, s := range statements {
		if m, _ := s.(map[string]any); m["Sid"] != sid {
			kept = append(kept, s)
		}
	}
	require.Len(t, kept, len(statements)-1, "statement %s in %s", sid, policy)
	doc["Statement"] = kept
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return string(b)
}

// createRole makes a role this account may assume, with policy ("" none),
// deleted when the test ends.
func createRole(t *testing.T, tgt target, name, policy, sameAccountARN string) string {
	t.Helper()
	parts := strings.SplitN(sameAccountARN, ":", 6)
	require.Len(t, parts, 6, sameAccountARN)
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:%s:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, parts[1], parts[4])
	roles := iam.NewFromConfig(tgt.cfg)
	r, err := roles.CreateRole(t.Context(), &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: &trust})
	require.NoError(t, err)
	t.Cleanup(func() { // t.Context() has ended by now
		if policy != "" {
			_, _ = roles.DeleteRolePolicy(context.Background(), &iam.DeleteRolePolicyInput{RoleName: &name, PolicyName: aws.String("send")})
		}
		_, err := roles.DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: &name})
		assert.NoError(t, err, "delete role %s", name)
	})
	if policy != "" {
		_, err = roles.PutRolePolicy(t.Context(), &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("send"), PolicyDocument: &policy})
		require.NoError(t, err)
	}
	return aws.ToString(r.Role.Arn)
}

// assume returns a configuration acting as a session of roleARN, over
// HTTPS (on the local AWS, trusting its certificate authority).
func (tg target) assume(t *testing.T, roleARN, session string) aws.Config {
	t.Helper()
	var out *sts.AssumeRoleOutput
	retry.DoWithRetry(t, "assume "+roleARN, 15, 2*time.Second, func() (string, error) {
		var err error
		out, err = sts.NewFromConfig(tg.cfg).AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: &session})
		return "", err //nolint:wrapcheck // retried as it is
	})
	c := out.Credentials
	cfg := tg.cfg.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if tg.endpoint != "" {
		cfg.BaseEndpoint = aws.String(strings.Replace(tg.endpoint, "http://", "https://", 1))
		pool := tg.localCA(t)
		cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		})
	}
	return cfg
}

// localCA reads the local AWS's certificate authority from its admin endpoint.
func (tg target) localCA(t *testing.T) *x509.CertPool {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, tg.endpoint+"/_localaws/ca.pem", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	pem, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		require.NoError(t, errors.New("no certificate at "+tg.endpoint+"/_localaws/ca.pem"))
	}
	return pool
}
