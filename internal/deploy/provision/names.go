package provision

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
)

// stackNames are the physical names of what the provisioner creates, as
// the module names them (all from local.name, built on name_prefix).
type stackNames struct {
	table, bus, topic, processor, projector, maintenance string
}

// names reads them from the module's resources for the inputs vars
// (s.inputs()): read, not copied.
func (s Settings) names(vars map[string]cty.Value) (stackNames, error) {
	read := func(typ, name, attr string) (string, error) {
		v, err := s.module.ResourceValues(typ, name, vars, nil, attr)
		if err != nil {
			return "", fmt.Errorf("read the module's %s.%s: %w", typ, name, err)
		}
		got, ok := v[attr]
		if !ok || got.Type() != cty.String || got.IsNull() {
			return "", fmt.Errorf("the module's %s.%s has no %s", typ, name, attr)
		}
		return got.AsString(), nil
	}
	var (
		n   stackNames
		err error
	)
	for _, r := range []struct {
		dst             *string
		typ, name, attr string
	}{
		{&n.table, "aws_dynamodb_table", "audit", "name"},
		{&n.bus, "aws_cloudwatch_event_bus", "status", "name"},
		{&n.topic, "aws_sns_topic", "alerts", "name"},
		{&n.processor, "aws_lambda_function", "processor", "function_name"},
		{&n.projector, "aws_lambda_function", "projector", "function_name"},
		{&n.maintenance, "aws_lambda_function", "maintenance", "function_name"},
	} {
		if *r.dst, err = read(r.typ, r.name, r.attr); err != nil {
			return stackNames{}, err
		}
	}
	return n, nil
}
