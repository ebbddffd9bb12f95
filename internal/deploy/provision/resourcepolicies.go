package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// resourcePolicies puts the module's key policy (kms.tf), queue policies
// (sqs.tf) and topic policy (alerts.tf) on the stack, rendered from the HCL
// as the roles' are, each passed through the mutation test's edit.
func (st *Stack) resourcePolicies(ctx context.Context, p *rolePolicies, out outputs.Stack) error {
	doc := func(name string) (string, error) {
		d, err := p.document(name)
		if err != nil {
			return "", err
		}
		if st.edit != nil {
			d = st.edit(name, d)
		}
		return d, nil
	}
	keyPolicy, err := doc("kms")
	if err != nil {
		return err
	}
	if _, err := kms.NewFromConfig(st.cfg).PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &out.KMSKeyARN, PolicyName: aws.String("default"), Policy: &keyPolicy}); err != nil {
		return fmt.Errorf("put the key policy: %w", err)
	}
	q := sqs.NewFromConfig(st.cfg)
	for name, url := range map[string]string{
		"ingest": out.IngestQueueURL, `queue_tls_only["ingest_dlq"]`: out.IngestDLQURL, `queue_tls_only["maintenance_dlq"]`: out.MaintenanceDLQURL,
		"alert_dlq": out.AlertDLQURL, `queue_tls_only["projector_dlq"]`: out.ProjectorDLQURL,
	} {
		policy, err := doc(name)
		if err != nil {
			return err
		}
		if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"Policy": policy}}); err != nil {
			return fmt.Errorf("put the %s queue policy: %w", name, err)
		}
	}
	topicPolicy, err := doc("alerts")
	if err != nil {
		return err
	}
	if _, err := sns.NewFromConfig(st.cfg).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: &out.AlertTopicARN, AttributeName: aws.String("Policy"), AttributeValue: &topicPolicy,
	}); err != nil {
		return fmt.Errorf("put the topic policy: %w", err)
	}
	return nil
}
