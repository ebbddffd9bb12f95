package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
)

// mailbox prints the local mailbox of a running local AWS; it returns the
// exit code.
func mailbox(args []string) int {
	fs := flag.NewFlagSet("mailbox", flag.ContinueOnError)
	def := os.Getenv("AWS_ENDPOINT_URL")
	if def == "" {
		def = "http://" + localaws.DefaultAddr
	}
	endpoint := fs.String("endpoint", def, "the local AWS (default $AWS_ENDPOINT_URL)")
	to := fs.String("to", "", "only this recipient's mail")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *endpoint+"/_localaws/mailbox?to="+url.QueryEscape(*to), nil) //nolint:gosec // the operator names the local AWS to ask
	if err != nil {
		fmt.Fprintln(os.Stderr, "localaws mailbox:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req) //nolint:gosec // the operator names the local AWS to ask
	if err != nil {
		fmt.Fprintln(os.Stderr, "localaws mailbox: is the local AWS running?", err)
		return 1
	}
	defer resp.Body.Close()
	var box struct {
		Mail []struct {
			To, Subject, Body string
			At                time.Time
		}
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&box) != nil {
		fmt.Fprintln(os.Stderr, "localaws mailbox: unexpected answer", resp.Status)
		return 1
	}
	if len(box.Mail) == 0 {
		fmt.Println("(no mail)")
	}
	for _, m := range box.Mail {
		fmt.Printf("%s  to %s  %s\n    %s\n", m.At.UTC().Format(time.RFC3339), m.To, m.Subject, m.Body)
	}
	return 0
}
