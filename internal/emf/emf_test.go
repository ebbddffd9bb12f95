package emf_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
)

func TestWriteProducesOneEMFLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := emf.NewWriter(&buf, "TrackingPipeline", map[string]string{"FunctionName": "tp-processor"})
	at := time.UnixMilli(1764079380123)
	require.NoError(t, w.Write(at, map[string]emf.Metric{
		"Processed":   {Value: 7, Unit: "Count"},
		"EventAgeMax": {Value: 1500, Unit: "Milliseconds"},
	}))
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 1)
	var doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		FunctionName string
		Processed    float64
		EventAgeMax  float64
	}
	require.NoError(t, json.Unmarshal(lines[0], &doc))
	assert.Equal(t, int64(1764079380123), doc.AWS.Timestamp)
	require.Len(t, doc.AWS.CloudWatchMetrics, 1)
	d := doc.AWS.CloudWatchMetrics[0]
	assert.Equal(t, "TrackingPipeline", d.Namespace)
	assert.Equal(t, [][]string{{"FunctionName"}}, d.Dimensions)
	assert.Equal(t, []struct{ Name, Unit string }{{"EventAgeMax", "Milliseconds"}, {"Processed", "Count"}}, d.Metrics)
	assert.Equal(t, "tp-processor", doc.FunctionName)
	assert.InDelta(t, 7.0, doc.Processed, 0)
	assert.InDelta(t, 1500.0, doc.EventAgeMax, 0)
}
