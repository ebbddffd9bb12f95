package localaws_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// principalPolicy is a resource policy letting principal do action on resource.
func principalPolicy(principal, action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"*","Resource":"*"},` +
		`{"Sid":"Named","Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"` + action + `","Resource":"` + resource + `"}]}`
}

// refusedWith checks err is AWS's refusal code.
func refusedWith(what string, err error, code string) error {
	var apiErr smithy.APIError
	switch {
	case err == nil:
		return fmt.Errorf("%s: accepted, AWS refuses it with %s", what, code)
	case !errors.As(err, &apiErr) || apiErr.ErrorCode() != code:
		return fmt.Errorf("%s: want %s, got %w", what, code, err)
	}
	return nil
}

// existingAndGhost creates a role and returns its ARN and the ARN of one that does not exist.
func existingAndGhost(ctx context.Context, url string) (string, string, error) {
	name := testenv.Unique("producer")
	role, err := iam.NewFromConfig(configFor(url)).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: aws.String(lambdaTrust)})
	if err != nil {
		return "", "", err
	}
	arn := aws.ToString(role.Role.Arn)
	return arn, arn[:len(arn)-len(name)] + "ghost-" + name, nil
}

// policyChecks are the rows of the gap table for resource and key
// policies naming principals that do not exist.
var policyChecks = []compatCheck{
	{"KMS refuses a key policy naming a principal that does not exist (CreateKey, PutKeyPolicy)", func(ctx context.Context, _ *testing.T, url string) error {
		real, ghost, err := existingAndGhost(ctx, url)
		if err != nil {
			return err
		}
		k := kms.NewFromConfig(configFor(url))
		_, err = k.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(principalPolicy(ghost, "kms:Decrypt", "*"))})
		if err := refusedWith("CreateKey naming "+ghost, err, "MalformedPolicyDocumentException"); err != nil {
			return err
		}
		key, err := k.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(principalPolicy(real, "kms:Decrypt", "*"))})
		if err != nil {
			return fmt.Errorf("CreateKey naming %s: %w", real, err)
		}
		_, err = k.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.KeyMetadata.KeyId, PolicyName: aws.String("default"),
			Policy: aws.String(principalPolicy(ghost, "kms:Decrypt", "*"))})
		return refusedWith("PutKeyPolicy naming "+ghost, err, "MalformedPolicyDocumentException")
	}},
	{"SQS refuses a queue policy naming a principal that does not exist (CreateQueue, SetQueueAttributes)", func(ctx context.Context, _ *testing.T, url string) error {
		real, ghost, err := existingAndGhost(ctx, url)
		if err != nil {
			return err
		}
		q := sqs.NewFromConfig(configFor(url))
		name := testenv.Unique("queue")
		arn := "arn:aws:sqs:us-east-1:000000000000:" + name
		_, err = q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: map[string]string{"Policy": principalPolicy(ghost, "sqs:SendMessage", arn)}})
		if err := refusedWith("CreateQueue naming "+ghost, err, "InvalidAttributeValue"); err != nil {
			return err
		}
		created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: map[string]string{"Policy": principalPolicy(real, "sqs:SendMessage", arn)}})
		if err != nil {
			return fmt.Errorf("CreateQueue naming %s: %w", real, err)
		}
		_, err = q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: created.QueueUrl, Attributes: map[string]string{"Policy": principalPolicy(ghost, "sqs:SendMessage", arn)}})
		return refusedWith("SetQueueAttributes naming "+ghost, err, "InvalidAttributeValue")
	}},
	{"SNS refuses a topic policy naming a principal that does not exist (CreateTopic, SetTopicAttributes)", func(ctx context.Context, _ *testing.T, url string) error {
		real, ghost, err := existingAndGhost(ctx, url)
		if err != nil {
			return err
		}
		s := sns.NewFromConfig(configFor(url))
		name := testenv.Unique("topic")
		arn := "arn:aws:sns:us-east-1:000000000000:" + name
		_, err = s.CreateTopic(ctx, &sns.CreateTopicInput{Name: &name, Attributes: map[string]string{"Policy": principalPolicy(ghost, "sns:Publish", arn)}})
		if err := refusedWith("CreateTopic naming "+ghost, err, "InvalidParameter"); err != nil {
			return err
		}
		created, err := s.CreateTopic(ctx, &sns.CreateTopicInput{Name: &name, Attributes: map[string]string{"Policy": principalPolicy(real, "sns:Publish", arn)}})
		if err != nil {
			return fmt.Errorf("CreateTopic naming %s: %w", real, err)
		}
		_, err = s.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: created.TopicArn, AttributeName: aws.String("Policy"),
			AttributeValue: aws.String(principalPolicy(ghost, "sns:Publish", arn))})
		return refusedWith("SetTopicAttributes naming "+ghost, err, "InvalidParameter")
	}},
}

