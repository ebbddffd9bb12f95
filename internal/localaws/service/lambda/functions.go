package lambda

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/executor"
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

type functionRequest struct {
	FunctionName  string `json:"FunctionName"`
	Role          string `json:"Role"`
	Code          struct{ ZipFile []byte }
	ZipFile       []byte   `json:"ZipFile"`
	Timeout       int      `json:"Timeout"`
	MemorySize    int      `json:"MemorySize"`
	Architectures []string `json:"Architectures"`
	Environment   *struct{ Variables map[string]string }
	LoggingConfig *struct{ LogGroup string }
}

// createFunction checks the zip can run here, lets kumo store the function,
// keeps what kumo drops, and starts the code.
func (s *Service) createFunction(w http.ResponseWriter, r *http.Request) {
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return
	}
	var req functionRequest
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &req) != nil || json.Unmarshal(body, &raw) != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", "request body is not JSON")
		return
	}
	if refuseInvalid(w, req) {
		return
	}
	spec := s.specFrom(req, nil)
	// AWS_REGION is "the AWS Region where the Lambda function is executed"
	// (Lambda Developer Guide, "Defined runtime environment variables"):
	// the region of the endpoint it was created at, which the request is signed for.
	if region := awsapi.SigningRegion(r); region != "" {
		spec.Region = region
	}
	if err := executor.CheckZip(spec.Zip); err != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
		return
	}
	if !s.roleCredentials(r.Context(), w, &spec, req.Role) {
		return
	}
	status, h, out, ok := s.kumo.Exchange(w, r, body)
	if !ok {
		return
	}
	if status >= 300 {
		awsapi.Relay(w, status, h, out)
		return
	}
	ex := &lambdaExtras{Config: map[string]json.RawMessage{}}
	ex.keep(raw)
	s.mu.Lock()
	s.lambdas[req.FunctionName] = ex
	s.mu.Unlock()
	spec.ARN = arnOf(out)
	if err := s.exec.Deploy(spec); err != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
		return
	}
	awsapi.Relay(w, status, h, s.withExtras(out, req.FunctionName))
}

// roleCredentials gives the function the credentials of a session of its
// execution role, named after the function as Lambda names it; a role that
// is no role ARN is refused as CreateFunction refuses one Lambda cannot
// assume. It reports whether the request may go on.
func (s *Service) roleCredentials(ctx context.Context, w http.ResponseWriter, spec *executor.FunctionSpec, role string) bool {
	if s.keys == nil {
		return true
	}
	if s.access != nil {
		// "The role defined for the function cannot be assumed by Lambda"
		// (CreateFunction, InvalidParameterValueException): its trust policy
		// must let lambda.amazonaws.com assume it.
		fn := "arn:aws:lambda:" + spec.Region + ":" + functionAccount + ":function:" + spec.Name
		if err := s.access.ServiceMayAssume(ctx, "lambda.amazonaws.com", role, fn, functionAccount); err != nil {
			s.log.Warn("function refused: its role cannot be assumed by Lambda", zap.String("function", spec.Name), zap.Error(err))
			awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")
			return false
		}
	}
	creds, err := s.keys.ForRole(role, spec.Name)
	if err != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException",
			"The role defined for the function cannot be assumed by Lambda: "+err.Error())
		return false
	}
	spec.Credentials = creds
	s.mu.Lock()
	s.sessions[spec.Name] = roleSession{arn: creds.ARN, region: spec.Region}
	s.mu.Unlock()
	return true
}

// functionAccount is the account kumo names functions in.
const functionAccount = awsapi.Account

// roleSession is a function's execution role's session and the region
// the function runs in, where Lambda acts with the role for it.
type roleSession struct{ arn, region string }

// sessionOf is a function's role session; its arn is "" for a function
// the layer gave no role session (no principals registry).
func (s *Service) sessionOf(name string) roleSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[name]
}

// specFrom builds an executor spec from a create or update request, on top of prev.
func (s *Service) specFrom(req functionRequest, prev *executor.FunctionSpec) executor.FunctionSpec {
	spec := executor.FunctionSpec{Region: s.region, EndpointURL: s.publicURL, CABundle: s.caBundle, Instances: s.instances, Timeout: 3 * time.Second}
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
	if req.LoggingConfig != nil {
		spec.LogGroup = req.LoggingConfig.LogGroup
	}
	return spec
}

func (s *Service) updateFunction(w http.ResponseWriter, r *http.Request, code bool) {
	name := awsapi.FunctionName(r.PathValue("name"))
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return
	}
	var req functionRequest
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(body, &req)
	_ = json.Unmarshal(body, &raw)
	if !code && refuseInvalid(w, req) {
		return
	}
	prev, deployed := s.exec.Spec(name)
	spec := s.specFrom(req, &prev)
	if code {
		if err := executor.CheckZip(spec.Zip); err != nil {
			awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
			return
		}
	}
	if req.Role != "" && !s.roleCredentials(r.Context(), w, &spec, req.Role) {
		return
	}
	status, h, out, ok := s.kumo.Exchange(w, r, body)
	if !ok {
		return
	}
	if status < 300 {
		if !code {
			s.update(name, func(ex *lambdaExtras) { ex.keep(raw) })
		}
		if deployed || code {
			spec.Name, spec.ARN = name, arnOf(out)
			if err := s.exec.Deploy(spec); err != nil {
				awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
				return
			}
		}
		out = s.withExtras(out, name)
	}
	awsapi.Relay(w, status, h, out)
}

func (s *Service) getFunction(w http.ResponseWriter, r *http.Request, wrapped bool) {
	name := awsapi.FunctionName(r.PathValue("name"))
	status, h, out, ok := s.kumo.Exchange(w, r, nil)
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
	awsapi.Relay(w, status, h, out)
}

func (s *Service) deleteFunction(w http.ResponseWriter, r *http.Request) {
	name := awsapi.FunctionName(r.PathValue("name"))
	status, h, out, ok := s.kumo.Exchange(w, r, nil)
	if !ok {
		return
	}
	if status < 300 {
		s.exec.Remove(name)
		s.mu.Lock()
		delete(s.lambdas, name)
		delete(s.sessions, name)
		s.mu.Unlock()
	}
	awsapi.Relay(w, status, h, out)
}

// extras returns a copy of what the layer keeps of a function, taken under
// the lock, or nil.
func (s *Service) extras(name string) *lambdaExtras {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex := s.lambdas[name]
	if ex == nil {
		return nil
	}
	c := *ex
	c.Config = maps.Clone(ex.Config)
	return &c
}

// update changes what the layer keeps of a function, under the lock.
func (s *Service) update(name string, change func(*lambdaExtras)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ex := s.lambdas[name]; ex != nil {
		change(ex)
	}
}

// withExtras adds the kept configuration to a function configuration document.
func (s *Service) withExtras(doc []byte, name string) []byte {
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
