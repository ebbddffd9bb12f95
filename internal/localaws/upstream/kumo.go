// Package upstream is the local AWS's way to kumo, which runs in-process
// behind the front server: the reverse proxy for what the layer does not
// own, calls whose answers a handler reads or amends, per-service fixes to
// kumo's answers, and SDK clients on kumo for the layer's own work.
package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sivchari/kumo"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/faults"
)

// Fixer amends a kumo answer to a JSON-protocol operation whose target
// starts with the prefix it is registered for; it may change the headers.
type Fixer func(h http.Header, body []byte) []byte

// Kumo is the in-process kumo and the layer's access to it.
type Kumo struct {
	// SQS, SNS, Logs and IAM are clients on kumo itself, for the layer's own work.
	SQS  *sqs.Client
	SNS  *sns.Client
	Logs *cloudwatchlogs.Client
	IAM  *iam.Client
	// Reads are clients for the layer's bookkeeping reads (the access
	// guard's), which meet no injected faults: AWS's own lookups do not fail
	// with a client's call.
	Reads Reads

	srv    *kumo.Server
	url    *url.URL
	proxy  *httputil.ReverseProxy
	client *http.Client
	fixers map[string]Fixer // X-Amz-Target prefix -> fix; set before serving, read only after

	sqsCounter  atomic.Pointer[SQSCounter]
	sqsObserver atomic.Pointer[SQSObserver]
}

// Reads are kumo clients without injected faults.
type Reads struct {
	SQS *sqs.Client
	SNS *sns.Client
	KMS *kms.Client
}

// startMu serialises kumo.NewServer: kumo's services are process-wide and
// each new server rewires them (SNS and S3 to SQS) without a lock.
var startMu sync.Mutex

// NewServer starts a bare kumo on a random loopback port. Every kumo of the
// process must start through it (see startMu).
func NewServer() *kumo.Server {
	startMu.Lock()
	defer startMu.Unlock()
	return kumo.NewServer()
}

// Start runs kumo on a random loopback port. The layer's own SQS calls (the
// poller's receives and deletes, move tasks) meet inj's faults, as a
// client's calls meet them at the front server.
func Start(region string, inj *faults.Injector) *Kumo {
	srv := NewServer()
	u, _ := url.Parse(srv.URL) // kumo's own http://127.0.0.1:port
	// Keep connections to kumo open: every SDK call of every function goes
	// through here, and the default transport keeps only 2 idle per host.
	toKumo := http.DefaultTransport.(*http.Transport).Clone()
	toKumo.MaxIdleConns, toKumo.MaxIdleConnsPerHost = 512, 512
	k := &Kumo{srv: srv, url: u, fixers: map[string]Fixer{}}
	counting := countingTransport{next: toKumo, k: k}
	k.client = &http.Client{Timeout: 5 * time.Minute, Transport: counting}
	k.proxy = httputil.NewSingleHostReverseProxy(u)
	k.proxy.Transport = counting
	// No FlushInterval: the front server sends each answer whole
	// (localaws/answers.go says why).
	k.proxy.ModifyResponse = k.fixResponse
	k.proxy.ErrorHandler = proxyError
	cfg := principals.AdminConfig(srv.URL, region)
	cfg.HTTPClient = &http.Client{Transport: faultingTransport{next: counting, faults: inj}}
	k.SQS = sqs.NewFromConfig(cfg)
	k.SNS = sns.NewFromConfig(cfg)
	k.Logs = cloudwatchlogs.NewFromConfig(cfg)
	k.IAM = iam.NewFromConfig(cfg)
	plain := cfg
	plain.HTTPClient = &http.Client{Transport: counting}
	k.Reads = Reads{SQS: sqs.NewFromConfig(plain), SNS: sns.NewFromConfig(plain), KMS: kms.NewFromConfig(plain)}
	return k
}

// proxyError answers a call kumo could not: 502, as the proxy does by
// default, and quietly when the caller went away (a function process
// killed mid-call): there is no one to answer.
func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	log.Printf("localaws: proxy to kumo: %v", err)
	w.WriteHeader(http.StatusBadGateway)
}

// Close stops kumo.
func (k *Kumo) Close() { k.srv.Close() }

