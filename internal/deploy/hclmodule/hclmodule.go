// Package hclmodule reads a Terraform module's HCL as an apply would see it:
// the variables' defaults, its locals, the attributes of its resources and
// its policy documents, from given inputs and the attributes of the
// resources they read. The provisioner builds its settings and resources
// from it (the module is the one statement of them), and parity tests
// check what Go still states against it.
package hclmodule

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// ErrNotStatic is returned for an expression that reads more than the
// module's variables and literal locals (a resource attribute, say).
var ErrNotStatic = errors.New("expression is not known before apply")

// Module is a module's parsed files.
type Module struct {
	bodies []*hclsyntax.Body
	ctx    *hcl.EvalContext
}

// Load parses every .tf file of dir.
func Load(dir string) (*Module, error) {
	if _, diags := tfconfig.LoadModule(dir); diags.HasErrors() {
		return nil, fmt.Errorf("inspect %s: %w", dir, diags.Err())
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	p := hclparse.NewParser()
	m := &Module{}
	for _, f := range files {
		file, diags := p.ParseHCLFile(f)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parse %s: %w", f, diags)
		}
		m.bodies = append(m.bodies, file.Body.(*hclsyntax.Body))
	}
	vars, err := m.Defaults()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	m.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)},
		Functions: map[string]function.Function{"tostring": toString, "join": stdlib.JoinFunc},
	}
	m.ctx.Variables["local"] = cty.ObjectVal(m.literalLocals())
	return m, nil
}

// Resource returns the body of resource typ.name, or nil.
func (m *Module) Resource(typ, name string) *hclsyntax.Body {
	for _, body := range m.bodies {
		for _, b := range body.Blocks {
			if b.Type == "resource" && len(b.Labels) == 2 && b.Labels[0] == typ && b.Labels[1] == name {
				return b.Body
			}
		}
	}
	return nil
}

// String evaluates expr with the variables' defaults and the literal locals.
func (m *Module) String(expr hcl.Expression) (string, error) {
	for _, tr := range expr.Variables() {
		if root := tr.RootName(); root != "var" && root != "local" {
			return "", fmt.Errorf("%w: reads %s", ErrNotStatic, root)
		}
	}
	v, diags := expr.Value(m.ctx)
	if diags.HasErrors() {
		return "", fmt.Errorf("%w: %w", ErrNotStatic, diags)
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() {
		return "", fmt.Errorf("%w: not a string", ErrNotStatic)
	}
	return s.AsString(), nil
}

// Attr evaluates the attribute name of body as String does.
func (m *Module) Attr(body *hclsyntax.Body, name string) (string, error) {
	a, ok := body.Attributes[name]
	if !ok {
		return "", fmt.Errorf("no attribute %s", name)
	}
	return m.String(a.Expr)
}

// literalLocals are the locals whose values need nothing but literals and variables.
func (m *Module) literalLocals() map[string]cty.Value {
	out := map[string]cty.Value{}
	ctx := m.ctx.NewChild()
	for _, body := range m.bodies {
		for _, b := range body.Blocks {
			if b.Type != "locals" {
				continue
			}
			for name, a := range b.Body.Attributes {
				if len(a.Expr.Variables()) > 0 && !onlyVars(a.Expr) {
					continue
				}
				if v, diags := a.Expr.Value(ctx); !diags.HasErrors() {
					out[name] = v
				}
			}
		}
	}
	return out
}

func onlyVars(expr hcl.Expression) bool {
	for _, tr := range expr.Variables() {
		if tr.RootName() != "var" {
			return false
		}
	}
	return true
}

// toMap is Terraform's tomap: an object or map as a map of one element type.
var toMap = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType}},
	Type: func(args []cty.Value) (cty.Type, error) {
		v, err := convert.Convert(args[0], cty.Map(cty.DynamicPseudoType))
		if err != nil {
			return cty.NilType, err //nolint:wrapcheck // a cty function's own error
		}
		return v.Type(), nil
	},
	Impl: func(args []cty.Value, ty cty.Type) (cty.Value, error) {
		return convert.Convert(args[0], ty) //nolint:wrapcheck // a cty function's own error
	},
})

// toString is Terraform's tostring for the primitive values a default holds.
var toString = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return convert.Convert(args[0], cty.String) //nolint:wrapcheck // a cty function's own error
	},
})

// ModuleCall returns the body of module block name, or nil.
func (m *Module) ModuleCall(name string) *hclsyntax.Body {
	return m.block("module", name)
}

// Output returns the body of output block name, or nil.
func (m *Module) Output(name string) *hclsyntax.Body {
	return m.block("output", name)
}

// NotNullable reports whether variable name says nullable = false.
func (m *Module) NotNullable(name string) bool {
	v := m.block("variable", name)
	if v == nil {
		return false
	}
	a, ok := v.Attributes["nullable"]
	if !ok {
		return false
	}
	val, diags := a.Expr.Value(nil)
	return !diags.HasErrors() && val.Type() == cty.Bool && val.False()
}

// block returns the body of the first block of type typ labelled name.
func (m *Module) block(typ, name string) *hclsyntax.Body {
	for _, body := range m.bodies {
		for _, b := range body.Blocks {
			if b.Type == typ && len(b.Labels) == 1 && b.Labels[0] == name {
				return b.Body
			}
		}
	}
	return nil
}
