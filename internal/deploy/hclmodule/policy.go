package hclmodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

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
	"distinct": stdlib.DistinctFunc, "flatten": stdlib.FlattenFunc, "jsonencode": stdlib.JSONEncodeFunc,
	"upper": stdlib.UpperFunc, "replace": stdlib.ReplaceFunc, // replace: a plain substring, as every call in the module has
	"tomap": toMap,
}

// PolicyDocument renders the module's data "aws_iam_policy_document" name as
// the JSON an apply would give it, from what an apply would know: vars
// (overriding the defaults) and refs, the attributes of the data sources
// and resources the module reads, by root name (refs["aws_sqs_queue"] is an
// object of queues; refs["data"] an object of data source types). Locals are
// evaluated from those; a statement reading something refs lack is an error.
// A document with for_each is named with its key, `queue_tls_only["ingest"]`;
// one with count renders instance 0 and is ErrNoInstance when count is 0.
// Dynamic statement blocks and source_policy_documents (other documents of
// the module) are rendered as Terraform does: the sources' statements
// first, a statement of the document itself replacing one with its Sid.
func (m *Module) PolicyDocument(name string, vars, refs map[string]cty.Value) (string, error) {
	return m.policyDocument(name, m.applyContext(vars, refs), 0)
}

// ErrNoInstance is a document whose count or for_each gives no instance of the name asked.
var ErrNoInstance = errors.New("no such instance")

// documentAddress is a document's name and, for for_each, its key.
var documentAddress = regexp.MustCompile(`^([A-Za-z0-9_-]+)(?:\["([^"]*)"\])?$`)

func (m *Module) policyDocument(address string, ctx *hcl.EvalContext, depth int) (string, error) {
	if depth > 4 {
		return "", fmt.Errorf("%s: source_policy_documents nest too deep", address)
	}
	parts := documentAddress.FindStringSubmatch(address)
	if parts == nil {
		return "", fmt.Errorf("document address %q", address)
	}
	name, key := parts[1], parts[2]
	doc := m.data("aws_iam_policy_document", name)
	if doc == nil {
		return "", fmt.Errorf("no data \"aws_iam_policy_document\" %q", name)
	}
	ctx, err := instanceContext(doc, ctx, address, key)
	if err != nil {
		return "", err
	}
	statements, err := m.sourceStatements(doc, ctx, depth)
	if err != nil {
		return "", fmt.Errorf("%s: %w", address, err)
	}
	for _, b := range doc.Blocks {
		var own []map[string]any
		switch {
		case b.Type == "statement":
			s, err := statementJSON(b.Body, ctx)
			if err != nil {
				return "", fmt.Errorf("%s: statement %d: %w", address, len(statements), err)
			}
			own = append(own, s)
		case b.Type == "dynamic" && len(b.Labels) == 1 && b.Labels[0] == "statement":
			if own, err = dynamicStatements(b.Body, ctx); err != nil {
				return "", fmt.Errorf("%s: dynamic statement: %w", address, err)
			}
		}
		for _, s := range own {
			statements = replaceSid(statements, s)
		}
	}
	out, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	if err != nil {
		return "", fmt.Errorf("%s: %w", address, err)
	}
	return string(out), nil
}

