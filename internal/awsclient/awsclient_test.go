package awsclient_test

import (
	"context"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/awsclient"
	settings "github.com/tracking-pipeline/tracking-pipeline/internal/config"
)

// A function with more calls in flight than the SDK's default of 10 idle
// connections per host would open new TLS connections after each burst.
func TestLoadKeepsAConnectionPerCallInFlight(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	cfg, err := awsclient.Load(context.Background())
	require.NoError(t, err)
	client, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	require.True(t, ok, "HTTP client %T", cfg.HTTPClient)
	assert.Equal(t, settings.MaxConcurrencyLimit, client.GetTransport().MaxIdleConnsPerHost)
}
