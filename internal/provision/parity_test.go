package provision_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/provision"
)

// TestDefaultsMatchTheModule reads modules/tracking-pipeline with HashiCorp's
// parser and checks that every Settings field's default equals the default
// of the variable its hcl tag names, so the two deploy paths cannot drift.
func TestDefaultsMatchTheModule(t *testing.T) {
	t.Parallel()
	mod, diags := tfconfig.LoadModule(filepath.Join("..", "..", "modules", "tracking-pipeline"))
	require.False(t, diags.HasErrors(), diags.Err())

	defaults := reflect.ValueOf(provision.Defaults("x"))
	typ := defaults.Type()
	checked := 0
	for i := range typ.NumField() {
		field := typ.Field(i)
		name := field.Tag.Get("hcl")
		require.NotEmpty(t, name, "field %s has no hcl tag", field.Name)
		v, ok := mod.Variables[name]
		require.True(t, ok, "field %s names variable %s, which the module does not declare", field.Name, name)
		if name == "name_prefix" || name == "environment" {
			assert.True(t, v.Required, "%s has no default", name)
			continue
		}
		got := defaults.Field(i).Interface()
		switch want := v.Default.(type) {
		case nil:
			assert.True(t, defaults.Field(i).IsNil(), "%s: module default is null, provisioner has %v", name, got)
		case float64:
			assert.InDelta(t, want, float64(defaults.Field(i).Int()), 0, "%s", name)
		case []any:
			assert.JSONEq(t, mustJSON(t, want), mustJSON(t, got), "%s", name)
		case map[string]any: // an object of optional attributes: compare their defaults
			assert.Empty(t, want, "%s: expected the default {} of an object of optional attributes", name)
			optional := optionalDefaults(t, v.Type)
			field := defaults.Field(i)
			require.Equal(t, len(optional), field.NumField(), "%s: attributes", name)
			for j := range field.NumField() {
				attr := field.Type().Field(j).Tag.Get("hcl")
				assert.InDelta(t, optional[attr], field.Field(j).Float(), 0, "%s.%s", name, attr)
			}
		default:
			assert.Equal(t, want, got, "%s", name)
		}
		checked++
	}
	assert.Equal(t, typ.NumField()-2, checked)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// optionalDefaults reads the defaults of an object type's optional(number, D) attributes.
func optionalDefaults(t *testing.T, typ string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, m := range regexp.MustCompile(`(\w+)\s*=\s*optional\(number,\s*([0-9.]+)\)`).FindAllStringSubmatch(typ, -1) {
		f, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err)
		out[m[1]] = f
	}
	require.NotEmpty(t, out, "no optional(number, default) attributes in %s", typ)
	return out
}
