// Package awsclient builds what every program of this project shares: the
// AWS SDK configuration and the JSON logger.
package awsclient

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Load reads the SDK's standard configuration chain. The SDK honours
// AWS_ENDPOINT_URL itself, which is how local runs reach the local AWS.
func Load(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
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
