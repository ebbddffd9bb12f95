package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
)

// mailbox waits for the DLQ alarm's alert when poison was sent, lets two
// more alarm evaluations pass (so a second alert would show), and prints
// what on-call received.
func mailbox(ctx context.Context, w io.Writer, srv *localaws.Server, poison bool) error {
	step(w, "On-call mailbox ("+OnCall+", subscribed to the alert topic)")
	if poison {
		// The DLQ is sampled each CloudWatch minute and the alarm evaluated at
		// the next one: a few minutes of the local AWS's clock at most.
		deadline := time.Now().Add(srv.Clock.RealDuration(5 * time.Minute))
		for !hasDLQAlert(srv) {
			if time.Now().After(deadline) {
				return fmt.Errorf("no DLQ alarm alert reached %s within 5 CloudWatch minutes", OnCall)
			}
			if err := srv.Clock.Sleep(ctx, 10*time.Second); err != nil {
				return fmt.Errorf("wait for the DLQ alarm: %w", err)
			}
		}
		if err := srv.Clock.Sleep(ctx, 2*time.Minute); err != nil {
			return fmt.Errorf("wait for more alerts: %w", err)
		}
	}
	mail := srv.SNS.Mailbox(OnCall)
	if len(mail) == 0 {
		fmt.Fprintln(w, "    (empty)")
	}
	for _, m := range mail {
		fmt.Fprintf(w, "    %s  %s\n      %s\n", m.At.UTC().Format("15:04:05"), m.Subject, m.Body)
	}
	return nil
}

func hasDLQAlert(srv *localaws.Server) bool {
	for _, m := range srv.SNS.Mailbox(OnCall) {
		if strings.Contains(m.Body, "-dlq-not-empty is ALARM") {
			return true
		}
	}
	return false
}
