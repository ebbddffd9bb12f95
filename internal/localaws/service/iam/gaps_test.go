package iam_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// gaps are this service's rows of the local AWS's gap table (its README):
// each check fails on bare kumo and passes through the layer.
var gaps = []localawstest.Gap{
	{Name: "IAM refuses an identity-based policy with a principal or a resource that is not an ARN (PutRolePolicy, CreatePolicy)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		c := iam.NewFromConfig(localawstest.Config(url))
		name := localawstest.Unique("role")
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: aws.String(localawstest.LambdaTrust)}); err != nil {
			return err
		}
		withPrincipal := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*"}]}`
		_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("p"), PolicyDocument: &withPrincipal})
		if err := localawstest.RefusedWith("PutRolePolicy with a Principal", err, "MalformedPolicyDocument"); err != nil {
			return err
		}
		byName := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":["arn:aws:sns:us-east-1:000000000000:a","alerts"]}]}`
		_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(localawstest.Unique("policy")), PolicyDocument: &byName})
		if err := localawstest.RefusedWith("CreatePolicy with a resource named, not an ARN", err, "MalformedPolicyDocument"); err != nil {
			return err
		}
		fine := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sns:Publish","NotResource":"arn:aws:sns:us-east-1:000000000000:a"}}`
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("p"), PolicyDocument: &fine}); err != nil {
			return fmt.Errorf("PutRolePolicy of a valid policy: %w", err)
		}
		return nil
	}},
	{Name: "IAM refuses to delete a role that still has an inline policy (DeleteRole)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		c := iam.NewFromConfig(localawstest.Config(url))
		name := localawstest.Unique("role")
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: aws.String(localawstest.LambdaTrust)}); err != nil {
			return err
		}
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}`
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("p"), PolicyDocument: &doc}); err != nil {
			return err
		}
		_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &name})
		if err := localawstest.RefusedWith("DeleteRole with an inline policy", err, "DeleteConflict"); err != nil {
			return err
		}
		if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: &name, PolicyName: aws.String("p")}); err != nil {
			return err
		}
		if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &name}); err != nil {
			return fmt.Errorf("DeleteRole once the policy is gone: %w", err)
		}
		return nil
	}},
	{Name: "IAM refuses a trust policy naming a principal that does not exist (CreateRole, UpdateAssumeRolePolicy)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		real, ghost, err := localawstest.ExistingAndGhost(ctx, url)
		if err != nil {
			return err
		}
		trust := func(principal string) *string {
			return aws.String(strings.ReplaceAll(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"@"},"Action":"sts:AssumeRole"}]}`, "@", principal))
		}
		roles := iam.NewFromConfig(localawstest.Config(url))
		name := localawstest.Unique("bridge")
		_, err = roles.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: trust(ghost)})
		if err := localawstest.RefusedWith("CreateRole trusting "+ghost, err, "MalformedPolicyDocument"); err != nil {
			return err
		}
		if _, err := roles.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: trust(real)}); err != nil {
			return err
		}
		_, err = roles.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &name, PolicyDocument: trust(ghost)})
		return localawstest.RefusedWith("UpdateAssumeRolePolicy trusting "+ghost, err, "MalformedPolicyDocument")
	}},
}

func TestGapsFilled(t *testing.T) { localawstest.CheckGaps(t, gaps) }
