package synth_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/synth"
)

func TestGenerate(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	msgs := synth.Generate(synth.Options{Seed: 7, Count: 2000, Start: start})
	require.Len(t, msgs, 2000)
	assert.Equal(t, msgs, synth.Generate(synth.Options{Seed: 7, Count: 2000, Start: start}), "same seed, same stream")
	assert.NotEqual(t, msgs, synth.Generate(synth.Options{Seed: 8, Count: 2000, Start: start}), "another seed, another stream")

	kinds := map[synth.Kind]int{}
	for _, m := range msgs {
		kinds[m.Kind]++
		_, err := contract.Parse([]byte(m.Body))
		if m.Kind == synth.Poison {
			assert.Error(t, err, "poison must break the contract: %s", m.Body)
		} else {
			assert.NoError(t, err, "%s message must be valid: %s", m.Kind, m.Body)
		}
	}
	for _, k := range []synth.Kind{synth.Valid, synth.Duplicate, synth.Conflict, synth.Poison} {
		assert.Positive(t, kinds[k], "no %s messages", k)
	}
	assert.Greater(t, kinds[synth.Valid], 1700)
}
