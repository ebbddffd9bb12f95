package audit_test

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/hclmodule"
)

// TestTableMatchesTheModule checks the table the store needs (CreateTableInput,
// which local runs create) against aws_dynamodb_table.audit in dynamodb.tf:
// keys, attribute definitions, the indexes and the TTL attribute.
func TestTableMatchesTheModule(t *testing.T) {
	t.Parallel()
	mod, err := hclmodule.Load(filepath.Join("..", "..", "modules", "tracking-pipeline"))
	require.NoError(t, err)
	table := mod.Resource("aws_dynamodb_table", "audit")
	require.NotNil(t, table)
	want := audit.CreateTableInput("t")

	hash, err := mod.Attr(table, "hash_key")
	require.NoError(t, err)
	rng, err := mod.Attr(table, "range_key")
	require.NoError(t, err)
	assert.Equal(t, []string{aws.ToString(want.KeySchema[0].AttributeName), aws.ToString(want.KeySchema[1].AttributeName)}, []string{hash, rng})
	assert.Equal(t, []string{audit.AttrPK, audit.AttrSK}, []string{hash, rng})

	defined := map[string]string{}
	var ttl, streamView string
	streamEnabled := false
	lsi := 0
	var gsi []string // name, hash key, range key, projection
	for _, b := range table.Blocks {
		switch b.Type {
		case "attribute":
			name, err := mod.Attr(b.Body, "name")
			require.NoError(t, err)
			defined[name], err = mod.Attr(b.Body, "type")
			require.NoError(t, err)
		case "local_secondary_index":
			lsi++
		case "global_secondary_index":
			for _, attr := range []string{"name", "hash_key", "range_key", "projection_type"} {
				v, err := mod.Attr(b.Body, attr)
				require.NoError(t, err, attr)
				gsi = append(gsi, v)
			}
		case "ttl":
			ttl, err = mod.Attr(b.Body, "attribute_name")
			require.NoError(t, err)
		}
	}
	goDefined := map[string]string{}
	for _, d := range want.AttributeDefinitions {
		goDefined[aws.ToString(d.AttributeName)] = string(d.AttributeType)
	}
	assert.Equal(t, goDefined, defined, "attribute definitions")
	assert.Empty(t, want.LocalSecondaryIndexes)
	assert.Zero(t, lsi, "no local secondary index: the trail is sorted in code")
	v, err := mod.Attr(table, "stream_enabled")
	require.NoError(t, err)
	streamEnabled = v == "true"
	streamView, err = mod.Attr(table, "stream_view_type")
	require.NoError(t, err)
	assert.True(t, streamEnabled && aws.ToBool(want.StreamSpecification.StreamEnabled), "the stream is on: the projector reads it")
	assert.Equal(t, string(audit.StreamViewType), streamView)
	assert.Equal(t, audit.AttrExpiresAt, ttl, "the TTL attribute is the one the store writes")
	require.Len(t, want.GlobalSecondaryIndexes, 1)
	g := want.GlobalSecondaryIndexes[0]
	assert.Equal(t, []string{aws.ToString(g.IndexName), aws.ToString(g.KeySchema[0].AttributeName), aws.ToString(g.KeySchema[1].AttributeName), string(g.Projection.ProjectionType)},
		gsi, "the status index")
	assert.Equal(t, []string{audit.IndexByStatus, audit.AttrStatusShard, audit.AttrLatestOrder}, gsi[:3])
}
