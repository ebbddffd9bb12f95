package localaws

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
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
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
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
	EndpointURL string // AWS_ENDPOINT_URL given to the function
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
// Lambda does. A process that crashes or overruns its timeout is replaced.
type Executor struct {
	log     *zap.Logger
	workDir string
	output  io.Writer // function stdout and stderr, each line prefixed

	mu    sync.Mutex
	funcs map[string]*function

	srv  *http.Server
	addr string
}

type function struct {
	spec    FunctionSpec
	dir     string
	queue   chan *invocation
	stopped chan struct{}

	mu        sync.Mutex
	instances map[string]*instance
	initErr   string
	initTimes []time.Duration // process start to first Runtime API poll
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
	polled  bool // reached the Runtime API: its init completed
	started time.Time
}

// NewExecutor starts the executor's Runtime API on a loopback port. Function
// code is unpacked under workDir; function output goes to output.
func NewExecutor(log *zap.Logger, workDir string, output io.Writer) (*Executor, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the runtime API: %w", err)
	}
	e := &Executor{log: log, workDir: workDir, output: output, funcs: map[string]*function{}, addr: ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rt/{fn}/{inst}/2018-06-01/runtime/invocation/next", e.next)
	mux.HandleFunc("POST /rt/{fn}/{inst}/2018-06-01/runtime/invocation/{id}/response", e.respond(false))
	mux.HandleFunc("POST /rt/{fn}/{inst}/2018-06-01/runtime/invocation/{id}/error", e.respond(true))
	mux.HandleFunc("POST /rt/{fn}/{inst}/2018-06-01/runtime/init/error", e.initError)
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
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
	if err := checkZip(spec.Zip); err != nil {
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
	for range spec.Instances {
		e.start(f)
	}
	e.log.Info("function deployed", zap.String("function", spec.Name), zap.Int("instances", spec.Instances), zap.Duration("timeout", spec.Timeout))
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
		return Result{}, ErrThrottled
	}
	inv := &invocation{id: uuid.NewString(), payload: payload, done: make(chan Result, 1)}
	select {
	case f.queue <- inv:
	case <-f.stopped:
		return Result{}, fmt.Errorf("function %s was replaced while waiting: %w", name, ErrNoFunction)
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: %w", name, ctx.Err())
	}
	select {
	case r := <-inv.done:
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
	for _, in := range f.running() {
		in.kill()
	}
	go func() { // let killed processes exit before their code goes
		time.Sleep(time.Second)
		_ = os.RemoveAll(f.dir)
	}()
}

func (f *function) isStopped() bool {
	select {
	case <-f.stopped:
		return true
	default:
		return false
	}
}

// start launches one process and supervises it: when it exits, the
// invocation it held fails and, unless the function stopped, a new process
// takes its place.
func (e *Executor) start(f *function) {
	in := &instance{id: uuid.NewString()[:8], fn: f}
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + e.addr + "/rt/" + f.spec.Name + "/" + in.id,
		"AWS_LAMBDA_FUNCTION_NAME=" + f.spec.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(max(f.spec.MemoryMB, 128)),
		"AWS_REGION=" + f.spec.Region,
		"AWS_DEFAULT_REGION=" + f.spec.Region,
		"AWS_ENDPOINT_URL=" + f.spec.EndpointURL,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"LAMBDA_TASK_ROOT=" + f.dir,
		"_HANDLER=bootstrap",
		"TZ=UTC",
	}
	for k, v := range f.spec.Env {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(filepath.Join(f.dir, "bootstrap")) //nolint:gosec,noctx // the deployed function is the point; its lifetime is the instance's
	cmd.Dir = f.dir
	cmd.Env = env
	prefix := fmt.Sprintf("[%s %s] ", f.spec.Name, in.id)
	cmd.Stdout = &linePrefixer{w: e.output, prefix: prefix}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in.cmd = cmd

	f.mu.Lock()
	f.instances[in.id] = in
	f.mu.Unlock()

	in.started = time.Now()
	if err := cmd.Start(); err != nil {
		e.log.Error("function process did not start", zap.String("function", f.spec.Name), zap.Error(err))
		f.mu.Lock()
		delete(f.instances, in.id)
		f.mu.Unlock()
		return
	}
	go func() {
		err := cmd.Wait()
		f.mu.Lock()
		delete(f.instances, in.id)
		initErr := f.initErr
		f.mu.Unlock()
		in.fail(fmt.Sprintf("Runtime.ExitError: process exited: %v", err))
		in.mu.Lock()
		initFailed := !in.polled
		in.mu.Unlock()
		if initFailed {
			// As Lambda does, an init failure fails the invocation waiting for it.
			initErr = "init failed"
			select {
			case inv := <-f.queue:
				inv.finish(errorResult("Runtime.ExitError", fmt.Sprintf("the function's process exited during init (%v); see its log", err)))
			default:
			}
		}
		if f.isStopped() {
			return
		}
		e.log.Warn("function process exited; restarting", zap.String("function", f.spec.Name), zap.String("instance", in.id), zap.Error(err))
		backoff := 100 * time.Millisecond
		if initErr != "" {
			backoff = 2 * time.Second // a failing init would otherwise spin
		}
		select {
		case <-time.After(backoff):
			e.start(f)
		case <-f.stopped:
		}
	}()
}

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

func (in *instance) kill() {
	if in.cmd != nil && in.cmd.Process != nil {
		_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
	}
}

func (e *Executor) lookup(r *http.Request) (*function, *instance) {
	e.mu.Lock()
	f := e.funcs[r.PathValue("fn")]
	e.mu.Unlock()
	if f == nil {
		return nil, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f, f.instances[r.PathValue("inst")]
}

// next hands the next invocation to a polling process.
func (e *Executor) next(w http.ResponseWriter, r *http.Request) {
	f, in := e.lookup(r)
	if in == nil {
		http.Error(w, `{"errorType":"InvalidInstance"}`, http.StatusForbidden)
		return
	}
	in.mu.Lock()
	first := !in.polled
	in.polled = true
	in.mu.Unlock()
	if first {
		f.mu.Lock()
		f.initTimes = append(f.initTimes, time.Since(in.started))
		f.mu.Unlock()
	}
	var inv *invocation
	select {
	case inv = <-f.queue:
	case <-f.stopped:
		http.Error(w, `{"errorType":"FunctionStopped"}`, http.StatusGone)
		return
	case <-r.Context().Done():
		return
	}
	inv.deadline = time.Now().Add(f.spec.Timeout)
	in.mu.Lock()
	in.current = inv
	in.timer = time.AfterFunc(f.spec.Timeout, func() {
		in.mu.Lock()
		timedOut := in.current == inv
		if timedOut {
			in.current = nil
		}
		in.mu.Unlock()
		if timedOut {
			inv.finish(errorResult("Sandbox.Timedout", fmt.Sprintf("Task timed out after %.2f seconds", f.spec.Timeout.Seconds())))
			in.kill() // as Lambda does: the sandbox is replaced
		}
	})
	in.mu.Unlock()

	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", f.spec.ARN)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-"+strings.ReplaceAll(inv.id, "-", "")[:24]+";Sampled=0")
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.payload)
}

