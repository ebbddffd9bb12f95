package hclmodule

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/zclconf/go-cty/cty"
)

// ResourceValues evaluates attributes attrs of resource typ.address as an
// apply would: vars over the variables' defaults, refs for the resources
// and data sources it reads, and the locals these let evaluate. The
// address is the resource's name and, for one with for_each, its instance
// key: `this["queue_depth"]`. An attribute of a nested block is named
// with the block's type, at any depth: `input_transformer.input_paths`,
// `target.retry_policy.maximum_retry_attempts`. The provisioner creates a
// resource from the module's own statement of it this way, not from a
// copy. An attribute the resource does not set is left out; one that does
// not evaluate is an error.
func (m *Module) ResourceValues(typ, address string, vars, refs map[string]cty.Value, attrs ...string) (map[string]cty.Value, error) {
	parts := documentAddress.FindStringSubmatch(address)
	if parts == nil {
		return nil, fmt.Errorf("resource address %q", address)
	}
	name := parts[1]
	body := m.Resource(typ, name)
	if body == nil {
		return nil, fmt.Errorf("no resource %s.%s", typ, name)
	}
	ctx, err := instanceContext(body, m.applyContext(vars, refs), typ+"."+address, parts[2])
	if err != nil {
		return nil, err
	}
	out := make(map[string]cty.Value, len(attrs))
	for _, attr := range attrs {
		a, ok := attribute(body, attr)
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

// InstanceKeys are the for_each keys of resource typ.name, sorted, from
// vars and refs as ResourceValues takes them.
func (m *Module) InstanceKeys(typ, name string, vars, refs map[string]cty.Value) ([]string, error) {
	body := m.Resource(typ, name)
	if body == nil {
		return nil, fmt.Errorf("no resource %s.%s", typ, name)
	}
	a, ok := body.Attributes["for_each"]
	if !ok {
		return nil, fmt.Errorf("%s.%s has no for_each", typ, name)
	}
	ctx := m.applyContext(vars, refs)
	v, err := forEach(a, ctx)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w%s", typ, name, err, m.whyLocals(a.Expr, ctx))
	}
	var keys []string
	for it := v.ElementIterator(); it.Next(); {
		k, _ := it.Element()
		keys = append(keys, k.AsString())
	}
	slices.Sort(keys)
	return keys, nil
}

// Local evaluates local.name as an apply would, from vars and refs as
// ResourceValues takes them.
func (m *Module) Local(name string, vars, refs map[string]cty.Value) (cty.Value, error) {
	ctx := m.applyContext(vars, refs)
	v, ok := ctx.Variables["local"].AsValueMap()[name]
	if !ok {
		return cty.NilVal, fmt.Errorf("local.%s does not evaluate from what the apply knows%s", name, m.whyLocal(name, ctx))
	}
	return v, nil
}

// attribute finds attribute name of body, or block.attribute of its first
// nested block of that type, at any depth (target.retry_policy.x).
func attribute(body *hclsyntax.Body, name string) (*hclsyntax.Attribute, bool) {
	block, rest, nested := strings.Cut(name, ".")
	if !nested {
		a, ok := body.Attributes[name]
		return a, ok
	}
	for _, b := range body.Blocks {
		if b.Type == block {
			return attribute(b.Body, rest)
		}
	}
	return nil, false
}

// whyLocals explains the locals expr reads that ctx could not evaluate.
func (m *Module) whyLocals(expr hcl.Expression, ctx *hcl.EvalContext) string {
	var why string
	for _, tr := range expr.Variables() {
		if tr.RootName() != "local" || len(tr) < 2 {
			continue
		}
		if attr, ok := tr[1].(hcl.TraverseAttr); ok {
			why += m.whyLocal(attr.Name, ctx)
		}
	}
	return why
}

// whyLocal is the diagnostics of local name in ctx, if it does not evaluate.
func (m *Module) whyLocal(name string, ctx *hcl.EvalContext) string {
	for _, body := range m.bodies {
		for _, b := range body.Blocks {
			if a, ok := b.Body.Attributes[name]; ok && b.Type == "locals" {
				if _, diags := a.Expr.Value(ctx); diags.HasErrors() {
					return fmt.Sprintf("; local.%s: %s", name, diags.Error())
				}
			}
		}
	}
	return ""
}
