package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
)

// FunctionSpec is what the executor needs to run a deployed function.
type FunctionSpec struct {
	Name        string
	ARN         string
	Zip         []byte
	Env         map[string]string
	Timeout     time.Duration
	MemoryMB    int
	Instances   int  // processes, i.e. the concurrency; 0 throttles every invoke
	Reserved    bool // Instances comes from reserved concurrency
	Arch        string
	Region      string
	EndpointURL string                 // AWS_ENDPOINT_URL given to the function
	CABundle    string                 // AWS_CA_BUNDLE: the certificate authority an https EndpointURL needs
	LogGroup    string                 // where its output goes; default /aws/lambda/<name>
	Credentials principals.Credentials // its execution role's; empty: the admin key
}

// Result is one invocation's outcome, as Lambda's Invoke returns it.
type Result struct {
	Payload       []byte
	FunctionError string // "" on success, else "Unhandled"
}

// ErrThrottled is an invocation refused because the function has no free
// concurrency (reserved concurrency 0).
var ErrThrottled = errors.New("TooManyRequestsException: rate exceeded")

// ErrNoFunction is an invocation of a function the executor does not run.
var ErrNoFunction = errors.New("function not deployed to the executor")

// Executor runs each deployed function's bootstrap as child processes that
// poll its own Lambda Runtime API, one invocation per process at a time, as
// Lambda does. As Lambda creates an execution environment when an
// invocation finds none free, up to the function's concurrency ("Lambda
// scaling behavior"), the executor starts a process only for an
// invocation that finds no idle one, within the function's concurrency and
// a machine-wide cap on processes; a process idle for a while stops, as
// Lambda reclaims idle environments, and an idle one gives way when the cap
// is reached. A process that crashes or overruns its timeout is not reused.
type Executor struct {
	log     *zap.Logger
	workDir string
	output  io.Writer // function stdout and stderr, each line prefixed

	mu        sync.Mutex
	funcs     map[string]*function
	maxProcs  int              // processes of all functions at once
	idleAfter time.Duration    // an instance idle this long stops
	procs     int              // processes running now
	peak      int              // the most processes run at once
	metrics   MetricRecorder   // nil: no metrics
	logs      LogSink          // nil: output is not read as log events
	faults    InvocationFaults // nil: no crashes or cut time limits

	srv  *http.Server
	addr string
	wg   sync.WaitGroup // the Runtime API server and each process's supervisor
}

type function struct {
	spec    FunctionSpec
	dir     string
	queue   chan *invocation
	stopped chan struct{}

	mu        sync.Mutex
	instances map[string]*instance
	waiting   int // invocations waiting for an instance
	idle      int // instances waiting for an invocation
	starting  int // instances started that have not polled yet
	initErr   string
	initTimes []time.Duration // process start to first Runtime API poll

	busy atomic.Int64 // invocations under way
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan Result
	once     sync.Once
}

func (inv *invocation) finish(r Result) { inv.once.Do(func() { inv.done <- r }) }

type instance struct {
	id      string
	fn      *function
	cmd     *exec.Cmd
	mu      sync.Mutex
	current *invocation
	timer   *time.Timer
	crash   *invocation // the invocation an injected crash ends, if any
	polled  bool        // reached the Runtime API: its init completed
	idle    bool        // waiting for an invocation
	pid     int         // set once the process has started
	killed  bool
	started time.Time // set before the instance is registered, read only after
}

// New starts the executor's Runtime API on a loopback port. Function
// code is unpacked under workDir; function output goes to output.
func New(log *zap.Logger, workDir string, output io.Writer) (*Executor, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the runtime API: %w", err)
	}
	e := &Executor{log: log, workDir: workDir, output: output, funcs: map[string]*function{}, addr: ln.Addr().String(),
		maxProcs: DefaultMaxProcesses(), idleAfter: DefaultIdleAfter}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rt/{fn}/{inst}/2018-06-01/runtime/invocation/next", e.next)
	mux.HandleFunc("POST /rt/{fn}/{inst}/2018-06-01/runtime/invocation/{id}/response", e.respond(false))
	mux.HandleFunc("POST /rt/{fn}/{inst}/2018-06-01/runtime/invocation/{id}/error", e.respond(true))
	mux.HandleFunc("POST /rt/{fn}/{inst}/2018-06-01/runtime/init/error", e.initError)
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	e.wg.Go(func() { _ = e.srv.Serve(ln) })
	return e, nil
}

