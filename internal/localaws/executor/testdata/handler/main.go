// Command handler is a test function for the executor: it echoes its event,
// and sleeps, fails or exits when the event asks.
package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	SleepMS int    `json:"sleep_ms"`
	Fail    bool   `json:"fail"`
	Exit    bool   `json:"exit"`
	Echo    string `json:"echo"`
	MarkDir string `json:"mark_dir"` // write a file here on start
	Release string `json:"release"`  // then wait until this file exists
	Left    bool   `json:"left"`     // answer the time left to the deadline
	EnvName string `json:"env_name"` // answer this environment variable
}

func main() {
	lambda.Start(func(ctx context.Context, e event) (map[string]string, error) {
		if e.MarkDir != "" {
			if err := os.WriteFile(filepath.Join(e.MarkDir, strconv.Itoa(os.Getpid())), nil, 0o600); err != nil {
				return nil, err
			}
			for {
				if _, err := os.Stat(e.Release); err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		if e.EnvName != "" {
			return map[string]string{"value": os.Getenv(e.EnvName)}, nil
		}
		if e.Left {
			deadline, _ := ctx.Deadline()
			return map[string]string{"left_ms": strconv.FormatInt(time.Until(deadline).Milliseconds(), 10)}, nil
		}
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
