package localaws_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// TestKeepAliveConnectionsSurviveLoad sends many concurrent, keep-alive,
// provider-shaped calls over HTTPS and plain HTTP, with no retries: every
// answer must arrive whole. Provider-shaped means the SDK the Terraform
// provider uses, reading what a refresh reads (a role's inline policy, a
// topic's attributes, a key's policy, each several KB as the module's are),
// through a client whose writer is as late as it can be (hastyTransport):
// the race that made the provider fail with "use of closed network
// connection" is then lost on every call, not one in thousands. Fails when
// the local AWS sends answers larger than the client's read buffer as they
// are (before answers.go, every one of those calls broke).
func TestKeepAliveConnectionsSurviveLoad(t *testing.T) {
	t.Parallel()
	srv := localawstest.New(t, localaws.Options{Log: zap.NewNop()})
	ctx := context.Background()
	admin := srv.ClientConfig()
	role, topicName := testenv.Unique("role"), testenv.Unique("topic")
	_, err := iam.NewFromConfig(admin).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &role, AssumeRolePolicyDocument: aws.String(localawstest.LambdaTrust)})
	require.NoError(t, err)
	_, err = iam.NewFromConfig(admin).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: aws.String("large"),
		PolicyDocument: aws.String(largePolicy("arn:aws:sqs:us-east-1:000000000000:queue-%02d", nil))})
	require.NoError(t, err)
	topic, err := sns.NewFromConfig(admin).CreateTopic(ctx, &sns.CreateTopicInput{Name: &topicName})
	require.NoError(t, err)
	root := map[string]string{"AWS": "arn:aws:iam::000000000000:root"}
	_, err = sns.NewFromConfig(admin).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn,
		AttributeName: aws.String("Policy"), AttributeValue: aws.String(largePolicy(*topic.TopicArn+"-%02d", root))})
	require.NoError(t, err)
	key, err := kms.NewFromConfig(admin).CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(largePolicy("*", root))})
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
		cfg.HTTPClient = &http.Client{Transport: hastyTransport{next: client.GetTransport()}}
		if secure {
			cfg.BaseEndpoint = aws.String(srv.TLSURL)
		}
		i, s, k := iam.NewFromConfig(cfg), sns.NewFromConfig(cfg), kms.NewFromConfig(cfg)
		ops := []func() error{
			func() error {
				_, err := i.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &role, PolicyName: aws.String("large")})
				return err
			},
			func() error { _, err := i.GetRole(ctx, &iam.GetRoleInput{RoleName: &role}); return err },
			func() error {
				_, err := s.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic.TopicArn})
				return err
			},
			func() error {
				_, err := k.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: key.KeyMetadata.KeyId, PolicyName: aws.String("default")})
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

// largePolicy is a policy of 40 statements, about 6 KB, on resources made
// from format and the statement's number.
func largePolicy(format string, principal map[string]string) string {
	statements := make([]map[string]any, 0, 40)
	for n := range 40 {
		st := map[string]any{"Sid": fmt.Sprintf("Statement%02d", n), "Effect": "Allow", "Action": "*", "Resource": fmt.Sprintf(format, n)}
		if format == "*" {
			st["Action"] = "kms:*"
			st["Resource"] = "*"
		} else {
			st["Action"] = []string{"sqs:SendMessage", "sns:Publish", "sqs:GetQueueAttributes"}
		}
		if principal != nil {
			st["Principal"] = principal
		}
		statements = append(statements, st)
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(doc)
}

// hastyTransport is the Terraform provider's HTTP client, with the one
// thing that made it lose answers made certain. Its SDK (smithy-go's
// ClientHandler) closes the request body as soon as Do returns with the
// answer's headers, and the closed body then answers WriteTo with io.EOF
// (smithy-go transport/http/internal/io/safe.go). net/http's writer, after
// the Content-Length bytes, calls WriteTo to check that nothing follows:
// when that comes after the close, it takes io.EOF for a failed request and
// closes the connection under the reader. Here the check always comes after.
type hastyTransport struct{ next http.RoundTripper }

func (h hastyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return h.next.RoundTrip(req) //nolint:wrapcheck // a transport passes its errors through
	}
	body := &hastyBody{ReadCloser: req.Body, closed: make(chan struct{})}
	out := req.Clone(req.Context())
	out.Body = body
	resp, err := h.next.RoundTrip(out)
	body.Close()     // as the SDK does once Do returns
	return resp, err //nolint:wrapcheck // a transport passes its errors through
}

// hastyBody is a request body whose WriteTo (net/http's check for bytes
// after the Content-Length) waits for the body to be closed, and then
// answers as smithy-go's closed body does.
type hastyBody struct {
	io.ReadCloser
	once   sync.Once
	closed chan struct{}
}

func (b *hastyBody) WriteTo(io.Writer) (int64, error) {
	<-b.closed
	return 0, io.EOF
}

func (b *hastyBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}