// Fix registers a fix for kumo's answers to the JSON-protocol operations
// whose X-Amz-Target starts with prefix. Register before serving.
func (k *Kumo) Fix(prefix string, f Fixer) { k.fixers[prefix] = f }

func (k *Kumo) fixerFor(target string) Fixer {
	for prefix, f := range k.fixers {
		if strings.HasPrefix(target, prefix) {
			return f
		}
	}
	return nil
}

// ServeHTTP proxies r to kumo, applying the fixes for its operation.
func (k *Kumo) ServeHTTP(w http.ResponseWriter, r *http.Request) { k.proxy.ServeHTTP(w, r) }

func (k *Kumo) fixResponse(resp *http.Response) error {
	fix := k.fixerFor(resp.Request.Header.Get("X-Amz-Target"))
	if fix == nil {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read kumo response: %w", err)
	}
	_ = resp.Body.Close()
	body = fix(resp.Header, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// Forward sends r with body to kumo and returns its status, headers and
// (fixed) body, for handlers that read or amend kumo's answer.
func (k *Kumo) Forward(r *http.Request, body []byte) (int, http.Header, []byte, error) {
	u := *k.url
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build kumo request: %w", err)
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Content-Length")
	req.ContentLength = int64(len(body))
	resp, err := k.client.Do(req) //nolint:gosec // always the in-process kumo
	if err != nil {
		return 0, nil, nil, fmt.Errorf("call kumo: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read kumo response: %w", err)
	}
	if fix := k.fixerFor(r.Header.Get("X-Amz-Target")); fix != nil {
		out = fix(resp.Header, out)
	}
	return resp.StatusCode, resp.Header, out, nil
}

// Exchange forwards body to kumo and returns its answer; when kumo cannot be
// reached it answers the client itself and returns ok false.
func (k *Kumo) Exchange(w http.ResponseWriter, r *http.Request, body []byte) (int, http.Header, []byte, bool) {
	status, h, out, err := k.Forward(r, body)
	if err != nil {
		awsapi.WriteError(w, http.StatusBadGateway, "InternalFailure", err.Error())
		return 0, nil, nil, false
	}
	return status, h, out, true
}

// ReadAndExchange reads r's body and forwards it to kumo; it returns the
// body and kumo's answer, or ok false when it has answered the client itself.
func (k *Kumo) ReadAndExchange(w http.ResponseWriter, r *http.Request) ([]byte, int, http.Header, []byte, bool) {
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return nil, 0, nil, nil, false
	}
	status, h, out, ok := k.Exchange(w, r, body)
	return body, status, h, out, ok
}

// AmendJSON forwards r to kumo and lets amend change a successful JSON
// answer, given the request body; amend returns false to relay kumo's answer
// as is, as is any failure.
func (k *Kumo) AmendJSON(w http.ResponseWriter, r *http.Request, amend func(body []byte, resp map[string]any) bool) {
	body, status, h, out, ok := k.ReadAndExchange(w, r)
	if !ok {
		return
	}
	var resp map[string]any
	if status >= 300 || json.Unmarshal(out, &resp) != nil || !amend(body, resp) {
		awsapi.Relay(w, status, h, out)
		return
	}
	awsapi.WriteJSON(w, status, resp)
}

// QueueURL returns the URL (on kumo) of the queue an ARN names.
func (k *Kumo) QueueURL(ctx context.Context, arn string) (string, error) {
	out, err := k.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(awsapi.ResourceName(arn))})
	if err != nil {
		return "", fmt.Errorf("queue %s: %w", arn, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// QueueHost is the host kumo writes into every queue URL, whatever its
// port; kumo matches queue URLs by path.
const QueueHost = "http://localhost:4566"

// Call sends a JSON-protocol request (X-Amz-Target target, e.g.
// "DynamoDB_20120810.GetItem") to kumo for the layer's own bookkeeping: it
// meets no injected faults and is signed by no one. It returns kumo's status
// and (fixed) answer.
func (k *Kumo) Call(ctx context.Context, target string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.url.String()+"/", bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("build kumo request: %w", err)
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := k.client.Do(req) //nolint:gosec // always the in-process kumo
	if err != nil {
		return 0, nil, fmt.Errorf("call kumo: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("read kumo response: %w", err)
	}
	if fix := k.fixerFor(target); fix != nil {
		out = fix(resp.Header, out)
	}
	return resp.StatusCode, out, nil
}
