package principals_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	reg := principals.New()
	_, admin, ok := reg.Lookup(principals.AdminKey)
	assert.True(t, admin && ok, "the admin key is known")

	creds, err := reg.ForRole("arn:aws:iam::123456789012:role/tp-processor", "tp-processor")
	require.NoError(t, err)
	caller, admin, ok := reg.Lookup(creds.AccessKeyID)
	require.True(t, ok)
	assert.False(t, admin)
	assert.Equal(t, "arn:aws:sts::123456789012:assumed-role/tp-processor/tp-processor", caller.ARN)

	again, err := reg.ForRole("arn:aws:iam::123456789012:role/tp-processor", "tp-processor")
	require.NoError(t, err)
	_, _, ok = reg.Lookup(creds.AccessKeyID)
	assert.False(t, ok, "a session's new credentials replace its old ones")
	_, _, ok = reg.Lookup(again.AccessKeyID)
	assert.True(t, ok)

	_, _, ok = reg.Lookup("AKIAIOSFODNN7EXAMPLE")
	assert.False(t, ok, "a key never issued is unknown")
	_, err = reg.ForRole("arn:aws:iam::123456789012:user/u", "s")
	assert.Error(t, err)
}

func TestAccessKeyOf(t *testing.T) {
	t.Parallel()
	signed := httptest.NewRequest(http.MethodPost, "/", nil)
	signed.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ASIAKEY/20261202/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=abc")
	presigned := httptest.NewRequest(http.MethodGet, "/?X-Amz-Credential=AKIDP%2F20261202%2Fus-east-1%2Fs3%2Faws4_request", nil)
	unsigned := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range []struct {
		r      *http.Request
		key    string
		signed bool
	}{{signed, "ASIAKEY", true}, {presigned, "AKIDP", true}, {unsigned, "", false}} {
		key, ok := principals.AccessKeyOf(c.r)
		assert.Equal(t, c.signed, ok)
		assert.Equal(t, c.key, key)
	}
}
