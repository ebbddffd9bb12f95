package provision

import (
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/hclmodule"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// rolePolicies renders the module's execution-role policy documents (iam.tf)
// for this stack's resources, so that the roles the provisioner makes carry
// exactly what the module grants: one source for both deploy paths.
type rolePolicies struct {
	mod  *hclmodule.Module
	vars map[string]cty.Value
	refs map[string]cty.Value
}

// newRolePolicies renders for the settings s, as the module's inputs vars
// (s.inputs()), and the stack's resources so far.
func newRolePolicies(s Settings, vars map[string]cty.Value, out outputs.Stack, tableARN, streamARN, projectorDLQARN string) (*rolePolicies, error) {
	parts := strings.SplitN(out.IngestQueueARN, ":", 6)
	if len(parts) != 6 {
		return nil, fmt.Errorf("queue ARN %q", out.IngestQueueARN)
	}
	partition, region, account := parts[1], parts[3], parts[4]
	logGroup := func(fn string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"arn": cty.StringVal(fmt.Sprintf("arn:%s:logs:%s:%s:log-group:/aws/lambda/%s", partition, region, account, fn))})
	}
	arn := func(v string) cty.Value { return cty.ObjectVal(map[string]cty.Value{"arn": cty.StringVal(v)}) }
	p := &rolePolicies{
		mod:  s.module,
		vars: vars, // the module's defaults stand for what Settings leaves out (its key, topic and bus)
		refs: map[string]cty.Value{
			"data": cty.ObjectVal(map[string]cty.Value{
				"aws_caller_identity": cty.ObjectVal(map[string]cty.Value{"current": cty.ObjectVal(map[string]cty.Value{"account_id": cty.StringVal(account)})}),
				"aws_partition":       cty.ObjectVal(map[string]cty.Value{"current": cty.ObjectVal(map[string]cty.Value{"partition": cty.StringVal(partition)})}),
				"aws_region":          cty.ObjectVal(map[string]cty.Value{"current": cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal(region)})}),
			}),
			"aws_sqs_queue": cty.ObjectVal(map[string]cty.Value{
				"ingest": arn(out.IngestQueueARN), "ingest_dlq": arn(out.IngestDLQARN), "maintenance_dlq": arn(out.MaintenanceDLQARN),
				"alert_dlq": arn(out.AlertDLQARN), "projector_dlq": arn(projectorDLQARN),
			}),
			"aws_dynamodb_table": cty.ObjectVal(map[string]cty.Value{"audit": cty.ObjectVal(map[string]cty.Value{
				"arn": cty.StringVal(tableARN), "stream_arn": cty.StringVal(streamARN),
			})}),
			"aws_cloudwatch_event_bus": cty.ObjectVal(map[string]cty.Value{"status": cty.TupleVal([]cty.Value{
				cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(out.EventBusName)}),
			})}),
			"aws_kms_key":   cty.ObjectVal(map[string]cty.Value{"this": cty.TupleVal([]cty.Value{arn(out.KMSKeyARN)})}),
			"aws_sns_topic": cty.ObjectVal(map[string]cty.Value{"alerts": cty.TupleVal([]cty.Value{arn(out.AlertTopicARN)})}),
			"aws_cloudwatch_log_group": cty.ObjectVal(map[string]cty.Value{
				"processor": logGroup(out.ProcessorFunctionName), "projector": logGroup(out.ProjectorFunctionName), "maintenance": logGroup(out.MaintenanceFunctionName),
			}),
		},
	}
	p.withNames(out)
	return p, nil
}

// withRule adds the alarm state rule, which the alert topic's and the
// alert DLQ's policies and the alert-delivery alarm name.
func (p *rolePolicies) withRule(name, arn string) {
	p.refs["aws_cloudwatch_event_rule"] = cty.ObjectVal(map[string]cty.Value{
		"alarm_state_change": cty.ObjectVal(map[string]cty.Value{"arn": cty.StringVal(arn), "name": cty.StringVal(name)}),
	})
}

// withAlarms adds the alarms' ARNs (key -> ARN; alert_delivery is the
// resource of its own), which the alert topic's policy names.
func (p *rolePolicies) withAlarms(arns map[string]string) {
	this := map[string]cty.Value{}
	alarms := map[string]cty.Value{"this": cty.EmptyObjectVal}
	for key, arn := range arns {
		v := cty.ObjectVal(map[string]cty.Value{"arn": cty.StringVal(arn)})
		if key == alertDeliveryAlarm {
			alarms[key] = v
		} else {
			this[key] = v
		}
	}
	if len(this) > 0 {
		alarms["this"] = cty.ObjectVal(this)
	}
	p.refs["aws_cloudwatch_metric_alarm"] = cty.ObjectVal(alarms)
}

// resource evaluates attributes attrs of the module's resource typ.name.
func (p *rolePolicies) resource(typ, name string, attrs ...string) (map[string]cty.Value, error) {
	v, err := p.mod.ResourceValues(typ, name, p.vars, p.refs, attrs...)
	if err != nil {
		return nil, fmt.Errorf("read the module's %s.%s: %w", typ, name, err)
	}
	return v, nil
}

// with merges attributes into the resource a reference reaches
// (typ.name: aws_lambda_function.maintenance), which must be an object.
func (p *rolePolicies) with(typ, name string, attrs map[string]string) {
	objs := map[string]cty.Value{}
	if prev, ok := p.refs[typ]; ok {
		objs = prev.AsValueMap()
	}
	merged := map[string]cty.Value{}
	if prev, ok := objs[name]; ok && prev.Type().IsObjectType() {
		merged = prev.AsValueMap()
	}
	for k, v := range attrs {
		merged[k] = cty.StringVal(v)
	}
	objs[name] = cty.ObjectVal(merged)
	p.refs[typ] = cty.ObjectVal(objs)
}

// withNames adds the queues' and functions' names, which the alarms and
// their descriptions name.
func (p *rolePolicies) withNames(out outputs.Stack) {
	for name, url := range map[string]string{
		"ingest": out.IngestQueueURL, "ingest_dlq": out.IngestDLQURL, "maintenance_dlq": out.MaintenanceDLQURL,
		"alert_dlq": out.AlertDLQURL, "projector_dlq": out.ProjectorDLQURL,
	} {
		p.with("aws_sqs_queue", name, map[string]string{"name": url[strings.LastIndex(url, "/")+1:]})
	}
	for name, fn := range map[string]string{"processor": out.ProcessorFunctionName, "projector": out.ProjectorFunctionName, "maintenance": out.MaintenanceFunctionName} {
		p.with("aws_lambda_function", name, map[string]string{"function_name": fn})
	}
}

// withFunction adds a function's ARN, which the scheduler's policy names.
func (p *rolePolicies) withFunction(name, arn string) {
	p.with("aws_lambda_function", name, map[string]string{"arn": arn})
}

// document renders data "aws_iam_policy_document" name.
func (p *rolePolicies) document(name string) (string, error) {
	doc, err := p.mod.PolicyDocument(name, p.vars, p.refs)
	if err != nil {
		return "", fmt.Errorf("render the module's %s policy: %w", name, err)
	}
	return doc, nil
}

// local evaluates the module's local name, which must be a string.
func (p *rolePolicies) local(name string) (string, error) {
	v, err := p.mod.Local(name, p.vars, p.refs)
	if err != nil {
		return "", fmt.Errorf("read the module: %w", err)
	}
	if v.Type() != cty.String || v.IsNull() {
		return "", fmt.Errorf("read the module: local.%s is not a string", name)
	}
	return v.AsString(), nil
}
