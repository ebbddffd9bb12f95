package sqs

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// keptQueueAttributes are the queue attributes kumo drops silently; the
// Terraform provider waits for them to read back, so the layer keeps them.
var keptQueueAttributes = []string{"KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "RedriveAllowPolicy", "SqsManagedSseEnabled"}

type queueRequest struct {
	QueueName      string            `json:"QueueName"`
	QueueURL       string            `json:"QueueUrl"`
	Attributes     map[string]string `json:"Attributes"`
	AttributeNames []string          `json:"AttributeNames"`
}

func (q queueRequest) name() string {
	if q.QueueName != "" {
		return q.QueueName
	}
	return awsapi.ResourceName(q.QueueURL)
}

// queueLifecycle lets kumo create, update or delete a queue, then keeps
// (or forgets) the attributes kumo drops.
func (s *Service) queueLifecycle(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := awsapi.ReadOrReject(w, r)
		if !ok {
			return
		}
		var req queueRequest
		readable := json.Unmarshal(body, &req) == nil
		if readable && op != "DeleteQueue" && (!attributesInRange(w, r, req) || !s.policyPrincipalsExist(w, r, req)) {
			return
		}
		status, h, out, ok := s.kumo.Exchange(w, r, body)
		if !ok {
			return
		}
		if status < 300 && readable {
			s.mu.Lock()
			if op == "DeleteQueue" {
				delete(s.queues, req.name())
			} else {
				kept := s.queues[req.name()]
				if kept == nil {
					kept = map[string]string{}
					s.queues[req.name()] = kept
				}
				for _, a := range keptQueueAttributes {
					switch v, ok := req.Attributes[a]; {
					case ok && v == "": // as on AWS, an empty value removes the attribute
						delete(kept, a)
					case ok:
						kept[a] = v
					}
				}
			}
			s.mu.Unlock()
		}
		awsapi.Relay(w, status, h, out)
	}
}

// KeyOf is the KMS key that encrypts a queue ("" for none): KmsMasterKeyId.
func (s *Service) KeyOf(queueName string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queues[queueName]["KmsMasterKeyId"]
}

// echoQueueAttributes adds the kept attributes to kumo's answer.
func (s *Service) echoQueueAttributes(w http.ResponseWriter, r *http.Request) {
	s.kumo.AmendJSON(w, r, func(body []byte, resp map[string]any) bool {
		var req queueRequest
		if json.Unmarshal(body, &req) != nil {
			return false
		}
		all := false
		wanted := map[string]bool{}
		for _, n := range req.AttributeNames {
			all = all || n == "All"
			wanted[n] = true
		}
		attrs, _ := resp["Attributes"].(map[string]any)
		if attrs == nil {
			attrs = map[string]any{}
		}
		s.mu.Lock()
		for k, v := range s.queues[req.name()] {
			if all || wanted[k] {
				attrs[k] = v
			}
		}
		s.mu.Unlock()
		resp["Attributes"] = attrs
		return true
	})
}

// isQueueARN reports whether s looks like an SQS queue ARN.
func isQueueARN(s string) bool { return strings.HasPrefix(s, "arn:") && strings.Contains(s, ":sqs:") }

// rewriteQueueURLs puts the front server's address in kumo's queue URLs:
// AWS answers with URLs of the endpoint called.
func (s *Service) rewriteQueueURLs(_ http.Header, body []byte) []byte {
	if s.publicURL == kumoQueueHost {
		return body
	}
	return bytes.ReplaceAll(body, []byte(kumoQueueHost), []byte(s.publicURL))
}
