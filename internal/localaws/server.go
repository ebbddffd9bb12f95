// Package localaws is a local AWS for this stack: kumo (in-process) behind a
// front server that adds what kumo lacks and the stack needs (see README.md
// in this folder), a Lambda executor that runs deployed bootstrap zips, an
// SQS event-source poller, message move tasks and schedules.
package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sivchari/kumo"
	"go.uber.org/zap"
)

// kumoQueueHost is the host kumo writes into every queue URL, whatever its port.
const kumoQueueHost = "http://localhost:4566"

// Options configure a Server.
type Options struct {
	Addr           string    // listen address, default 127.0.0.1:4566; ":0" style picks a free port
	Region         string    // default us-east-1
	WorkDir        string    // unpacked function code; default a temporary folder
	FunctionOutput io.Writer // function logs; default discarded
	Log            *zap.Logger
	Instances      int // default processes per function without reserved concurrency; default 4
}

// Server is the running local AWS.
type Server struct {
	URL string // http://host:port, for AWS_ENDPOINT_URL

	opts    Options
	log     *zap.Logger
	kumo    *kumo.Server
	kumoURL *url.URL
	proxy   *httputil.ReverseProxy
	client  *http.Client
	srv     *http.Server
	ownDir  bool

	// SQS and SNS are clients on kumo itself, for the layer's own work.
	SQS *sqs.Client
	SNS *sns.Client

	Executor  *Executor
	poller    *Poller
	moves     *moveTasks
	scheduler *Scheduler
	boards    *dashboards
	alarms    *alarms
	rules     *eventRules

	mu       sync.Mutex
	queues   map[string]map[string]string // queue name -> attributes kumo drops
	lambdas  map[string]*lambdaExtras     // function name -> configuration kumo drops
	rotation map[string]bool              // KMS key id -> rotation enabled
	tables   map[string]*tableExtras      // table name -> PITR and SSE
}

// Start runs kumo and the front server.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:4566"
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
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
	s := &Server{
		opts: opts, log: opts.Log,
		queues: map[string]map[string]string{}, lambdas: map[string]*lambdaExtras{}, rotation: map[string]bool{},
		tables: map[string]*tableExtras{},
	}
	if s.opts.WorkDir == "" {
		dir, err := os.MkdirTemp("", "localaws-*")
		if err != nil {
			return nil, fmt.Errorf("create work folder: %w", err)
		}
		s.opts.WorkDir, s.ownDir = dir, true
	}

	s.kumo = kumo.NewServer()
	s.kumoURL, _ = url.Parse(s.kumo.URL)
	// Keep connections to kumo open: every SDK call of every function goes
	// through here, and the default transport keeps only 2 idle per host.
	toKumo := http.DefaultTransport.(*http.Transport).Clone()
	toKumo.MaxIdleConns, toKumo.MaxIdleConnsPerHost = 512, 512
	s.proxy = httputil.NewSingleHostReverseProxy(s.kumoURL)
	s.proxy.Transport = toKumo
	// No FlushInterval: flushing every write sent kumo's chunked answers in
	// pieces, and the Terraform provider's client then failed about one
	// apply in ten with "use of closed network connection" while reading a
	// 200 answer (SNS GetTopicAttributes, ListTagsForResource).
	s.proxy.ModifyResponse = s.fixResponse
	s.client = &http.Client{Timeout: 5 * time.Minute, Transport: toKumo}

	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", opts.Addr)
	if err != nil {
		s.kumo.Close()
		return nil, fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	s.URL = "http://" + ln.Addr().String()

	cfg := aws.Config{
		Region:       opts.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(s.kumo.URL),
	}
	s.SQS = sqs.NewFromConfig(cfg)
	s.SNS = sns.NewFromConfig(cfg)
	s.Executor, err = NewExecutor(s.log.Named("executor"), s.opts.WorkDir, opts.FunctionOutput)
	if err != nil {
		s.kumo.Close()
		_ = ln.Close()
		return nil, err
	}
	s.moves = newMoveTasks(s)
	s.poller = newPoller(s)
	s.scheduler = newScheduler(s)
	s.boards = newDashboards(opts.Region)
	s.alarms = newAlarms()
	s.rules = newEventRules(s)

	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	s.log.Info("local AWS listening", zap.String("url", s.URL))
	return s, nil
}

// ClientConfig is an AWS SDK configuration for clients of this local AWS.
func (s *Server) ClientConfig() aws.Config {
	return aws.Config{
		Region:       s.opts.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(s.URL),
	}
}

// Close stops everything Start started.
func (s *Server) Close() {
	s.scheduler.stop()
	s.poller.stopAll()
	s.moves.stopAll()
	s.Executor.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	s.kumo.Close()
	if s.ownDir {
		_ = os.RemoveAll(s.opts.WorkDir)
	}
}

// ServeHTTP routes a request to the compatibility layer or to kumo.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_localaws/") {
		s.admin(w, r)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		service, op, _ := strings.Cut(target, ".")
		if h := s.targetHandler(service, op); h != nil {
			h(w, r)
			return
		}
	}
	if s.routeREST(w, r) || s.boards.route(w, r) {
		return
	}
	if form, body, ok := queryForm(r); ok && (s.boards.routeQuery(w, form) || s.routeAlarms(w, r, form, body)) {
		return
	}
	s.proxy.ServeHTTP(w, r)
}