// DefaultIdleAfter is how long an idle instance is kept: Lambda "maintains
// the execution environment for some time in anticipation of another
// function invocation" (how long is not documented).
const DefaultIdleAfter = 10 * time.Minute

// DefaultMaxProcesses is the machine-wide cap on function processes: eight
// per CPU, so that a root reserving hundreds of concurrency cannot start
// hundreds of processes on a small machine.
func DefaultMaxProcesses() int { return 8 * runtime.NumCPU() }

// SetLimits sets the machine-wide cap on processes (0: the default) and
// how long an idle instance is kept (0: the default). Call it before
// deploying functions.
func (e *Executor) SetLimits(maxProcesses int, idleAfter time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if maxProcesses > 0 {
		e.maxProcs = maxProcesses
	}
	if idleAfter > 0 {
		e.idleAfter = idleAfter
	}
}

// Processes returns how many function processes run now and the most
// that ran at once.
func (e *Executor) Processes() (now, peak int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.procs, e.peak
}

// Close stops every function and the Runtime API.
func (e *Executor) Close() {
	e.mu.Lock()
	funcs := e.funcs
	e.funcs = map[string]*function{}
	e.mu.Unlock()
	for _, f := range funcs {
		f.stop()
	}
	_ = e.srv.Close()
	e.wg.Wait()
}

// Deployed reports whether the executor runs a function of that name.
func (e *Executor) Deployed(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.funcs[name]
	return ok
}

// Deploy (re)starts a function from spec. A zip built for another CPU
// architecture is refused with the command that builds the right one.
func (e *Executor) Deploy(spec FunctionSpec) error {
	if err := CheckZip(spec.Zip); err != nil {
		return fmt.Errorf("function %s: %w", spec.Name, err)
	}
	dir := filepath.Join(e.workDir, spec.Name+"-"+uuid.NewString()[:8])
	if err := unzip(spec.Zip, dir); err != nil {
		return fmt.Errorf("unpack %s: %w", spec.Name, err)
	}
	if spec.Timeout <= 0 {
		spec.Timeout = 3 * time.Second
	}
	f := &function{spec: spec, dir: dir, queue: make(chan *invocation), stopped: make(chan struct{}), instances: map[string]*instance{}}

	e.mu.Lock()
	old := e.funcs[spec.Name]
	e.funcs[spec.Name] = f
	e.mu.Unlock()
	if old != nil {
		old.stop()
	}
	e.log.Info("function deployed", zap.String("function", spec.Name), zap.Int("concurrency", spec.Instances), zap.Duration("timeout", spec.Timeout))
	return nil
}

// SetConcurrency changes how many processes serve a function.
func (e *Executor) SetConcurrency(name string, instances int, reserved bool) error {
	e.mu.Lock()
	f, ok := e.funcs[name]
	e.mu.Unlock()
	if !ok {
		return ErrNoFunction
	}
	spec := f.spec
	spec.Instances, spec.Reserved = instances, reserved
	return e.Deploy(spec)
}

// Spec returns a deployed function's spec.
func (e *Executor) Spec(name string) (FunctionSpec, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.funcs[name]
	if !ok {
		return FunctionSpec{}, false
	}
	return f.spec, true
}

// Remove stops a function.
func (e *Executor) Remove(name string) {
	e.mu.Lock()
	f := e.funcs[name]
	delete(e.funcs, name)
	e.mu.Unlock()
	if f != nil {
		f.stop()
	}
}

// Invoke runs one invocation and waits for its result.
func (e *Executor) Invoke(ctx context.Context, name string, payload []byte) (Result, error) {
	e.mu.Lock()
	f, ok := e.funcs[name]
	e.mu.Unlock()
	if !ok {
		return Result{}, ErrNoFunction
	}
	if f.spec.Instances == 0 {
		e.invoked(f, Result{}, 0, true)
		return Result{}, ErrThrottled
	}
	inv := &invocation{id: uuid.NewString(), payload: payload, done: make(chan Result, 1)}
	f.mu.Lock()
	f.waiting++
	f.mu.Unlock()
	e.scale(f)
	var err error
	select {
	case f.queue <- inv:
	case <-f.stopped:
		err = fmt.Errorf("function %s was replaced while waiting: %w", name, ErrNoFunction)
	case <-ctx.Done():
		err = fmt.Errorf("invoke %s: %w", name, ctx.Err())
	}
	f.mu.Lock()
	f.waiting--
	f.mu.Unlock()
	if err != nil {
		return Result{}, err
	}
	started := time.Now()
	e.concurrent(f, f.busy.Add(1))
	defer f.busy.Add(-1)
	select {
	case r := <-inv.done:
		e.invoked(f, r, time.Since(started), false)
		return r, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: %w", name, ctx.Err())
	}
}

