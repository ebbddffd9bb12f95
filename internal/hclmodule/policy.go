package hclmodule

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// policyFunctions are the Terraform functions the module's policy
// documents and the locals they read may call.
var policyFunctions = map[string]function.Function{
	"tostring": toString, "join": stdlib.JoinFunc, "concat": stdlib.ConcatFunc, "coalesce": stdlib.CoalesceFunc,
	"merge": stdlib.MergeFunc, "format": stdlib.FormatFunc, "lower": stdlib.LowerFunc, "length": stdlib.LengthFunc,
	"distinct": stdlib.DistinctFunc, "flatten": stdlib.FlattenFunc,
}

// PolicyDocument renders the module's data "aws_iam_policy_document" name as
// the JSON an apply would give it, from what an apply would know: vars
// (overriding the defaults) and refs, the attributes of the data sources
// and resources the module reads, by root name (refs["aws_sqs_queue"] is an
// object of queues; refs["data"] an object of data source types). Locals are
// evaluated from those; a statement reading something refs lack is an error.
func (m *Module) PolicyDocument(name string, vars, refs map[string]cty.Value) (string, error) {
	doc := m.data("aws_iam_policy_document", name)
	if doc == nil {
		return "", fmt.Errorf("no data \"aws_iam_policy_document\" %q", name)
	}
	ctx := m.applyContext(vars, refs)
	var statements []map[string]any
	for _, b := range doc.Blocks {
		switch b.Type {
		case "statement":
			s, err := statementJSON(b.Body, ctx)
			if err != nil {
				return "", fmt.Errorf("%s: statement %d: %w", name, len(statements), err)
			}
			statements = append(statements, s)
		case "dynamic":
			return "", fmt.Errorf("%s: dynamic blocks are not rendered", name)
		}
	}
	out, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return string(out), nil
}

// applyContext is the module's evaluation context with vars, refs and the
// locals they let evaluate (in passes, until no more evaluate).
func (m *Module) applyContext(vars, refs map[string]cty.Value) *hcl.EvalContext {
	all := map[string]cty.Value{}
	for k, v := range m.ctx.Variables["var"].AsValueMap() {
		all[k] = v
	}
	for k, v := range vars {
		all[k] = v
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(all)}, Functions: policyFunctions}
	for k, v := range refs {
		ctx.Variables[k] = v
	}
	locals := map[string]cty.Value{}
	for {
		ctx.Variables["local"] = cty.ObjectVal(locals)
		progress := false
		for _, body := range m.bodies {
			for _, b := range body.Blocks {
				if b.Type != "locals" {
					continue
				}
				for name, a := range b.Body.Attributes {
					if _, done := locals[name]; done {
						continue
					}
					if v, diags := a.Expr.Value(ctx); !diags.HasErrors() && v.IsWhollyKnown() {
						locals[name], progress = v, true
					}
				}
			}
		}
		if !progress {
			return ctx
		}
	}
}

// statementJSON renders one statement block as aws_iam_policy_document does.
func statementJSON(body *hclsyntax.Body, ctx *hcl.EvalContext) (map[string]any, error) {
	s := map[string]any{"Effect": "Allow"}
	for attr, key := range map[string]string{"sid": "Sid", "effect": "Effect"} {
		if a, ok := body.Attributes[attr]; ok {
			v, err := stringOf(a.Expr, ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", attr, err)
			}
			s[key] = v
		}
	}
	for attr, key := range map[string]string{"actions": "Action", "not_actions": "NotAction", "resources": "Resource", "not_resources": "NotResource"} {
		if a, ok := body.Attributes[attr]; ok {
			v, err := stringsOf(a.Expr, ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", attr, err)
			}
			s[key] = v
		}
	}
	for _, b := range body.Blocks {
		switch b.Type {
		case "principals", "not_principals":
			typ, err := stringOf(b.Body.Attributes["type"].Expr, ctx)
			if err != nil {
				return nil, fmt.Errorf("%s type: %w", b.Type, err)
			}
			ids, err := stringsOf(b.Body.Attributes["identifiers"].Expr, ctx)
			if err != nil {
				return nil, fmt.Errorf("%s identifiers: %w", b.Type, err)
			}
			key := map[string]string{"principals": "Principal", "not_principals": "NotPrincipal"}[b.Type]
			p, _ := s[key].(map[string][]string)
			if p == nil {
				p = map[string][]string{}
			}
			if typ == "*" {
				s[key] = "*"
				continue
			}
			p[typ] = append(p[typ], ids...)
			s[key] = p
		case "condition":
			test, err := stringOf(b.Body.Attributes["test"].Expr, ctx)
			if err != nil {
				return nil, fmt.Errorf("condition test: %w", err)
			}
			variable, err := stringOf(b.Body.Attributes["variable"].Expr, ctx)
			if err != nil {
				return nil, fmt.Errorf("condition variable: %w", err)
			}
			values, err := stringsOf(b.Body.Attributes["values"].Expr, ctx)
			if err != nil {
				return nil, fmt.Errorf("condition values: %w", err)
			}
			c, _ := s["Condition"].(map[string]map[string][]string)
			if c == nil {
				c = map[string]map[string][]string{}
			}
			if c[test] == nil {
				c[test] = map[string][]string{}
			}
			c[test][variable] = append(c[test][variable], values...)
			s["Condition"] = c
		}
	}
	return s, nil
}

func stringOf(expr hcl.Expression, ctx *hcl.EvalContext) (string, error) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return "", fmt.Errorf("evaluate: %w", diags)
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() || !s.IsKnown() {
		return "", fmt.Errorf("not a known string")
	}
	return s.AsString(), nil
}

func stringsOf(expr hcl.Expression, ctx *hcl.EvalContext) ([]string, error) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return nil, fmt.Errorf("evaluate: %w", diags)
	}
	l, err := convert.Convert(v, cty.List(cty.String))
	if err != nil || l.IsNull() || !l.IsWhollyKnown() {
		return nil, fmt.Errorf("not a known list of strings")
	}
	var out []string
	for _, e := range l.AsValueSlice() {
		out = append(out, e.AsString())
	}
	return out, nil
}

// data returns the body of data source typ.name, or nil.
func (m *Module) data(typ, name string) *hclsyntax.Body {
	for _, body := range m.bodies {
		for _, b := range body.Blocks {
			if b.Type == "data" && len(b.Labels) == 2 && b.Labels[0] == typ && b.Labels[1] == name {
				return b.Body
			}
		}
	}
	return nil
}
