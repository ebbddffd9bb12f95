package localaws

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap"
)

// lambdaExtras is a function's configuration that kumo drops or lacks.
type lambdaExtras struct {
	Config           map[string]json.RawMessage // TracingConfig, LoggingConfig, DeadLetterConfig, KMSKeyArn
	Reserved         *int                       // PutFunctionConcurrency
	EventInvokeConf  json.RawMessage            // Put/UpdateFunctionEventInvokeConfig body
	OnFailureQueue   string                     // from EventInvokeConf
	MaxRetryAttempts int
}

// keep copies the fields kumo drops from a create or update request.
func (ex *lambdaExtras) keep(raw map[string]json.RawMessage) {
	for _, k := range droppedConfig {
		if v, ok := raw[k]; ok {
			ex.Config[k] = v
		}
	}
}

// droppedConfig are CreateFunction fields kumo does not keep.
var droppedConfig = []string{"TracingConfig", "LoggingConfig", "DeadLetterConfig", "KMSKeyArn", "EphemeralStorage"}

var (
	reFunctions     = regexp.MustCompile(`^/2015-03-31/functions/?$`)
	reFunction      = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/?$`)
	reFunctionCode  = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/code$`)
	reFunctionConf  = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/configuration$`)
	reInvoke        = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations$`)
	reConcurrency   = regexp.MustCompile(`^/2017-10-31/functions/([^/]+)/concurrency$`)
	reConcurrency19 = regexp.MustCompile(`^/2019-09-30/functions/([^/]+)/concurrency$`)
	reInvokeConfig  = regexp.MustCompile(`^/2019-09-25/functions/([^/]+)/event-invoke-config$`)
	reMappings      = regexp.MustCompile(`^/2015-03-31/event-source-mappings/?$`)
	reMapping       = regexp.MustCompile(`^/2015-03-31/event-source-mappings/([^/]+)$`)
	reSchedule      = regexp.MustCompile(`^/schedules/([^/]+)$`)
)

