package kms_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// gaps are this service's rows of the local AWS's gap table (its README):
// each check fails on bare kumo and passes through the layer.
var gaps = []localawstest.Gap{
	{Name: "KMS refuses a key policy naming a principal that does not exist (CreateKey, PutKeyPolicy)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		real, ghost, err := localawstest.ExistingAndGhost(ctx, url)
		if err != nil {
			return err
		}
		k := kms.NewFromConfig(localawstest.Config(url))
		_, err = k.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(localawstest.PrincipalPolicy(ghost, "kms:Decrypt", "*"))})
		if err := localawstest.RefusedWith("CreateKey naming "+ghost, err, "MalformedPolicyDocumentException"); err != nil {
			return err
		}
		key, err := k.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(localawstest.PrincipalPolicy(real, "kms:Decrypt", "*"))})
		if err != nil {
			return fmt.Errorf("CreateKey naming %s: %w", real, err)
		}
		_, err = k.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.KeyMetadata.KeyId, PolicyName: aws.String("default"),
			Policy: aws.String(localawstest.PrincipalPolicy(ghost, "kms:Decrypt", "*"))})
		return localawstest.RefusedWith("PutKeyPolicy naming "+ghost, err, "MalformedPolicyDocumentException")
	}},
	{Name: "KMS refuses a key policy that would lock the caller out, unless the check is bypassed (CreateKey, PutKeyPolicy)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		real, _, err := localawstest.ExistingAndGhost(ctx, url)
		if err != nil {
			return err
		}
		k := kms.NewFromConfig(localawstest.Config(url))
		onlyRole := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + real + `"},"Action":"kms:*","Resource":"*"}]}`
		_, err = k.CreateKey(ctx, &kms.CreateKeyInput{Policy: &onlyRole})
		if err := localawstest.RefusedWith("CreateKey with a policy for one role only", err, "MalformedPolicyDocumentException"); err != nil {
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
		return localawstest.RefusedWith("PutKeyPolicy denying PutKeyPolicy to everyone", err, "MalformedPolicyDocumentException")
	}},
	{Name: "KMS key metadata carries CustomerMasterKeySpec", Check: func(ctx context.Context, t *testing.T, url string) error {
		k := kms.NewFromConfig(localawstest.Config(url))
		key, err := k.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			return err
		}
		got, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyMetadata.KeyId})
		if err != nil {
			return err
		}
		if got.KeyMetadata.CustomerMasterKeySpec != "SYMMETRIC_DEFAULT" { //nolint:staticcheck // deprecated by AWS, still returned, read by the provider
			return fmt.Errorf("CustomerMasterKeySpec %q", got.KeyMetadata.CustomerMasterKeySpec) //nolint:staticcheck // as above
		}
		return nil
	}},
	{Name: "KMS EnableKeyRotation and GetKeyRotationStatus", Check: func(ctx context.Context, t *testing.T, url string) error {
		k := kms.NewFromConfig(localawstest.Config(url))
		key, err := k.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			return err
		}
		if _, err := k.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyMetadata.KeyId}); err != nil {
			return err
		}
		st, err := k.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: key.KeyMetadata.KeyId})
		if err != nil {
			return err
		}
		if !st.KeyRotationEnabled {
			return errors.New("rotation reads back disabled")
		}
		return nil
	}},
}

func TestGapsFilled(t *testing.T) { localawstest.CheckGaps(t, gaps) }
