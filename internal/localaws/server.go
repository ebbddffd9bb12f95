// Package localaws is a local AWS for this stack: kumo (in-process) behind a
// front server that adds what kumo lacks and the stack needs (see README.md
// in this folder). The root is small: the server, the router from an
// operation to the service package that owns it (service/<name>), and what
// it does not own proxied to kumo (upstream). Function code runs on the
// executor.
package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/access"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/clock"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/executor"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/faults"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/cloudwatch"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/dynamodb"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/events"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/iam"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/kms"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/lambda"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/logs"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/scheduler"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/sns"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/sqs"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/sts"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/tlsmux"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// DefaultAddr is the address the local AWS listens on unless told otherwise.
const DefaultAddr = "127.0.0.1:4566"

// DefaultRegion is the region of a server started without one.
const DefaultRegion = "us-east-1"

// Options configure a Server.
type Options struct {
	Addr           string    // listen address, default DefaultAddr; ":0" style picks a free port
	Region         string    // default DefaultRegion
	WorkDir        string    // unpacked function code; default a temporary folder
	FunctionOutput io.Writer // function logs; default discarded
	Log            *zap.Logger
	Instances      int // concurrency of a function without reserved concurrency; default 4
	// MaxProcesses caps the function processes of all functions at once:
	// instances start when invocations need them, up to a function's
	// concurrency and this cap. Default executor.DefaultMaxProcesses (8 per CPU).
	MaxProcesses int
	// TimeScale speeds up the local AWS's clock: at 60 a CloudWatch minute
	// (a metric period, an alarm evaluation) and a schedule's minute last a
	// real second. Default 1, real time.
	TimeScale float64
	// Faults injects failures at rates (faults.Parse syntax), e.g.
	// "dynamodb:TransactWriteItems:conflict:0.1"; empty, none.
	Faults string
	// IAM is how requests of the functions' roles meet their policies:
	// enforce (the default: refused with the service's AccessDenied), log
	// (served, what enforce would refuse logged) or off.
	IAM string
}

// closer is a service with goroutines of its own.
type closer interface{ Close() }

// Server is the running local AWS.
type Server struct {
	URL string // http://host:port, for AWS_ENDPOINT_URL
	// TLSURL is the same port over HTTPS (https://host:port), with a
	// certificate of the local AWS's own authority: the functions call it,
	// and any client that trusts CABundle may.
	TLSURL string
	// CABundle is the file of that authority's certificate (AWS_CA_BUNDLE).
	CABundle string
	// Authority is the certificate authority itself, for Go clients.
	Authority *tlsmux.Authority

	// Executor runs the deployed functions' code.
	Executor *executor.Executor
	// Clock is the local AWS's time (see Options.TimeScale).
	Clock *clock.Clock
	// CloudWatch holds metrics and evaluates alarms.
	CloudWatch *cloudwatch.Service
	// SNS keeps what e-mail subscribers receive.
	SNS *sns.Service
	// Faults injects failures into DynamoDB and SQS calls, stream mappings'
	// reads and Lambda invocations (off by default).
	Faults *faults.Injector
	// Principals maps access keys to who calls: the admin key, and each
	// function's execution-role session.
	Principals *principals.Registry
	// Access decides the requests of roles with their policies.
	Access *access.Guard

	opts     Options
	log      *zap.Logger
	kumo     *upstream.Kumo
	router   *awsapi.Router
	services []closer // closed in reverse order of start
	srv      *http.Server
	ownDir   bool
	close    sync.Once
}