// functionName accepts a name, a partial or full ARN, with or without qualifier.
func functionName(s string) string {
	if i := strings.Index(s, "function:"); i >= 0 {
		s = s[i+len("function:"):]
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

// routeREST handles the REST-protocol operations the layer owns or amends.
func (s *Server) routeREST(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	switch {
	case reFunctions.MatchString(p) && r.Method == http.MethodPost:
		s.createFunction(w, r)
	case reFunctionCode.MatchString(p) && r.Method == http.MethodPut:
		s.updateFunction(w, r, reFunctionCode.FindStringSubmatch(p)[1], true)
	case reFunctionConf.MatchString(p) && r.Method == http.MethodPut:
		s.updateFunction(w, r, reFunctionConf.FindStringSubmatch(p)[1], false)
	case reFunctionConf.MatchString(p) && r.Method == http.MethodGet:
		s.getFunction(w, r, functionName(reFunctionConf.FindStringSubmatch(p)[1]), false)
	case reFunction.MatchString(p) && r.Method == http.MethodGet:
		s.getFunction(w, r, functionName(reFunction.FindStringSubmatch(p)[1]), true)
	case reFunction.MatchString(p) && r.Method == http.MethodDelete:
		s.deleteFunction(w, r, functionName(reFunction.FindStringSubmatch(p)[1]))
	case reInvoke.MatchString(p) && r.Method == http.MethodPost && s.Executor.Deployed(functionName(reInvoke.FindStringSubmatch(p)[1])):
		s.invoke(w, r, functionName(reInvoke.FindStringSubmatch(p)[1]))
	case reConcurrency.MatchString(p) || reConcurrency19.MatchString(p):
		m := reConcurrency.FindStringSubmatch(p)
		if m == nil {
			m = reConcurrency19.FindStringSubmatch(p)
		}
		s.concurrency(w, r, functionName(m[1]))
	case reInvokeConfig.MatchString(p):
		s.eventInvokeConfig(w, r, functionName(reInvokeConfig.FindStringSubmatch(p)[1]))
	case reMappings.MatchString(p) && r.Method == http.MethodPost:
		s.poller.create(w, r)
	case reMappings.MatchString(p) && r.Method == http.MethodGet:
		s.poller.listMappings(w, r)
	case reMapping.MatchString(p):
		s.poller.mapping(w, r, reMapping.FindStringSubmatch(p)[1])
	case reSchedule.MatchString(p):
		s.scheduler.handle(w, r, reSchedule.FindStringSubmatch(p)[1])
	default:
		return false
	}
	return true
}

type functionRequest struct {
	FunctionName  string `json:"FunctionName"`
	Code          struct{ ZipFile []byte }
	ZipFile       []byte   `json:"ZipFile"`
	Timeout       int      `json:"Timeout"`
	MemorySize    int      `json:"MemorySize"`
	Architectures []string `json:"Architectures"`
	Environment   *struct{ Variables map[string]string }
}

// createFunction checks the zip can run here, lets kumo store the function,
// keeps what kumo drops, and starts the code.
func (s *Server) createFunction(w http.ResponseWriter, r *http.Request) {
	body, ok := readOrReject(w, r)
	if !ok {
		return
	}
	var req functionRequest
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &req) != nil || json.Unmarshal(body, &raw) != nil {
		writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", "request body is not JSON")
		return
	}
	spec := s.specFrom(req, nil)
	if err := checkZip(spec.Zip); err != nil {
		writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
		return
	}
	status, h, out, ok := s.exchange(w, r, body)
	if !ok {
		return
	}
	if status >= 300 {
		relay(w, status, h, out)
		return
	}
	ex := &lambdaExtras{Config: map[string]json.RawMessage{}}
	ex.keep(raw)
	s.mu.Lock()
	s.lambdas[req.FunctionName] = ex
	s.mu.Unlock()
	spec.ARN = arnOf(out)
	if err := s.Executor.Deploy(spec); err != nil {
		writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
		return
	}
	relay(w, status, h, s.withExtras(out, req.FunctionName))
}

// specFrom builds an executor spec from a create or update request, on top of prev.
func (s *Server) specFrom(req functionRequest, prev *FunctionSpec) FunctionSpec {
	spec := FunctionSpec{Region: s.opts.Region, EndpointURL: s.URL, Instances: s.opts.Instances, Timeout: 3 * time.Second}
	if prev != nil {
		spec = *prev
	}
	if req.FunctionName != "" {
		spec.Name = req.FunctionName
	}
	if len(req.Code.ZipFile) > 0 {
		spec.Zip = req.Code.ZipFile
	}
	if len(req.ZipFile) > 0 {
		spec.Zip = req.ZipFile
	}
	if req.Timeout > 0 {
		spec.Timeout = time.Duration(req.Timeout) * time.Second
	}
	if req.MemorySize > 0 {
		spec.MemoryMB = req.MemorySize
	}
	if len(req.Architectures) > 0 {
		spec.Arch = req.Architectures[0]
	}
	if req.Environment != nil {
		spec.Env = req.Environment.Variables
	}
	return spec
}

func (s *Server) updateFunction(w http.ResponseWriter, r *http.Request, name string, code bool) {
	name = functionName(name)
	body, ok := readOrReject(w, r)
	if !ok {
		return
	}
	var req functionRequest
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(body, &req)
	_ = json.Unmarshal(body, &raw)
	prev, deployed := s.Executor.Spec(name)
	spec := s.specFrom(req, &prev)
	if code {
		if err := checkZip(spec.Zip); err != nil {
			writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
			return
		}
	}
	status, h, out, ok := s.exchange(w, r, body)
	if !ok {
		return
	}
	if status < 300 {
		s.mu.Lock()
		if ex := s.lambdas[name]; ex != nil && !code {
			ex.keep(raw)
		}
		s.mu.Unlock()
		if deployed || code {
			spec.Name, spec.ARN = name, arnOf(out)
			if err := s.Executor.Deploy(spec); err != nil {
				writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
				return
			}
		}
		out = s.withExtras(out, name)
	}
	relay(w, status, h, out)
}

func (s *Server) getFunction(w http.ResponseWriter, r *http.Request, name string, wrapped bool) {
	status, h, out, ok := s.exchange(w, r, nil)
	if !ok {
		return
	}
	if status < 300 {
		if wrapped {
			var resp map[string]json.RawMessage
			if json.Unmarshal(out, &resp) == nil {
				resp["Configuration"] = s.withExtras(resp["Configuration"], name)
				if ex := s.extras(name); ex != nil && ex.Reserved != nil {
					resp["Concurrency"], _ = json.Marshal(map[string]int{"ReservedConcurrentExecutions": *ex.Reserved})
				}
				out, _ = json.Marshal(resp)
			}
		} else {
			out = s.withExtras(out, name)
		}
	}
	relay(w, status, h, out)
}

func (s *Server) deleteFunction(w http.ResponseWriter, r *http.Request, name string) {
	status, h, out, ok := s.exchange(w, r, nil)
	if !ok {
		return
	}
	if status < 300 {
		s.Executor.Remove(name)
		s.mu.Lock()
		delete(s.lambdas, name)
		s.mu.Unlock()
	}
	relay(w, status, h, out)
}

func (s *Server) extras(name string) *lambdaExtras {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lambdas[name]
}

// withExtras adds the kept configuration to a function configuration document.
func (s *Server) withExtras(doc []byte, name string) []byte {
	ex := s.extras(name)
	var m map[string]json.RawMessage
	if ex == nil || json.Unmarshal(doc, &m) != nil {
		return doc
	}
	for k, v := range ex.Config {
		m[k] = v
	}
	out, err := json.Marshal(m)
	if err != nil {
		return doc
	}
	return out
}

func arnOf(doc []byte) string {
	var m struct{ FunctionArn string }
	_ = json.Unmarshal(doc, &m)
	return m.FunctionArn
}

// invoke runs a function through the executor: RequestResponse waits,
// Event queues with Lambda's asynchronous retries and on-failure destination.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, name string) {
	payload, err := readBody(r)
	if err != nil {
		writeAWSError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
	case "Event":
		go s.invokeAsync(name, payload) //nolint:gosec // an Event invocation outlives its request, as on AWS
		w.WriteHeader(http.StatusAccepted)
	default:
		res, err := s.Executor.Invoke(r.Context(), name, payload)
		switch {
		case errors.Is(err, ErrThrottled):
			writeAWSError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.")
			return
		case err != nil:
			writeAWSError(w, http.StatusInternalServerError, "ServiceException", err.Error())
			return
		}
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		if res.FunctionError != "" {
			w.Header().Set("X-Amz-Function-Error", res.FunctionError)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(res.Payload)
	}
}

// invokeAsync retries a failed event twice (or as configured), then sends a
// record of the failure to the on-failure destination, as Lambda does.
func (s *Server) invokeAsync(name string, payload []byte) {
	retries, dest := 2, ""
	if ex := s.extras(name); ex != nil && ex.EventInvokeConf != nil {
		retries, dest = ex.MaxRetryAttempts, ex.OnFailureQueue
	}
	ctx := context.Background()
	var res Result
	var err error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * time.Second)
		}
		res, err = s.Executor.Invoke(ctx, name, payload)
		if err == nil && res.FunctionError == "" {
			return
		}
	}
	s.log.Warn("asynchronous invocation failed", zap.String("function", name), zap.Error(err), zap.ByteString("payload", res.Payload))
	if dest == "" {
		return
	}
	record, _ := json.Marshal(map[string]any{
		"version":         "1.0",
		"timestamp":       time.Now().UTC().Format(time.RFC3339Nano),
		"requestContext":  map[string]any{"functionArn": name, "condition": "RetriesExhausted", "approximateInvokeCount": retries + 1},
		"requestPayload":  json.RawMessage(payload),
		"responsePayload": json.RawMessage(nonEmpty(res.Payload)),
	})
	u, qerr := s.queueURL(ctx, dest)
	if qerr == nil {
		_, qerr = s.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &u, MessageBody: stringPtr(string(record))})
	}
	if qerr != nil {
		s.log.Error("on-failure destination not reached", zap.String("function", name), zap.Error(qerr))
	}
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 || !json.Valid(b) {
		return []byte("null")
	}
	return b
}