// fixResponse makes kumo's responses what SDKs expect: queue URLs on this
// server's address, and DynamoDB's CRC32 header, which the SDK validates.
func (s *Server) fixResponse(resp *http.Response) error {
	target := resp.Request.Header.Get("X-Amz-Target")
	rewrite := strings.HasPrefix(target, "AmazonSQS.") && s.URL != kumoQueueHost
	needCRC := strings.HasPrefix(target, "DynamoDB_") && resp.Header.Get("X-Amz-Crc32") == ""
	if !rewrite && !needCRC {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read kumo response: %w", err)
	}
	_ = resp.Body.Close()
	if rewrite {
		body = bytes.ReplaceAll(body, []byte(kumoQueueHost), []byte(s.URL))
	}
	if needCRC {
		resp.Header.Set("X-Amz-Crc32", crc(body))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// crc is the X-Amz-Crc32 value of a DynamoDB response body.
func crc(body []byte) string { return strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10) }

// forward sends a request to kumo with body and returns its status, headers
// and body, for handlers that need to read or amend kumo's answer.
func (s *Server) forward(r *http.Request, body []byte) (int, http.Header, []byte, error) {
	u := *s.kumoURL
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build kumo request: %w", err)
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Content-Length")
	req.ContentLength = int64(len(body))
	resp, err := s.client.Do(req) //nolint:gosec // always the in-process kumo
	if err != nil {
		return 0, nil, nil, fmt.Errorf("call kumo: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read kumo response: %w", err)
	}
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.") && s.URL != kumoQueueHost {
		out = bytes.ReplaceAll(out, []byte(kumoQueueHost), []byte(s.URL))
	}
	return resp.StatusCode, resp.Header, out, nil
}

// exchange forwards body to kumo and returns its answer; when kumo cannot be
// reached it answers the client itself and returns ok false.
func (s *Server) exchange(w http.ResponseWriter, r *http.Request, body []byte) (int, http.Header, []byte, bool) {
	status, h, out, err := s.forward(r, body)
	if err != nil {
		writeAWSError(w, http.StatusBadGateway, "InternalFailure", err.Error())
		return 0, nil, nil, false
	}
	return status, h, out, true
}

// readAndExchange reads r's body and forwards it to kumo; it returns the
// body and kumo's answer, or ok false when it has answered the client itself.
func (s *Server) readAndExchange(w http.ResponseWriter, r *http.Request) ([]byte, int, http.Header, []byte, bool) {
	body, ok := readOrReject(w, r)
	if !ok {
		return nil, 0, nil, nil, false
	}
	status, h, out, ok := s.exchange(w, r, body)
	return body, status, h, out, ok
}

// amendJSON forwards r to kumo and lets amend change a successful JSON
// answer, given the request body; amend returns false to relay kumo's answer
// as is, as is any failure.
func (s *Server) amendJSON(w http.ResponseWriter, r *http.Request, amend func(body []byte, resp map[string]any) bool) {
	body, status, h, out, ok := s.readAndExchange(w, r)
	if !ok {
		return
	}
	var resp map[string]any
	if status >= 300 || json.Unmarshal(out, &resp) != nil || !amend(body, resp) {
		relay(w, status, h, out)
		return
	}
	writeJSON(w, status, resp)
}

// readOrReject reads the request body, answering 400 itself when it cannot.
func readOrReject(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := readBody(r)
	if err != nil {
		writeAWSError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return nil, false
	}
	return body, true
}

// relay writes kumo's answer back unchanged.
func relay(w http.ResponseWriter, status int, h http.Header, body []byte) {
	for k, v := range h {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) //nolint:gosec // an API response relayed as is, not HTML
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 128<<20))
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	return b, nil
}

// writeJSON writes v with the AWS JSON 1.0 content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeAWSError writes an error the way the JSON protocols do.
func writeAWSError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("X-Amzn-Errortype", code)
	writeJSON(w, status, map[string]string{"__type": code, "message": message, "Message": message})
}

// admin serves the layer's own endpoints:
//
//	GET  /_localaws/health
//	POST /_localaws/schedules/{name}/trigger   fire a schedule now
//	POST /_localaws/functions/{name}/crash     kill a function's processes
func (s *Server) admin(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_localaws/health":
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/_localaws/functions/") && strings.HasSuffix(r.URL.Path, "/crash"):
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_localaws/functions/"), "/crash")
		if err := s.Executor.Crash(name); err != nil {
			writeAWSError(w, http.StatusNotFound, "ResourceNotFoundException", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"crashed": name})
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/_localaws/schedules/") && strings.HasSuffix(r.URL.Path, "/trigger"):
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_localaws/schedules/"), "/trigger")
		if err := s.scheduler.Trigger(r.Context(), name); err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, errNoSchedule) {
				status = http.StatusNotFound
			}
			writeAWSError(w, status, "ScheduleTriggerFailed", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"triggered": name})
	default:
		writeAWSError(w, http.StatusNotFound, "UnknownOperation", r.URL.Path)
	}
}

// queueName returns the last path element of a queue URL or ARN.
func queueName(urlOrARN string) string {
	if i := strings.LastIndexAny(urlOrARN, "/:"); i >= 0 {
		return urlOrARN[i+1:]
	}
	return urlOrARN
}