// identityRefusals are the rows of the refusal table for KMS's lockout
// safety check and IAM's identity-based policies and role deletion.
var identityRefusals = []compatCheck{
	{"KMS refuses a key policy that would lock the caller out, unless the check is bypassed (CreateKey, PutKeyPolicy)", func(ctx context.Context, _ *testing.T, url string) error {
		real, _, err := existingAndGhost(ctx, url)
		if err != nil {
			return err
		}
		k := kms.NewFromConfig(configFor(url))
		onlyRole := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + real + `"},"Action":"kms:*","Resource":"*"}]}`
		_, err = k.CreateKey(ctx, &kms.CreateKeyInput{Policy: &onlyRole})
		if err := refusedWith("CreateKey with a policy for one role only", err, "MalformedPolicyDocumentException"); err != nil {
			return err
		}
		if _, err := k.CreateKey(ctx, &kms.CreateKeyInput{Policy: &onlyRole, BypassPolicyLockoutSafetyCheck: true}); err != nil {
			return fmt.Errorf("CreateKey bypassing the lockout check: %w", err)
		}
		account := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"kms:*","Resource":"*"}]}`
		key, err := k.CreateKey(ctx, &kms.CreateKeyInput{Policy: &account})
		if err != nil {
			return fmt.Errorf("CreateKey naming the account: %w", err)
		}
		denied := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},` +
			`{"Effect":"Deny","Principal":"*","Action":"kms:PutKeyPolicy","Resource":"*"}]}`
		_, err = k.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.KeyMetadata.Arn, PolicyName: aws.String("default"), Policy: &denied})
		return refusedWith("PutKeyPolicy denying PutKeyPolicy to everyone", err, "MalformedPolicyDocumentException")
	}},
	{"IAM refuses an identity-based policy with a principal or a resource that is not an ARN (PutRolePolicy, CreatePolicy)", func(ctx context.Context, _ *testing.T, url string) error {
		c := iam.NewFromConfig(configFor(url))
		name := testenv.Unique("role")
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: aws.String(lambdaTrust)}); err != nil {
			return err
		}
		withPrincipal := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*"}]}`
		_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("p"), PolicyDocument: &withPrincipal})
		if err := refusedWith("PutRolePolicy with a Principal", err, "MalformedPolicyDocument"); err != nil {
			return err
		}
		byName := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":["arn:aws:sns:us-east-1:000000000000:a","alerts"]}]}`
		_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(testenv.Unique("policy")), PolicyDocument: &byName})
		if err := refusedWith("CreatePolicy with a resource named, not an ARN", err, "MalformedPolicyDocument"); err != nil {
			return err
		}
		fine := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sns:Publish","NotResource":"arn:aws:sns:us-east-1:000000000000:a"}}`
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("p"), PolicyDocument: &fine}); err != nil {
			return fmt.Errorf("PutRolePolicy of a valid policy: %w", err)
		}
		return nil
	}},
	{"IAM refuses to delete a role that still has an inline policy (DeleteRole)", func(ctx context.Context, _ *testing.T, url string) error {
		c := iam.NewFromConfig(configFor(url))
		name := testenv.Unique("role")
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: aws.String(lambdaTrust)}); err != nil {
			return err
		}
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}`
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("p"), PolicyDocument: &doc}); err != nil {
			return err
		}
		_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &name})
		if err := refusedWith("DeleteRole with an inline policy", err, "DeleteConflict"); err != nil {
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
}
