package localaws_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// executionRole creates a role named name that Lambda may assume, with
// policy inline unless it is "", and returns its ARN.
func executionRole(ctx context.Context, t *testing.T, cfg aws.Config, name, policy string) string {
	t.Helper()
	r, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: aws.String(localawstest.LambdaTrust)})
	require.NoError(t, err)
	if policy != "" {
		_, err = iam.NewFromConfig(cfg).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("inline"), PolicyDocument: &policy})
		require.NoError(t, err)
	}
	return aws.ToString(r.Role.Arn)
}

// createFunction creates a provided.al2023 function of zip with the role.
func createFunction(ctx context.Context, t *testing.T, cfg aws.Config, name, roleARN string, zip []byte) {
	t.Helper()
	_, err := lambda.NewFromConfig(cfg).CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: &name, Role: &roleARN, Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: zip}})
	require.NoError(t, err)
}
