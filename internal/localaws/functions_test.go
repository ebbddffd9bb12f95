package localaws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// TestFunctionRunsInItsRegion: AWS_REGION is "the AWS Region where the
// Lambda function is executed" (Lambda Developer Guide, "Defined runtime
// environment variables"), the region of the endpoint that created it.
// A function created by a client of eu-west-1 reads eu-west-1, one of
// us-east-1 reads us-east-1, whatever region the local AWS started in
// (kms:ViaService on the function's own calls depends on it).
func TestFunctionRunsInItsRegion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	code := envHandlerZip(t)
	srv := localawstest.New(t, localaws.Options{})
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		t.Run(region, func(t *testing.T) {
			cfg := srv.ClientConfig()
			cfg.Region = region
			name := testenv.Unique("region")
			createFunction(ctx, t, cfg, name, executionRole(ctx, t, cfg, name, ""), code)
			out, err := lambda.NewFromConfig(cfg).Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: []byte(`{"env_name":"AWS_REGION"}`)})
			require.NoError(t, err)
			require.Nil(t, out.FunctionError, string(out.Payload))
			var got struct{ Value string }
			require.NoError(t, json.Unmarshal(out.Payload, &got))
			assert.Equal(t, region, got.Value)
		})
	}
}

// envHandlerZip builds the executor's test handler (it answers the
// environment variable an event names) as a Lambda zip for this machine.
func envHandlerZip(t *testing.T) []byte {
	t.Helper()
	return handlerZip(t, "./executor/testdata/handler")
}

// handlerZip builds the Go handler in pkg (a folder of this package) as a
// Lambda zip for this machine.
func handlerZip(t *testing.T, pkg string) []byte {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-tags", "lambda.norpc", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	var zip bytes.Buffer
	require.NoError(t, lambdazip.Write(&zip, []lambdazip.File{{Name: "bootstrap", Path: bin}}))
	return zip.Bytes()
}

// TestOnFailureDestinationActsAsTheRole: Lambda sends the record of a
// failed asynchronous invocation to its on-failure queue "using the
// permissions of the function's execution role" (Lambda Developer Guide,
// "Adding a destination"), and a delivery error loses the record
// (DestinationDeliveryFailures). A role that may send (and use the
// queue's key through SQS) gets the record; one without sqs:SendMessage,
// or without the key, does not, and the refusal is recorded.
func TestOnFailureDestinationActsAsTheRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	code := envHandlerZip(t)
	srv := localawstest.New(t, localaws.Options{})
	admin := srv.ClientConfig()
	key, err := kms.NewFromConfig(admin).CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`)})
	require.NoError(t, err)
	const send = `{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}`
	const useKey = `{"Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"sqs.us-east-1.amazonaws.com"}}}`
	for _, tt := range []struct {
		name       string
		statements string
		encrypted  bool
		refused    string // "" delivered, else the action refused
	}{
		{"a role that may send", send, false, ""},
		{"a role that may send and use the key", send + "," + useKey, true, ""},
		{"a role without sqs:SendMessage", useKey, false, "sqs:SendMessage"},
		{"a role without the key", send, true, "kms:GenerateDataKey"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := testenv.Unique("dest")
			attrs := map[string]string{}
			if tt.encrypted {
				attrs["KmsMasterKeyId"] = aws.ToString(key.KeyMetadata.Arn)
			}
			q, err := sqs.NewFromConfig(admin).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
			require.NoError(t, err)
			createFunction(ctx, t, admin, name, executionRole(ctx, t, admin, name, `{"Version":"2012-10-17","Statement":[`+tt.statements+`]}`), code)
			l := lambda.NewFromConfig(admin)
			_, err = l.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: &name, MaximumRetryAttempts: aws.Int32(0),
				DestinationConfig: &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: aws.String("arn:aws:sqs:us-east-1:000000000000:" + name)}}})
			require.NoError(t, err)
			_, err = l.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, InvocationType: lambdatypes.InvocationTypeEvent, Payload: []byte(`{"fail":true}`)})
			require.NoError(t, err)

			receive := func() []sqstypes.Message {
				out, err := sqs.NewFromConfig(admin).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
				require.NoError(t, err)
				return out.Messages
			}
			if tt.refused == "" {
				var got []sqstypes.Message
				require.Eventually(t, func() bool { got = receive(); return len(got) > 0 }, 20*time.Second, 10*time.Millisecond, "no record on the destination")
				assert.Contains(t, aws.ToString(got[0].Body), `"condition":"RetriesExhausted"`)
				return
			}
			require.Eventually(t, func() bool {
				for _, d := range srv.Access.Denials() {
					if strings.Contains(d.Principal, name) && d.Action == tt.refused {
						return true
					}
				}
				return false
			}, 20*time.Second, 10*time.Millisecond, "no %s refusal recorded", tt.refused)
			assert.Empty(t, receive(), "the record reached the destination")
		})
	}
}
