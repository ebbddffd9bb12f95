// Command localaws serves a local AWS for this stack on one endpoint: kumo
// plus the compatibility layer, Lambda executor, SQS poller and schedules
// of internal/localaws. Point AWS_ENDPOINT_URL (or the Terraform provider's
// endpoints) at it. It runs until interrupted.
//
//	localaws -addr 127.0.0.1:4566 -function-logs /tmp/functions.log [-time-scale 60] [-faults SPEC] [-iam enforce|log|off]
//	localaws mailbox [-endpoint http://127.0.0.1:4566] [-to oncall@example.com]
//
// The mailbox command lists what the e-mail subscribers of the running local
// AWS's topics received (alarm alerts, digests).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tracking-pipeline/tracking-pipeline/internal/awsclient"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/executor"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "mailbox" {
		os.Exit(mailbox(os.Args[2:]))
	}
	addr := flag.String("addr", localaws.DefaultAddr, "listen address (loopback only is wise)")
	region := flag.String("region", "us-east-1", "region reported to functions")
	logs := flag.String("function-logs", "-", "where function output goes: a file, - for stderr, or none")
	level := flag.String("log-level", "info", "log level of the local AWS itself")
	faultSpec := flag.String("faults", os.Getenv("LOCALAWS_FAULTS"), "inject faults, e.g. dynamodb:TransactWriteItems:conflict:0.1,sqs:ReceiveMessage:server:0.05 (default $LOCALAWS_FAULTS; off when empty)")
	iamMode := flag.String("iam", os.Getenv("LOCALAWS_IAM"), "how the functions' roles meet their policies: enforce (default), log or off (default $LOCALAWS_IAM)")
	scale := flag.Float64("time-scale", 1, "speed of the local AWS's clock (metrics, alarms, schedules): at 60 a CloudWatch minute lasts a second")
	maxProcs := flag.Int("max-processes", executor.DefaultMaxProcesses(), "function processes of all functions at once (instances start on demand up to each function's concurrency and this cap)")
	flag.Parse()

	lvl, err := zapcore.ParseLevel(*level)
	if err != nil {
		fmt.Fprintln(os.Stderr, "localaws: -log-level:", err)
		os.Exit(2)
	}
	log := awsclient.Logger(lvl)
	var out io.Writer
	switch *logs {
	case "-":
		out = os.Stderr
	case "none":
		out = io.Discard
	default:
		f, err := os.OpenFile(*logs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, "localaws: -function-logs:", err)
			os.Exit(2)
		}
		defer f.Close()
		out = f
	}
	srv, err := localaws.Start(localaws.Options{Addr: *addr, Region: *region, FunctionOutput: out, Log: log, TimeScale: *scale, Faults: *faultSpec, IAM: *iamMode, MaxProcesses: *maxProcs})
	if err != nil {
		log.Fatal("start", zap.Error(err)) //nolint:gocritic // nothing to flush yet
	}
	fmt.Printf("local AWS ready at %s (export AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test)\n", srv.URL, srv.URL)
	fmt.Printf("over TLS at %s (export AWS_CA_BUNDLE=%s)\n", srv.TLSURL, srv.CABundle)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	srv.Close()
}