// Start runs kumo and the front server.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.FunctionOutput == nil {
		opts.FunctionOutput = io.Discard
	}
	if opts.Instances <= 0 {
		opts.Instances = 4
	}
	s := &Server{opts: opts, log: opts.Log, router: awsapi.NewRouter(), Faults: &faults.Injector{}, Principals: principals.New()}
	rules, err := faults.Parse(opts.Faults)
	if err != nil {
		return nil, fmt.Errorf("faults: %w", err)
	}
	s.Faults.Set(rules)
	mode, err := access.ParseMode(opts.IAM)
	if err != nil {
		return nil, err
	}
	if s.opts.WorkDir == "" {
		dir, err := os.MkdirTemp("", "localaws-*")
		if err != nil {
			return nil, fmt.Errorf("create work folder: %w", err)
		}
		s.opts.WorkDir, s.ownDir = dir, true
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	s.URL, s.TLSURL = "http://"+ln.Addr().String(), "https://"+ln.Addr().String()
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	if s.Authority, err = tlsmux.NewAuthority("127.0.0.1", "::1", "localhost", host); err != nil {
		_ = ln.Close()
		return nil, err
	}
	s.CABundle = filepath.Join(s.opts.WorkDir, "localaws-ca.pem")
	if err := s.Authority.WriteBundle(s.CABundle); err != nil {
		_ = ln.Close()
		return nil, err
	}
	ln = tlsmux.Wrap(ln, s.Authority)
	s.Executor, err = executor.New(s.log.Named("executor"), s.opts.WorkDir, opts.FunctionOutput)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s.Executor.InjectFaultsFrom(s.Faults)
	s.Executor.SetLimits(opts.MaxProcesses, 0)
	s.kumo = upstream.Start(opts.Region, s.Faults)
	s.Clock = clock.Scaled(opts.TimeScale)

	s.SNS = sns.New(s.kumo, s.log.Named("sns"), s.Clock)
	sqsSvc := sqs.New(s.kumo, s.log.Named("sqs"), s.URL)
	s.Access = access.New(mode, s.kumo.IAM, access.KumoResources{SQS: s.kumo.Reads.SQS, SNS: s.kumo.Reads.SNS, KMS: s.kumo.Reads.KMS, QueueKey: sqsSvc.KeyOf},
		opts.Region, s.Clock.Now, s.log.Named("iam"))

	eventsSvc := events.New(s.kumo, s.SNS, s.Access, s.log.Named("events"), opts.Region)
	s.CloudWatch = cloudwatch.New(cloudwatch.Options{Region: opts.Region, Clock: s.Clock, Log: s.log.Named("cloudwatch"), Publisher: s.SNS, Auth: s.Access, Events: eventsSvc})
	eventsSvc.RecordMetricsTo(s.CloudWatch)
	s.Executor.RecordMetricsTo(s.CloudWatch)
	s.kumo.CountSQS(func(queue, metric string, n float64) {
		s.CloudWatch.Record("AWS/SQS", metric, map[string]string{"QueueName": queue}, n, "Count")
	})
	logsSvc := logs.New(s.kumo, s.CloudWatch, s.Access, s.log.Named("logs"))
	s.Executor.SendLogsTo(logsSvc)
	ddbSvc := dynamodb.New(s.kumo, dynamodb.Options{Region: opts.Region, Metrics: s.CloudWatch, Clock: s.Clock})
	lambdaSvc := lambda.New(s.kumo, s.Executor, s.log.Named("lambda"), lambda.Options{Region: opts.Region, PublicURL: s.TLSURL, CABundle: s.CABundle,
		Instances: opts.Instances, Principals: s.Principals, Access: s.Access, Streams: ddbSvc, Metrics: s.CloudWatch, Now: s.Clock.Now, Faults: s.Faults})
	sqsSvc.SampleMetrics(s.Clock, s.CloudWatch)
	schedulerSvc := scheduler.New(s.kumo, s.log.Named("scheduler"), lambdaSvc, s.Access, s.Clock)
	for _, svc := range []interface{ Register(*awsapi.Router) }{
		sqsSvc, kms.New(s.kumo), ddbSvc, lambdaSvc, schedulerSvc, eventsSvc, s.CloudWatch, s.SNS, logsSvc,
		sts.New(s.kumo.IAM, s.Principals, s.log.Named("sts")), iam.New(s.kumo, s.log.Named("iam")),
	} {
		svc.Register(s.router)
	}
	// Closed in reverse: the evaluator (which publishes through events) stops first.
	s.services = []closer{ddbSvc, lambdaSvc, sqsSvc, eventsSvc, schedulerSvc, s.CloudWatch}
	s.router.REST("GET /_localaws/health", func(w http.ResponseWriter, _ *http.Request) {
		awsapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.router.REST("GET /_localaws/clock", func(w http.ResponseWriter, _ *http.Request) {
		awsapi.WriteJSON(w, http.StatusOK, map[string]any{"now": s.Clock.Now().UTC().Format(time.RFC3339Nano), "scale": s.Clock.Scale()})
	})
	s.router.REST("GET /_localaws/faults", func(w http.ResponseWriter, _ *http.Request) {
		awsapi.WriteJSON(w, http.StatusOK, map[string]any{"rules": s.Faults.Rules()})
	})
	s.router.REST("PUT /_localaws/faults", s.setFaults)
	s.router.REST("GET /_localaws/ca.pem", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(s.Authority.CertPEM)
	})
	s.router.REST("POST /_localaws/alarms/evaluate", func(w http.ResponseWriter, _ *http.Request) {
		s.CloudWatch.EvaluateNow()
		w.WriteHeader(http.StatusNoContent)
	})

	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ConnContext: tlsmux.ConnContext}
	go func() { _ = s.srv.Serve(ln) }() // ends with Shutdown in Close
	s.log.Info("local AWS listening", zap.String("url", s.URL), zap.String("tls_url", s.TLSURL), zap.String("ca_bundle", s.CABundle))
	return s, nil
}

// ClientConfig is an AWS SDK configuration for clients of this local AWS.
func (s *Server) ClientConfig() aws.Config {
	return principals.AdminConfig(s.URL, s.opts.Region)
}

// Close stops everything Start started: the front server first (no new
// requests), then each service's goroutines, the function processes and kumo.
func (s *Server) Close() {
	s.close.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
		for i := len(s.services) - 1; i >= 0; i-- {
			s.services[i].Close()
		}
		s.Executor.Close()
		s.kumo.Close()
		if s.ownDir {
			_ = os.RemoveAll(s.opts.WorkDir)
		}
	})
}

