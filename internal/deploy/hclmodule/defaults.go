package hclmodule

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Defaults are the module's variable defaults as an apply with no inputs
// would see them: each default converted to its variable's type, with the
// defaults of optional() object attributes filled in (Terraform's "Type
// Constraints", optional object type attributes). A variable without a
// default is left out.
func (m *Module) Defaults() (map[string]cty.Value, error) {
	out := map[string]cty.Value{}
	for _, body := range m.bodies {
		for _, b := range body.Blocks {
			if b.Type != "variable" || len(b.Labels) != 1 {
				continue
			}
			name := b.Labels[0]
			def, ok := b.Body.Attributes["default"]
			if !ok {
				continue
			}
			v, diags := def.Expr.Value(nil)
			if diags.HasErrors() {
				return nil, fmt.Errorf("variable %s: default: %w", name, diags)
			}
			if typ, ok := b.Body.Attributes["type"]; ok {
				ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(typ.Expr)
				if diags.HasErrors() {
					return nil, fmt.Errorf("variable %s: type: %w", name, diags)
				}
				if defaults != nil {
					v = defaults.Apply(v)
				}
				converted, err := convert.Convert(v, ty)
				if err != nil {
					return nil, fmt.Errorf("variable %s: default of the wrong type: %w", name, err)
				}
				v = converted
			}
			out[name] = v
		}
	}
	return out, nil
}

// Inputs reads a JSON object of module inputs (variable name to value, as
// a tfvars.json file holds them), each as its variable's type.
func (m *Module) Inputs(raw []byte) (map[string]cty.Value, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("inputs: %w", err)
	}
	out := make(map[string]cty.Value, len(fields))
	for name, field := range fields {
		v := m.block("variable", name)
		if v == nil {
			return nil, fmt.Errorf("input %s: the module has no such variable", name)
		}
		typ, ok := v.Attributes["type"]
		if !ok {
			return nil, fmt.Errorf("input %s: the variable has no type", name)
		}
		ty, _, diags := typeexpr.TypeConstraintWithDefaults(typ.Expr)
		if diags.HasErrors() {
			return nil, fmt.Errorf("input %s: type: %w", name, diags)
		}
		val, err := ctyjson.Unmarshal(field, ty)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", name, err)
		}
		out[name] = val
	}
	return out, nil
}
