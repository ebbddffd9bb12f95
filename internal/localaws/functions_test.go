package localaws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
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
	srv, err := localaws.Start(localaws.Options{Addr: "127.0.0.1:0", Log: zaptest.NewLogger(t)})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		t.Run(region, func(t *testing.T) {
			cfg := srv.ClientConfig()
			cfg.Region = region
			name := testenv.Unique("region")
			role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name,
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
			require.NoError(t, err)
			l := lambda.NewFromConfig(cfg)
			_, err = l.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: &name, Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023,
				Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: code}})
			require.NoError(t, err)
			out, err := l.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: []byte(`{"env_name":"AWS_REGION"}`)})
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
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-tags", "lambda.norpc", "-o", bin, "./executor/testdata/handler")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	var zip bytes.Buffer
	require.NoError(t, lambdazip.Write(&zip, []lambdazip.File{{Name: "bootstrap", Path: bin}}))
	return zip.Bytes()
}
