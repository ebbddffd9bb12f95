package hclmodule

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
)

// ResourceValues evaluates attributes attrs of resource typ.name as an
// apply would: vars over the variables' defaults, refs for the resources
// and data sources it reads, and the locals these let evaluate. The
// provisioner creates a resource from the module's own statement of it
// this way, not from a copy. An attribute the resource does not set is
// left out; one that does not evaluate is an error.
func (m *Module) ResourceValues(typ, name string, vars, refs map[string]cty.Value, attrs ...string) (map[string]cty.Value, error) {
	body := m.Resource(typ, name)
	if body == nil {
		return nil, fmt.Errorf("no resource %s.%s", typ, name)
	}
	ctx := m.applyContext(vars, refs)
	out := make(map[string]cty.Value, len(attrs))
	for _, attr := range attrs {
		a, ok := body.Attributes[attr]
		if !ok {
			continue
		}
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s.%s: %s: %w", typ, name, attr, diags)
		}
		out[attr] = v
	}
	return out, nil
}

// Local evaluates local.name as an apply would, from vars and refs as
// ResourceValues takes them.
func (m *Module) Local(name string, vars, refs map[string]cty.Value) (cty.Value, error) {
	locals := m.applyContext(vars, refs).Variables["local"].AsValueMap()
	v, ok := locals[name]
	if !ok {
		return cty.NilVal, fmt.Errorf("local.%s does not evaluate from what the apply knows", name)
	}
	return v, nil
}
