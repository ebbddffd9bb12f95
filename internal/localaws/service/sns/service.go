// Package sns fills kumo's SNS gap for e-mail: kumo accepts e-mail
// subscriptions but delivers nothing to them. The layer keeps a local
// mailbox of what each e-mail subscriber would receive, listed by an admin
// endpoint, and is the one publisher the other services use (alarm actions,
// EventBridge targets) so their messages reach the mailbox too.
package sns

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/clock"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// signingService is SNS's name in SigV4 credential scopes.
const signingService = "sns"

// mailboxLimit bounds the mails kept.
const mailboxLimit = 10000

// Mail is one message an e-mail subscriber receives.
type Mail struct {
	To       string    `json:"to"`
	Protocol string    `json:"protocol"` // email or email-json
	Topic    string    `json:"topic"`
	Subject  string    `json:"subject"`
	Body     string    `json:"body"`
	At       time.Time `json:"at"`
}

// Service publishes to topics through kumo and keeps the mailbox.
type Service struct {
	kumo  *upstream.Kumo
	log   *zap.Logger
	clock *clock.Clock

	mu   sync.Mutex
	mail []Mail
}

// New returns the SNS gap filler.
func New(k *upstream.Kumo, log *zap.Logger, clk *clock.Clock) *Service {
	return &Service{kumo: k, log: log, clock: clk}
}

// Register adds Publish (to keep what e-mail subscribers receive) and the
// mailbox endpoint to r.
func (s *Service) Register(r *awsapi.Router) {
	r.Query(signingService, "Publish", s.publishCall)
	r.Query(signingService, "CreateTopic", s.topicPolicyCall)
	r.Query(signingService, "SetTopicAttributes", s.topicPolicyCall)
	r.REST("GET /_localaws/mailbox", s.mailbox)
}

// Publish publishes a message to a topic, as an AWS service does on a
// customer's behalf (alarm actions, EventBridge targets).
func (s *Service) Publish(ctx context.Context, topicARN, subject, message string) error {
	in := &sns.PublishInput{TopicArn: &topicARN, Message: &message}
	if subject != "" {
		in.Subject = &subject
	}
	if _, err := s.kumo.SNS.Publish(ctx, in); err != nil {
		return fmt.Errorf("publish to %s: %w", topicARN, err)
	}
	s.deliverMail(ctx, topicARN, subject, message)
	return nil
}

// publishCall lets kumo publish a client's message, then delivers it to the
// topic's e-mail subscribers.
func (s *Service) publishCall(w http.ResponseWriter, r *http.Request, q awsapi.Query) {
	status, h, out, ok := s.kumo.Exchange(w, r, q.Body)
	if !ok {
		return
	}
	if status < 300 && q.Form.Get("TopicArn") != "" {
		s.deliverMail(r.Context(), q.Form.Get("TopicArn"), q.Form.Get("Subject"), q.Form.Get("Message"))
	}
	h.Del("Content-Length")
	awsapi.Relay(w, status, h, out)
}

// deliverMail adds the message to the mailbox of each e-mail subscriber of
// the topic. An e-mail subscription delivers its message as the body, with
// the subject or "AWS Notification Message"; email-json delivers the JSON
// envelope ("Amazon SNS message and JSON formats").
func (s *Service) deliverMail(ctx context.Context, topicARN, subject, message string) {
	var subs []struct{ protocol, endpoint string }
	p := sns.NewListSubscriptionsByTopicPaginator(s.kumo.SNS, &sns.ListSubscriptionsByTopicInput{TopicArn: &topicARN})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.log.Warn("e-mail subscribers not read", zap.String("topic", topicARN), zap.Error(err))
			return
		}
		for _, sub := range page.Subscriptions {
			if proto := aws.ToString(sub.Protocol); proto == "email" || proto == "email-json" {
				subs = append(subs, struct{ protocol, endpoint string }{proto, aws.ToString(sub.Endpoint)})
			}
		}
	}
	if len(subs) == 0 {
		return
	}
	now := s.clock.Now()
	if subject == "" {
		subject = "AWS Notification Message"
	}
	envelope, _ := json.Marshal(map[string]string{
		"Type": "Notification", "MessageId": uuid.NewString(), "TopicArn": topicARN, "Subject": subject,
		"Message": message, "Timestamp": now.UTC().Format("2006-01-02T15:04:05.000Z"),
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range subs {
		body := message
		if sub.protocol == "email-json" {
			body = string(envelope)
		}
		s.mail = append(s.mail, Mail{To: sub.endpoint, Protocol: sub.protocol, Topic: topicARN, Subject: subject, Body: body, At: now})
	}
	if len(s.mail) > mailboxLimit {
		s.mail = s.mail[len(s.mail)-mailboxLimit:]
	}
}

// Mailbox returns the mails received, oldest first; to, when set, keeps
// one recipient's.
func (s *Service) Mailbox(to string) []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Mail{}
	for _, m := range s.mail {
		if to == "" || m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// mailbox serves GET /_localaws/mailbox[?to=address].
func (s *Service) mailbox(w http.ResponseWriter, r *http.Request) {
	awsapi.WriteJSON(w, http.StatusOK, map[string]any{"mail": s.Mailbox(r.URL.Query().Get("to"))})
}
