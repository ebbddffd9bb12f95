// Package lambda fills kumo's Lambda gaps: the function configuration kumo
// drops, reserved concurrency, asynchronous invocation with its retries and
// destination, invocation through the executor, and SQS event source
// mappings run by a poller.
package lambda

import (
	"context"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/executor"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// Options configure the Lambda service.
type Options struct {
	Region    string
	PublicURL string // the front server's address, the functions' AWS_ENDPOINT_URL
	CABundle  string // the file of the authority PublicURL's certificate needs (https), the functions' AWS_CA_BUNDLE
	Instances int    // processes per function without reserved concurrency
	// Principals issues each function's credentials, standing for its
	// execution role; nil gives functions the admin key.
	Principals *principals.Registry
	// Access decides what a function's role may do where Lambda acts with
	// it (an event source mapping's queue); nil checks nothing.
	Access RoleChecker
	// Streams are the DynamoDB streams stream mappings read; nil serves none.
	Streams Streams
	// Metrics take what Lambda publishes of its mappings (IteratorAge).
	Metrics Metrics
	// Now is the local AWS's clock; default time.Now.
	Now func() time.Time
	// Faults fail a share of the stream mappings' reads (dynamodb:GetRecords
	// rules); nil fails none.
	Faults Faults
}

// Faults decides whether a call the local AWS makes inside itself fails.
type Faults interface {
	Fails(ctx context.Context, service, op string) bool
}

// RoleChecker decides whether a role's session may call an SQS operation
// on a queue: RoleMay its permissions only (a mapping's creation), RoleCalls
// as the call itself (with the key use on an encrypted queue).
type RoleChecker interface {
	RoleMay(ctx context.Context, session, op, queueURL string) error
	RoleCalls(ctx context.Context, session, region, op, queueURL string) error
	ServiceMayAssume(ctx context.Context, service, roleARN, sourceARN, sourceAccount string) error
	RoleMayAct(ctx context.Context, session, service, action, resource string) error
}

// Service owns the Lambda state the layer keeps.
type Service struct {
	kumo      *upstream.Kumo
	exec      *executor.Executor
	log       *zap.Logger
	region    string
	publicURL string
	caBundle  string
	instances int
	keys      *principals.Registry
	access    RoleChecker
	streams   Streams
	metrics   Metrics
	faults    Faults
	now       func() time.Time

	ctx  context.Context // ends when the service closes
	stop context.CancelFunc
	wg   sync.WaitGroup // asynchronous invocations under way

	mu       sync.Mutex
	lambdas  map[string]*lambdaExtras // function name -> configuration kumo drops
	sessions map[string]roleSession   // function name -> its execution role's session

	poller *poller
}

// New returns the Lambda gap filler, running functions on exec.
func New(k *upstream.Kumo, exec *executor.Executor, log *zap.Logger, opts Options) *Service {
	ctx, stop := context.WithCancel(context.Background())
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = discardMetrics{}
	}
	s := &Service{
		kumo: k, exec: exec, log: log, region: opts.Region, publicURL: opts.PublicURL, caBundle: opts.CABundle, instances: opts.Instances, keys: opts.Principals, access: opts.Access,
		streams: opts.Streams, metrics: opts.Metrics, faults: opts.Faults, now: opts.Now,
		ctx: ctx, stop: stop, lambdas: map[string]*lambdaExtras{}, sessions: map[string]roleSession{},
	}
	s.poller = newPoller(s)
	return s
}

type discardMetrics struct{}

func (discardMetrics) Record(string, string, map[string]string, float64, string) {}

// Register adds the operations the layer owns or completes to r, and the
// admin path that crashes a function's processes.
func (s *Service) Register(r *awsapi.Router) {
	const fns = "/2015-03-31/functions"
	r.REST("POST "+fns, s.createFunction)
	r.REST("POST "+fns+"/{$}", s.createFunction)
	r.REST("PUT "+fns+"/{name}/code", func(w http.ResponseWriter, r *http.Request) { s.updateFunction(w, r, true) })
	r.REST("PUT "+fns+"/{name}/configuration", func(w http.ResponseWriter, r *http.Request) { s.updateFunction(w, r, false) })
	r.REST("GET "+fns+"/{name}/configuration", func(w http.ResponseWriter, r *http.Request) { s.getFunction(w, r, false) })
	for _, p := range []string{fns + "/{name}", fns + "/{name}/{$}"} {
		r.REST("GET "+p, func(w http.ResponseWriter, r *http.Request) { s.getFunction(w, r, true) })
		r.REST("DELETE "+p, s.deleteFunction)
	}
	r.REST("POST "+fns+"/{name}/invocations", s.invoke)
	r.REST("/2017-10-31/functions/{name}/concurrency", s.concurrency)
	r.REST("/2019-09-30/functions/{name}/concurrency", s.concurrency)
	r.REST("/2019-09-25/functions/{name}/event-invoke-config", s.eventInvokeConfig)

	const esm = "/2015-03-31/event-source-mappings"
	for _, p := range []string{esm, esm + "/{$}"} {
		r.REST("POST "+p, s.poller.create)
		r.REST("GET "+p, s.poller.list)
	}
	r.REST(esm+"/{uuid}", s.poller.mapping)

	r.REST("POST /_localaws/functions/{name}/crash", s.crash)
}

// Close stops the pollers and the asynchronous invocations, and waits for them.
func (s *Service) Close() {
	s.poller.stopAll()
	s.stop()
	s.wg.Wait()
}

// crash serves POST /_localaws/functions/{name}/crash: every process of the
// function is killed, for failure tests.
func (s *Service) crash(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.exec.Crash(name); err != nil {
		awsapi.WriteError(w, http.StatusNotFound, "ResourceNotFoundException", err.Error())
		return
	}
	awsapi.WriteJSON(w, http.StatusOK, map[string]string{"crashed": name})
}