// ServeHTTP serves r and sends its answer whole (see wholeAnswer).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := &wholeAnswer{w: w}
	s.serve(a, r)
	a.send(r)
}

// serve sends a request to the service that owns its operation, or to
// kumo; a request signed with a key the local AWS never issued is refused
// first, and a DynamoDB or SQS call may meet an injected fault.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	caller, admin, ok := s.authenticated(w, r)
	if !ok {
		return
	}
	if !admin && caller.ARN != "" && !s.authorized(w, r, caller) {
		return
	}
	if admin && s.changesPolicies(r) {
		defer s.Access.Forget("") // once kumo holds the new policies
	}
	if s.Faults.Active() {
		if service, op := faults.ServiceOf(r.Header.Get("X-Amz-Target")); service != "" {
			if a := s.Faults.Decide(r.Context(), service, op, transactItems(r, op)); a != nil {
				a.Write(w)
				return
			}
		}
	}
	if h := s.router.Lookup(r); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	s.kumo.ServeHTTP(w, r)
}

// authenticated refuses a request signed with an access key the local AWS
// did not issue, as AWS does: "The security token included in the request
// is invalid" (common errors of the JSON services, UnrecognizedClientException,
// 400; of the Query services and SQS, InvalidClientTokenId, 403; Lambda's
// and Scheduler's REST APIs, UnrecognizedClientException, 403). Unsigned
// requests and the admin paths are served (see the README's gap table).
func (s *Server) authenticated(w http.ResponseWriter, r *http.Request) (authz.Caller, bool, bool) {
	if strings.HasPrefix(r.URL.Path, "/_localaws/") {
		return authz.Caller{}, true, true
	}
	key, signed := principals.AccessKeyOf(r)
	if !signed {
		return authz.Caller{}, true, true
	}
	if caller, admin, ok := s.Principals.Lookup(key); ok {
		return caller, admin, true
	}
	const msg = "The security token included in the request is invalid."
	target := r.Header.Get("X-Amz-Target")
	switch {
	case target != "" && !strings.HasPrefix(target, "AmazonSQS."):
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "UnrecognizedClientException", msg)
	case target != "" || strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") ||
		r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor":
		awsapi.WriteProtocolError(w, r, http.StatusForbidden, "InvalidClientTokenId", msg)
	default:
		awsapi.WriteProtocolError(w, r, http.StatusForbidden, "UnrecognizedClientException", msg)
	}
	s.log.Warn("request refused: unknown access key", zap.String("access_key", key), zap.String("target", target), zap.String("path", r.URL.Path))
	return authz.Caller{}, false, false
}

// authorized lets the access guard decide a role's request; a refused one
// is answered in its service's protocol.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request, caller authz.Caller) bool {
	body, err := awsapi.ReadBody(r)
	if err != nil {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "SerializationException", "request body unreadable")
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if d := s.Access.Check(r.Context(), caller, r, body, tlsmux.Secure(r.Context())); d != nil {
		awsapi.WriteProtocolErrorAs(w, r, d.Status, d.Code, d.QueryCode, d.Message)
		return false
	}
	return true
}

// policyChanges are the IAM actions after which a role's policies differ.
var policyChanges = map[string]bool{
	"PutRolePolicy": true, "DeleteRolePolicy": true, "AttachRolePolicy": true, "DetachRolePolicy": true,
	"CreatePolicyVersion": true, "SetDefaultPolicyVersion": true, "DeleteRole": true, "DeletePolicy": true,
}

// changesPolicies reports an IAM call after which the guard must read
// roles' policies again.
func (s *Server) changesPolicies(r *http.Request) bool {
	if awsapi.SigningService(r) != "iam" {
		return false
	}
	body, err := awsapi.ReadBody(r)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	form, err := url.ParseQuery(string(body))
	return err == nil && policyChanges[form.Get("Action")]
}

// setFaults serves PUT /_localaws/faults: {"spec": "<rules>"}; an empty spec
// turns faults off.
func (s *Server) setFaults(w http.ResponseWriter, r *http.Request) {
	var req struct{ Spec string }
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return
	}
	if err := json.Unmarshal(body, &req); err != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidRequest", "body must be {\"spec\": \"...\"}")
		return
	}
	rules, err := faults.Parse(req.Spec)
	if err != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	s.Faults.Set(rules)
	awsapi.WriteJSON(w, http.StatusOK, map[string]any{"rules": s.Faults.Rules()})
}

// transactItems counts a TransactWriteItems request's items (for a
// conflict's cancellation reasons), leaving the body readable.
func transactItems(r *http.Request, op string) int {
	if op != "TransactWriteItems" {
		return 0
	}
	body, err := awsapi.ReadBody(r)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req struct{ TransactItems []json.RawMessage }
	if err != nil || json.Unmarshal(body, &req) != nil {
		return 0
	}
	return len(req.TransactItems)
}
