package localawstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// Gap is one row of the local AWS's gap table (its README): what kumo
// lacks or allows where AWS refuses, checked by Check against the server
// at url.
type Gap struct {
	Name  string
	Check func(ctx context.Context, t *testing.T, url string) error
}

// CheckGaps runs each gap's check on bare kumo, where it must fail (else
// kumo already does it and the layer's filler should go), and through the
// layer, where it must pass. A service's package checks its own rows.
func CheckGaps(t *testing.T, gaps []Gap) {
	t.Helper()
	t.Parallel()
	bare := upstream.NewServer() // serialised with the layer's own kumo start
	t.Cleanup(bare.Close)
	layer := New(t, localaws.Options{})
	for _, g := range gaps {
		t.Run(g.Name, func(t *testing.T) {
			ctx := context.Background()
			assert.Error(t, g.Check(ctx, t, bare.URL), "bare kumo already does this: drop the gap from the layer")
			assert.NoError(t, g.Check(ctx, t, layer.URL), "the layer does not fill this gap")
		})
	}
}

// Config is an SDK configuration for the server at url as the account's
// administrator (what Server.ClientConfig gives, for any server, bare
// kumo included).
func Config(url string) aws.Config {
	return principals.AdminConfig(url, localaws.DefaultRegion)
}

// RefusedWith checks err is AWS's refusal code for what.
func RefusedWith(what string, err error, code string) error {
	var apiErr smithy.APIError
	switch {
	case err == nil:
		return fmt.Errorf("%s: accepted, AWS refuses it with %s", what, code)
	case !errors.As(err, &apiErr) || apiErr.ErrorCode() != code:
		return fmt.Errorf("%s: want %s, got %w", what, code, err)
	}
	return nil
}

// LambdaTrust is a trust policy letting Lambda assume a role.
const LambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// PrincipalPolicy is a resource policy letting the account's root do
// anything and principal do action on resource.
func PrincipalPolicy(principal, action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + awsapi.Account + `:root"},"Action":"*","Resource":"*"},` +
		`{"Sid":"Named","Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"` + action + `","Resource":"` + resource + `"}]}`
}

// ExistingAndGhost creates a role and returns its ARN and the ARN of one
// that does not exist.
func ExistingAndGhost(ctx context.Context, url string) (string, string, error) {
	name := Unique("producer")
	role, err := iam.NewFromConfig(Config(url)).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: aws.String(LambdaTrust)})
	if err != nil {
		return "", "", fmt.Errorf("create role %s: %w", name, err)
	}
	arn := aws.ToString(role.Role.Arn)
	return arn, arn[:len(arn)-len(name)] + "ghost-" + name, nil
}

// Unique returns prefix with a random suffix: the local AWS keeps one state
// per process (kumo's), so parallel tests name what they create apart.
func Unique(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + "-" + hex.EncodeToString(b)
}
