package provision_test

import (
	"path/filepath"
	"reflect"
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
		if name == "name_prefix" {
			assert.True(t, v.Required, "name_prefix has no default")
			continue
		}
		got := defaults.Field(i).Interface()
		switch want := v.Default.(type) {
		case nil:
			assert.True(t, defaults.Field(i).IsNil(), "%s: module default is null, provisioner has %v", name, got)
		case float64:
			assert.InDelta(t, want, float64(defaults.Field(i).Int()), 0, "%s", name)
		default:
			assert.Equal(t, want, got, "%s", name)
		}
		checked++
	}
	assert.Equal(t, typ.NumField()-1, checked)
}
