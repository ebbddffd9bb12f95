// Package awsclient builds what every program of this project shares: the
// AWS SDK configuration and the JSON logger.
package awsclient

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	settings "github.com/tracking-pipeline/tracking-pipeline/internal/config"
)

// Load reads the SDK's standard configuration chain. The SDK honours
// AWS_ENDPOINT_URL itself, which is how local runs reach the local AWS.
// Its HTTP client keeps as many idle connections to a host as
// MAX_CONCURRENCY allows calls in flight, not the SDK's 10: a function
// with more calls in flight than that (the
// projector moves 32 latest statuses at once) would otherwise close the
// rest after each burst and open new TLS connections for the next one.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = settings.MaxConcurrencyLimit
	})))
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS SDK configuration: %w", err)
	}
	return cfg, nil
}

// Logger returns a JSON logger on stdout at level, as CloudWatch Logs expects.
func Logger(level zapcore.Level) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "time"
	enc.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(os.Stdout), level)
	return zap.New(core, zap.AddCaller())
}