func stringPtr(s string) *string { return &s }

// concurrency implements Put/Get/DeleteFunctionConcurrency: reserved
// concurrency becomes the number of processes serving the function.
func (s *Server) concurrency(w http.ResponseWriter, r *http.Request, name string) {
	s.mu.Lock()
	ex := s.lambdas[name]
	s.mu.Unlock()
	if ex == nil {
		writeAWSError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	switch r.Method {
	case http.MethodPut:
		var req struct{ ReservedConcurrentExecutions *int }
		body, _ := readBody(r)
		if json.Unmarshal(body, &req) != nil || req.ReservedConcurrentExecutions == nil || *req.ReservedConcurrentExecutions < 0 {
			writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", "ReservedConcurrentExecutions must be 0 or more")
			return
		}
		n := *req.ReservedConcurrentExecutions
		s.mu.Lock()
		ex.Reserved = &n
		s.mu.Unlock()
		if err := s.Executor.SetConcurrency(name, n, true); err != nil {
			writeAWSError(w, http.StatusInternalServerError, "ServiceException", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"ReservedConcurrentExecutions": n})
	case http.MethodDelete:
		s.mu.Lock()
		ex.Reserved = nil
		s.mu.Unlock()
		if err := s.Executor.SetConcurrency(name, s.opts.Instances, false); err != nil {
			writeAWSError(w, http.StatusInternalServerError, "ServiceException", err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		resp := map[string]int{}
		if ex.Reserved != nil {
			resp["ReservedConcurrentExecutions"] = *ex.Reserved
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// eventInvokeConfig keeps a function's asynchronous invocation settings.
func (s *Server) eventInvokeConfig(w http.ResponseWriter, r *http.Request, name string) {
	ex := s.extras(name)
	if ex == nil {
		writeAWSError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	switch r.Method {
	case http.MethodPut, http.MethodPost:
		body, _ := readBody(r)
		var req struct {
			MaximumRetryAttempts *int
			DestinationConfig    struct{ OnFailure struct{ Destination string } }
		}
		if json.Unmarshal(body, &req) != nil {
			writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", "request body is not JSON")
			return
		}
		s.mu.Lock()
		ex.EventInvokeConf = body
		ex.MaxRetryAttempts = 2
		if req.MaximumRetryAttempts != nil {
			ex.MaxRetryAttempts = *req.MaximumRetryAttempts
		}
		ex.OnFailureQueue = req.DestinationConfig.OnFailure.Destination
		s.mu.Unlock()
		var doc map[string]json.RawMessage
		_ = json.Unmarshal(body, &doc)
		doc["FunctionArn"], _ = json.Marshal(name)
		doc["LastModified"], _ = json.Marshal(float64(time.Now().Unix()))
		writeJSON(w, http.StatusOK, doc)
	case http.MethodDelete:
		s.mu.Lock()
		ex.EventInvokeConf, ex.OnFailureQueue = nil, ""
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		s.mu.Lock()
		conf := ex.EventInvokeConf
		s.mu.Unlock()
		if conf == nil {
			writeAWSError(w, http.StatusNotFound, "ResourceNotFoundException", "The function "+name+" doesn't have an EventInvokeConfig")
			return
		}
		var doc map[string]json.RawMessage
		_ = json.Unmarshal(conf, &doc)
		doc["FunctionArn"], _ = json.Marshal(name)
		writeJSON(w, http.StatusOK, doc)
	}
}
