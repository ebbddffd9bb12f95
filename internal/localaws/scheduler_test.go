package localaws_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// TestScheduleActsAsItsRole: "EventBridge Scheduler assumes the execution
// role to invoke the target" (Scheduler User Guide, "Set up the execution
// role"): the role's trust policy must let scheduler.amazonaws.com assume
// it for a schedule of this account, and the role must allow
// lambda:InvokeFunction on the target. A schedule whose role does both
// runs its function; one whose trust names another service or account,
// or whose role may not invoke, does not, and the refusal is recorded.
func TestScheduleActsAsItsRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	code := envHandlerZip(t)
	srv := localawstest.New(t, localaws.Options{})
	admin := srv.ClientConfig()
	trust := func(service, account string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sts:AssumeRole",` +
			`"Condition":{"StringEquals":{"aws:SourceAccount":"` + account + `"}}}]}`
	}
	for _, tt := range []struct {
		name    string
		trust   string
		invoke  bool   // the role may invoke the function
		refused string // "" runs, else the action refused
	}{
		{"a role the scheduler may assume that may invoke", trust("scheduler.amazonaws.com", "000000000000"), true, ""},
		{"a role only Lambda may assume", trust("lambda.amazonaws.com", "000000000000"), true, "sts:AssumeRole"},
		{"a role for schedules of another account", trust("scheduler.amazonaws.com", "111122223333"), true, "sts:AssumeRole"},
		{"a role that may not invoke", trust("scheduler.amazonaws.com", "000000000000"), false, "lambda:InvokeFunction"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := testenv.Unique("sched")
			createFunction(ctx, t, admin, name, executionRole(ctx, t, admin, name, ""), code)
			fn, err := lambda.NewFromConfig(admin).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
			require.NoError(t, err)
			fnARN := aws.ToString(fn.Configuration.FunctionArn)
			roleName := name + "-scheduler"
			role, err := iam.NewFromConfig(admin).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &roleName, AssumeRolePolicyDocument: aws.String(tt.trust)})
			require.NoError(t, err)
			action := "lambda:GetFunction"
			if tt.invoke {
				action = "lambda:InvokeFunction"
			}
			_, err = iam.NewFromConfig(admin).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &roleName, PolicyName: aws.String("invoke"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + fnARN + `"}]}`)})
			require.NoError(t, err)
			marks := t.TempDir()
			input, err := json.Marshal(map[string]string{"mark_dir": marks, "release": marks}) // the handler marks its start in mark_dir
			require.NoError(t, err)
			_, err = scheduler.NewFromConfig(admin).CreateSchedule(ctx, &scheduler.CreateScheduleInput{
				Name: &name, ScheduleExpression: aws.String("rate(1 day)"),
				FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
				Target:             &schedtypes.Target{Arn: &fnARN, RoleArn: role.Role.Arn, Input: aws.String(string(input))},
			})
			require.NoError(t, err)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/_localaws/schedules/"+name+"/trigger", nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusOK, resp.StatusCode)

			ran := func() bool {
				entries, err := os.ReadDir(marks)
				require.NoError(t, err)
				return len(entries) > 0
			}
			if tt.refused == "" {
				require.Eventually(t, ran, 20*time.Second, 10*time.Millisecond, "the schedule did not run its function")
				return
			}
			require.Eventually(t, func() bool {
				for _, d := range srv.Access.Denials() {
					if strings.Contains(d.Principal+d.Resource, roleName) && d.Action == tt.refused {
						return true
					}
				}
				return false
			}, 20*time.Second, 10*time.Millisecond, "no %s refusal recorded: %v", tt.refused, srv.Access.Denials())
			assert.False(t, ran(), "the function ran")
		})
	}
}