// respond takes a process's response or error for its current invocation.
func (e *Executor) respond(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, in := e.lookup(r)
		body, _ := io.ReadAll(io.LimitReader(r.Body, 6<<20))
		if in == nil {
			w.WriteHeader(http.StatusAccepted) // a replaced process; its answer no longer counts
			return
		}
		in.mu.Lock()
		inv := in.current
		if inv == nil || inv.id != r.PathValue("id") {
			in.mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
			return
		}
		in.current = nil
		in.timer.Stop()
		in.mu.Unlock()
		res := Result{Payload: body}
		if isError {
			res.FunctionError = "Unhandled"
		}
		inv.finish(res)
		w.WriteHeader(http.StatusAccepted)
	}
}

func (e *Executor) initError(w http.ResponseWriter, r *http.Request) {
	f, _ := e.lookup(r)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if f != nil {
		f.mu.Lock()
		f.initErr = string(body)
		f.mu.Unlock()
		e.log.Error("function init failed", zap.String("function", f.spec.Name), zap.ByteString("error", body))
	}
	w.WriteHeader(http.StatusAccepted)
}

func errorResult(kind, message string) Result {
	b, _ := json.Marshal(map[string]string{"errorType": kind, "errorMessage": message})
	return Result{Payload: b, FunctionError: "Unhandled"}
}

func unzip(data []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("read zip: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, zf := range zr.File {
		name := filepath.Clean(zf.Name)
		if strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			return fmt.Errorf("zip entry %q leaves the function folder", zf.Name)
		}
		if zf.FileInfo().IsDir() {
			continue
		}
		if err := extract(zf, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

func extract(zf *zip.File, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	src, err := zf.Open()
	if err != nil {
		return fmt.Errorf("open %s: %w", zf.Name, err)
	}
	defer src.Close()
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o700) //nolint:gosec // function code must be executable
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := io.Copy(dst, io.LimitReader(src, 512<<20)); err != nil {
		dst.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// checkZip refuses, from the zip in memory, code this machine cannot run:
// no bootstrap, or a bootstrap built for another CPU.
func checkZip(data []byte) error {
	if len(data) == 0 {
		return errors.New("only zip packages are supported by the local AWS: give Code.ZipFile")
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("read zip: %w", err)
	}
	entry, err := zr.Open("bootstrap")
	if err != nil {
		return fmt.Errorf("the zip has no bootstrap (%w); build it with make build-host", err)
	}
	defer entry.Close()
	// The machine is in the ELF file header: read that, not the whole binary.
	machine, err := elfMachine(entry)
	if err != nil {
		return fmt.Errorf("bootstrap is not a Linux executable (%w); build it with make build-host", err)
	}
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	want, known := machines[runtime.GOARCH]
	if known && machine != want {
		return fmt.Errorf("bootstrap is built for %s but this machine is %s: build it with make build ARCH=%s (or make build-host)",
			archName(machine), runtime.GOARCH, runtime.GOARCH)
	}
	return nil
}

// elfMachine reads the target machine from the ELF file header at the start of r.
func elfMachine(r io.Reader) (elf.Machine, error) {
	var ident [elf.EI_NIDENT]byte
	if _, err := io.ReadFull(r, ident[:]); err != nil {
		return 0, fmt.Errorf("read ELF header: %w", err)
	}
	if string(ident[:4]) != elf.ELFMAG {
		return 0, errors.New("no ELF magic number")
	}
	var order binary.ByteOrder = binary.LittleEndian
	if elf.Data(ident[elf.EI_DATA]) == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	// e_type, then e_machine: the same place in 32- and 64-bit headers.
	var typeAndMachine [2]uint16
	if err := binary.Read(r, order, &typeAndMachine); err != nil {
		return 0, fmt.Errorf("read ELF header: %w", err)
	}
	return elf.Machine(typeAndMachine[1]), nil
}

func archName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	}
	return m.String()
}

// linePrefixer writes whole lines with a prefix, safe for concurrent use.
type linePrefixer struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

var outputMu sync.Mutex // lines of different processes do not interleave

func (p *linePrefixer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		outputMu.Lock()
		_, _ = io.WriteString(p.w, p.prefix)
		_, _ = p.w.Write(p.buf[:i+1])
		outputMu.Unlock()
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
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
