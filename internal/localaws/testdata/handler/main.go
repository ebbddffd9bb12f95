// Command handler is a test function for the executor: it echoes its event,
// and sleeps, fails or exits when the event asks.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	SleepMS int    `json:"sleep_ms"`
	Fail    bool   `json:"fail"`
	Exit    bool   `json:"exit"`
	Echo    string `json:"echo"`
}

func main() {
	lambda.Start(func(_ context.Context, e event) (map[string]string, error) {
		time.Sleep(time.Duration(e.SleepMS) * time.Millisecond)
		switch {
		case e.Exit:
			os.Exit(3)
		case e.Fail:
			return nil, errors.New("asked to fail")
		}
		return map[string]string{"echo": e.Echo, "env": os.Getenv("GREETING"), "fn": os.Getenv("AWS_LAMBDA_FUNCTION_NAME")}, nil
	})
}
