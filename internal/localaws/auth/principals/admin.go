package principals

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AdminConfig is an AWS SDK configuration that calls endpoint in region
// as the account's administrator (AdminKey): the local AWS's clients, its
// own calls to kumo, and tests against bare kumo.
func AdminConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(AdminKey, AdminKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}
