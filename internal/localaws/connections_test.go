package localaws_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// TestKeepAliveConnectionsSurviveLoad sends many concurrent, keep-alive,
// provider-shaped calls (the SDK the Terraform provider uses, reads of
// IAM, SNS and KMS as a refresh makes them) over HTTPS and plain HTTP, with
// no retries: every answer must arrive whole.
func TestKeepAliveConnectionsSurviveLoad(t *testing.T) {
	t.Parallel()
	srv, err := localaws.Start(localaws.Options{Addr: "127.0.0.1:0", Log: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	admin := srv.ClientConfig()
	role := testenv.Unique("role")
	_, err = iam.NewFromConfig(admin).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &role, AssumeRolePolicyDocument: aws.String(lambdaTrust)})
	require.NoError(t, err)
	topic, err := sns.NewFromConfig(admin).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(testenv.Unique("topic"))})
	require.NoError(t, err)
	key, err := kms.NewFromConfig(admin).CreateKey(ctx, &kms.CreateKeyInput{})
	require.NoError(t, err)

	const workers, calls = 24, 60
	var broken atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	for _, secure := range []bool{true, false} {
		cfg := srv.ClientConfig()
		cfg.RetryMaxAttempts = 1 // a broken answer must show, not be retried away
		client := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.MaxIdleConnsPerHost = 8 // fewer connections than workers: each is reused, kept alive
			tr.TLSClientConfig = &tls.Config{RootCAs: srv.Authority.CertPool(), MinVersion: tls.VersionTLS12}
		})
		cfg.HTTPClient = client
		if secure {
			cfg.BaseEndpoint = aws.String(srv.TLSURL)
		}
		i, s, k := iam.NewFromConfig(cfg), sns.NewFromConfig(cfg), kms.NewFromConfig(cfg)
		ops := []func() error{
			func() error { _, err := i.GetRole(ctx, &iam.GetRoleInput{RoleName: &role}); return err },
			func() error {
				_, err := i.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &role})
				return err
			},
			func() error {
				_, err := s.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic.TopicArn})
				return err
			},
			func() error {
				_, err := s.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: topic.TopicArn})
				return err
			},
			func() error {
				_, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyMetadata.KeyId})
				return err
			},
		}
		for w := range workers {
			wg.Go(func() {
				for c := range calls {
					if err := ops[(w+c)%len(ops)](); err != nil {
						broken.Add(1)
						firstErr.Do(func() { t.Logf("first broken answer (secure %v): %v", secure, err) })
					}
				}
			})
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the calls did not finish in 3 minutes")
	}
	assert.Zero(t, broken.Load(), "of %d calls", 2*workers*calls)
}