func (f *function) stop() {
	select {
	case <-f.stopped:
		return
	default:
	}
	close(f.stopped)
	running := f.running()
	for _, in := range running {
		in.kill()
	}
	if len(running) == 0 {
		_ = os.RemoveAll(f.dir)
	} // else the last process's supervisor removes the code once it has exited
}

func (f *function) isStopped() bool {
	select {
	case <-f.stopped:
		return true
	default:
		return false
	}
}

// scale starts an instance for each invocation of f that no idle or
// starting instance will take, within f's concurrency and the machine's
// cap; at the cap, an idle instance of any function gives way first.
func (e *Executor) scale(f *function) {
	if f.isStopped() {
		return
	}
	for {
		f.mu.Lock()
		need := f.waiting > f.idle+f.starting && len(f.instances)+f.starting < f.spec.Instances
		if need && e.takeSlot() {
			f.starting++
			f.mu.Unlock()
			e.start(f)
			continue
		}
		f.mu.Unlock()
		if need {
			e.evictIdle() // its exit frees a slot and scales the functions waiting
		}
		return
	}
}

// takeSlot reserves room for one process under the machine's cap.
func (e *Executor) takeSlot() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.procs >= e.maxProcs {
		return false
	}
	e.procs++
	e.peak = max(e.peak, e.procs)
	return true
}

// releaseSlot frees a process's room and gives it to invocations waiting.
func (e *Executor) releaseSlot() {
	e.mu.Lock()
	e.procs--
	funcs := make([]*function, 0, len(e.funcs))
	for _, f := range e.funcs {
		funcs = append(funcs, f)
	}
	e.mu.Unlock()
	for _, f := range funcs {
		e.scale(f)
	}
}

// evictIdle stops one idle instance, of any function.
func (e *Executor) evictIdle() {
	e.mu.Lock()
	funcs := make([]*function, 0, len(e.funcs))
	for _, f := range e.funcs {
		funcs = append(funcs, f)
	}
	e.mu.Unlock()
	for _, f := range funcs {
		for _, in := range f.running() {
			in.mu.Lock()
			idle := in.idle && !in.killed
			in.mu.Unlock()
			if idle {
				in.kill()
				return
			}
		}
	}
}