// instanceContext is ctx with each.key and each.value of a for_each
// document's instance key, or checks a count document has instance 0.
func instanceContext(doc *hclsyntax.Body, ctx *hcl.EvalContext, address, key string) (*hcl.EvalContext, error) {
	if a, ok := doc.Attributes["count"]; ok {
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() || !v.IsKnown() || v.IsNull() {
			return nil, fmt.Errorf("%s: count: %w", address, diags)
		}
		if n, _ := v.AsBigFloat().Int64(); n < 1 {
			return nil, fmt.Errorf("%s: count is 0: %w", address, ErrNoInstance)
		}
		return ctx, nil
	}
	a, ok := doc.Attributes["for_each"]
	if !ok {
		return ctx, nil
	}
	v, err := forEach(a, ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", address, err)
	}
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		if k.Type() == cty.String && k.AsString() == key {
			child := ctx.NewChild()
			child.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": k, "value": val})}
			return child, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", address, ErrNoInstance)
}

// forEach evaluates a for_each argument, which must be wholly known and
// iterable.
func forEach(a *hclsyntax.Attribute, ctx *hcl.EvalContext) (cty.Value, error) {
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() || !v.IsWhollyKnown() || !v.CanIterateElements() {
		return cty.NilVal, fmt.Errorf("for_each: %w", diags)
	}
	return v, nil
}

// dynamicStatements renders a dynamic "statement" block: its content once
// per element of for_each, with the iterator (default "statement").
func dynamicStatements(body *hclsyntax.Body, ctx *hcl.EvalContext) ([]map[string]any, error) {
	a, ok := body.Attributes["for_each"]
	if !ok {
		return nil, errors.New("no for_each")
	}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() || !v.IsWhollyKnown() || !v.CanIterateElements() {
		return nil, fmt.Errorf("for_each: %w", diags)
	}
	iterator := "statement"
	if it, ok := body.Attributes["iterator"]; ok {
		iterator = hcl.ExprAsKeyword(it.Expr)
	}
	var content *hclsyntax.Body
	for _, b := range body.Blocks {
		if b.Type == "content" {
			content = b.Body
		}
	}
	if content == nil {
		return nil, errors.New("no content block")
	}
	var out []map[string]any
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{iterator: cty.ObjectVal(map[string]cty.Value{"key": k, "value": val})}
		s, err := statementJSON(content, child)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// sourceStatements are the statements of the documents a document's
// source_policy_documents name (data.aws_iam_policy_document.<name>[<key>].json).
func (m *Module) sourceStatements(doc *hclsyntax.Body, ctx *hcl.EvalContext, depth int) ([]map[string]any, error) {
	a, ok := doc.Attributes["source_policy_documents"]
	if !ok {
		return nil, nil
	}
	tuple, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		return nil, errors.New("source_policy_documents: only a list of documents of this module is rendered")
	}
	var out []map[string]any
	for _, e := range tuple.Exprs {
		address, err := sourceAddress(e, ctx)
		if err != nil {
			return nil, err
		}
		rendered, err := m.policyDocument(address, ctx, depth+1)
		if err != nil {
			return nil, err
		}
		var src struct{ Statement []map[string]any }
		if err := json.Unmarshal([]byte(rendered), &src); err != nil {
			return nil, fmt.Errorf("source %s: %w", address, err)
		}
		for _, s := range src.Statement {
			out = replaceSid(out, s)
		}
	}
	return out, nil
}

// sourceAddress reads data.aws_iam_policy_document.<name>[<key>].json as
// the address <name>["<key>"] (the key evaluated in ctx).
func sourceAddress(e hclsyntax.Expression, ctx *hcl.EvalContext) (string, error) {
	var trav hcl.Traversal
	switch x := e.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		trav = x.Traversal
	case *hclsyntax.RelativeTraversalExpr:
		idx, ok := x.Source.(*hclsyntax.IndexExpr)
		if !ok {
			return "", errors.New("source_policy_documents: not a document of this module")
		}
		coll, ok := idx.Collection.(*hclsyntax.ScopeTraversalExpr)
		if !ok {
			return "", errors.New("source_policy_documents: not a document of this module")
		}
		key, err := stringOf(idx.Key, ctx)
		if err != nil {
			return "", fmt.Errorf("source_policy_documents key: %w", err)
		}
		if len(coll.Traversal) != 3 || coll.Traversal.RootName() != "data" {
			return "", errors.New("source_policy_documents: not a document of this module")
		}
		return coll.Traversal[2].(hcl.TraverseAttr).Name + `["` + key + `"]`, nil
	default:
		return "", errors.New("source_policy_documents: not a document of this module")
	}
	if len(trav) < 4 || trav.RootName() != "data" {
		return "", errors.New("source_policy_documents: not a document of this module")
	}
	typ, ok1 := trav[1].(hcl.TraverseAttr)
	name, ok2 := trav[2].(hcl.TraverseAttr)
	if !ok1 || !ok2 || typ.Name != "aws_iam_policy_document" {
		return "", errors.New("source_policy_documents: not a document of this module")
	}
	if idx, ok := trav[3].(hcl.TraverseIndex); ok {
		if idx.Key.Type() == cty.String {
			return name.Name + `["` + idx.Key.AsString() + `"]`, nil
		}
		return name.Name, nil // [0] of a count document
	}
	return name.Name, nil
}

// replaceSid appends s, or puts it in place of the statement with its Sid.
func replaceSid(statements []map[string]any, s map[string]any) []map[string]any {
	if sid, _ := s["Sid"].(string); sid != "" {
		for i, prev := range statements {
			if prev["Sid"] == sid {
				statements[i] = s
				return statements
			}
		}
	}
	return append(statements, s)
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
