package principals

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
)

// Directory reads the account's roles and users (kumo's IAM).
type Directory interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetUser(ctx context.Context, in *iam.GetUserInput, opts ...func(*iam.Options)) (*iam.GetUserOutput, error)
}

// ErrUnreadable is a policy document the principals of which cannot be read.
var ErrUnreadable = errors.New("policy document cannot be read")

// uniqueID is the form a deleted role's or user's principal takes in a
// policy: "This unique Principal ID has the prefix AIDA for IAM users, and
// AROA for IAM roles" (IAM knowledge center, "unknown principal format").
var uniqueID = regexp.MustCompile(`^(AIDA|AROA)[A-Z0-9]{12,}$`)

// Missing names the first AWS principal of a resource or key policy that
// does not exist, or "" when all do. AWS refuses such a policy: "The
// principals in the key policy must exist and be visible to KMS" (KMS
// API, PutKeyPolicy and CreateKey, Policy), SQS answers
// InvalidAttributeValue "Invalid value for the parameter Policy." and SNS
// "Invalid parameter: Policy Error: PrincipalNotFound". Roles and users
// are looked up (the local AWS is one account: any account a policy names
// is this one, README); an account, an assumed-role or federated session
// and "*" are taken as named; a unique ID of a deleted role or user, or a
// group (not a principal, IAM User Guide "Principal"), does not exist.
func Missing(ctx context.Context, dir Directory, doc string) (string, error) {
	p, err := authz.Parse("policy", []byte(doc))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	for _, arn := range p.AWSPrincipals() {
		ok, err := exists(ctx, dir, arn)
		if err != nil {
			return "", err
		}
		if !ok {
			return arn, nil
		}
	}
	return "", nil
}

func exists(ctx context.Context, dir Directory, principal string) (bool, error) {
	if uniqueID.MatchString(principal) {
		return false, nil
	}
	parts := strings.SplitN(principal, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" {
		return true, nil // an account id, or a session (arn:aws:sts::...)
	}
	kind, path, _ := strings.Cut(parts[5], "/")
	name := path[strings.LastIndex(path, "/")+1:]
	var err error
	switch kind {
	case "root":
		return true, nil
	case "role":
		_, err = dir.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	case "user":
		_, err = dir.GetUser(ctx, &iam.GetUserInput{UserName: &name})
	default:
		return false, nil // a group, a policy, ...: no principal
	}
	var none *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &none):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up principal %s: %w", principal, err)
	}
	return true, nil
}
