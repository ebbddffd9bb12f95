package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/executor"
)

// invoke runs a function through the executor: RequestResponse waits,
// Event queues with Lambda's asynchronous retries and on-failure destination.
func (s *Service) invoke(w http.ResponseWriter, r *http.Request) {
	name := awsapi.FunctionName(r.PathValue("name"))
	if !s.exec.Deployed(name) {
		s.kumo.ServeHTTP(w, r) // kumo's own functions
		return
	}
	payload, err := awsapi.ReadBody(r)
	if err != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
	case "Event":
		s.InvokeAsync(name, payload)
		w.WriteHeader(http.StatusAccepted)
	default:
		res, err := s.exec.Invoke(r.Context(), name, payload)
		switch {
		case errors.Is(err, executor.ErrThrottled):
			awsapi.WriteError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.")
			return
		case err != nil:
			awsapi.WriteError(w, http.StatusInternalServerError, "ServiceException", err.Error())
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

// InvokeAsync queues an Event invocation, which outlives its request as on
// AWS; Close waits for the ones under way.
func (s *Service) InvokeAsync(name string, payload []byte) {
	s.wg.Go(func() { s.invokeAsync(s.ctx, name, payload) })
}

// invokeAsync retries a failed event twice (or as configured), then sends a
// record of the failure to the on-failure destination, as Lambda does
// (Lambda Developer Guide, "Asynchronous invocation": error handling).
func (s *Service) invokeAsync(ctx context.Context, name string, payload []byte) {
	retries, dest := 2, ""
	if ex := s.extras(name); ex != nil && ex.EventInvokeConf != nil {
		retries, dest = ex.MaxRetryAttempts, ex.OnFailureQueue
	}
	var res executor.Result
	var err error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 && !sleep(ctx, time.Duration(attempt)*time.Second) {
			return
		}
		res, err = s.exec.Invoke(ctx, name, payload)
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
	u, qerr := s.kumo.QueueURL(ctx, dest)
	if qerr == nil {
		qerr = s.roleMaySend(ctx, name, u)
	}
	if qerr == nil {
		_, qerr = s.kumo.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &u, MessageBody: stringPtr(string(record))})
	}
	if qerr != nil {
		// "Delivery errors can occur due to permissions errors, misconfigured
		// resources, or size limits" (Lambda Developer Guide, asynchronous
		// invocation metrics, DestinationDeliveryFailures): the record is lost.
		s.log.Error("on-failure destination not reached", zap.String("function", name), zap.Error(qerr))
	}
}

// roleMaySend decides, as Lambda sends the record "using the permissions
// of the function's execution role" (Lambda Developer Guide, "Adding a
// destination"), whether the role may send to the queue at queueURL.
func (s *Service) roleMaySend(ctx context.Context, name, queueURL string) error {
	session := s.sessionOf(name)
	if s.access == nil || session.arn == "" {
		return nil
	}
	return s.access.RoleCalls(ctx, session.arn, session.region, "SendMessage", queueURL) //nolint:wrapcheck // the guard's refusal names the call
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 || !json.Valid(b) {
		return []byte("null")
	}
	return b
}

func stringPtr(s string) *string { return &s }