// start launches one process, in a slot takeSlot reserved, and supervises
// it: when it exits, the invocation it held fails, its slot is freed, and
// an invocation waiting gets a new process. A process that exits before it
// polls the Runtime API failed its init: one invocation waiting gets the
// init error, as Lambda fails the invocation whose init failed.
func (e *Executor) start(f *function) {
	in := &instance{id: uuid.NewString()[:8], fn: f}
	creds := f.spec.Credentials
	if creds.AccessKeyID == "" {
		creds = principals.Credentials{AccessKeyID: principals.AdminKey, SecretAccessKey: principals.AdminKey}
	}
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + e.addr + "/rt/" + f.spec.Name + "/" + in.id,
		"AWS_LAMBDA_FUNCTION_NAME=" + f.spec.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(max(f.spec.MemoryMB, 128)),
		"AWS_REGION=" + f.spec.Region,
		"AWS_DEFAULT_REGION=" + f.spec.Region,
		"AWS_ENDPOINT_URL=" + f.spec.EndpointURL,
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"LAMBDA_TASK_ROOT=" + f.dir,
		"_HANDLER=bootstrap",
		"TZ=UTC",
	}
	if creds.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+creds.SessionToken)
	}
	if f.spec.CABundle != "" {
		env = append(env, "AWS_CA_BUNDLE="+f.spec.CABundle)
	}
	for k, v := range f.spec.Env {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(filepath.Join(f.dir, "bootstrap")) //nolint:gosec,noctx // the deployed function is the point; its lifetime is the instance's
	cmd.Dir = f.dir
	cmd.Env = env
	prefix := fmt.Sprintf("[%s %s] ", f.spec.Name, in.id)
	rec, logs := e.recorder(), e.logSink()
	group := f.spec.LogGroup
	if group == "" {
		group = "/aws/lambda/" + f.spec.Name // Lambda's default log group
	}
	cmd.Stdout = &linePrefixer{w: e.output, prefix: prefix, tap: func(line []byte) {
		emfLine(rec, line)
		if logs != nil {
			logs.Line(group, line)
		}
	}}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in.cmd = cmd
	in.started = time.Now()

	f.mu.Lock()
	f.instances[in.id] = in
	f.mu.Unlock()

	if err := cmd.Start(); err != nil {
		e.log.Error("function process did not start", zap.String("function", f.spec.Name), zap.Error(err))
		f.mu.Lock()
		delete(f.instances, in.id)
		f.starting--
		f.mu.Unlock()
		select {
		case inv := <-f.queue:
			inv.finish(errorResult("Runtime.InvalidEntrypoint", fmt.Sprintf("the function's bootstrap could not start: %v", err)))
		default:
		}
		e.releaseSlotLater()
		return
	}
	in.mu.Lock()
	in.pid = cmd.Process.Pid
	killed := in.killed
	in.mu.Unlock()
	if killed { // stopped or crashed while it started
		in.kill()
	}
	e.wg.Go(func() {
		err := cmd.Wait()
		in.mu.Lock()
		initFailed := !in.polled
		in.mu.Unlock()
		f.mu.Lock()
		delete(f.instances, in.id)
		if initFailed {
			f.starting--
		}
		initErr, last := f.initErr, len(f.instances) == 0
		f.mu.Unlock()
		in.fail(fmt.Sprintf("Runtime.ExitError: process exited: %v", err))
		if initFailed && !f.isStopped() {
			// As Lambda does, an init failure fails the invocation waiting for it.
			msg := fmt.Sprintf("the function's process exited during init (%v); see its log", err)
			if initErr != "" {
				msg = fmt.Sprintf("the function's init failed (%v): %s", err, initErr)
			}
			select {
			case inv := <-f.queue:
				inv.finish(errorResult("Runtime.ExitError", msg))
			default:
			}
		}
		if f.isStopped() && last {
			_ = os.RemoveAll(f.dir)
		}
		e.releaseSlot()
	})
}

// requeue hands an invocation back to f's queue, for another instance.
func (e *Executor) requeue(f *function, inv *invocation) {
	f.mu.Lock()
	f.waiting++
	f.mu.Unlock()
	e.wg.Go(func() {
		e.scale(f)
		select {
		case f.queue <- inv:
		case <-f.stopped:
			inv.finish(errorResult("Runtime.ExitError", "the function was replaced"))
		}
		f.mu.Lock()
		f.waiting--
		f.mu.Unlock()
	})
}

// releaseSlotLater frees a slot from outside the function's lock.
func (e *Executor) releaseSlotLater() { e.wg.Go(e.releaseSlot) }

// fail ends the instance's current invocation with an error payload.
func (in *instance) fail(message string) {
	in.mu.Lock()
	inv := in.current
	in.current = nil
	if in.timer != nil {
		in.timer.Stop()
	}
	in.mu.Unlock()
	if inv != nil {
		inv.finish(errorResult("Runtime.ExitError", message))
	}
}

// kill ends the instance's process group; an instance whose process has
// not started yet is killed as soon as it has.
func (in *instance) kill() {
	in.mu.Lock()
	in.killed = true
	pid := in.pid
	in.mu.Unlock()
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// Crash kills every process of a function at once, as a crashed sandbox
// would end, to show that nothing is lost: in-flight invocations fail and
// new processes take over.
func (e *Executor) Crash(name string) error {
	e.mu.Lock()
	f, ok := e.funcs[name]
	e.mu.Unlock()
	if !ok {
		return ErrNoFunction
	}
	for _, in := range f.running() {
		in.kill()
	}
	return nil
}

// running returns the function's current processes.
func (f *function) running() []*instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	insts := make([]*instance, 0, len(f.instances))
	for _, in := range f.instances {
		insts = append(insts, in)
	}
	return insts
}

// InitTimes returns, for each process a function has started, the time from
// process start to its first Runtime API poll (its init).
func (e *Executor) InitTimes(name string) []time.Duration {
	e.mu.Lock()
	f, ok := e.funcs[name]
	e.mu.Unlock()
	if !ok {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.initTimes...)
}
