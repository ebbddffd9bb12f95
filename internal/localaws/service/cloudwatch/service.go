// Package cloudwatch fills kumo's CloudWatch gaps: the alarm fields kumo's
// Query-protocol answers leave out, alarm tags, and dashboards.
package cloudwatch

import (
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// signingService is CloudWatch's name in SigV4 credential scopes.
const signingService = "monitoring"

// Service owns the CloudWatch state the layer keeps.
type Service struct {
	kumo   *upstream.Kumo
	alarms *alarms
	boards *dashboards
}

// New returns the CloudWatch gap filler.
func New(k *upstream.Kumo, region string) *Service {
	return &Service{kumo: k, alarms: newAlarms(), boards: newDashboards(region)}
}

// Register adds the operations the layer owns or completes to r.
func (s *Service) Register(r *awsapi.Router) {
	for _, action := range []string{"PutMetricAlarm", "DeleteAlarms", "DescribeAlarms"} {
		r.Query(signingService, action, s.alarmCall)
	}
	for _, action := range []string{"ListTagsForResource", "TagResource", "UntagResource"} {
		r.Query(signingService, action, s.tags)
	}
	for _, op := range dashboardOps {
		r.Query(signingService, op, s.boards.query)
		// smithy RPC v2 CBOR: POST /service/{service}/operation/{operation}
		r.REST("POST /service/"+cloudWatchService+"/operation/"+op, s.boards.cbor)
	}
}
