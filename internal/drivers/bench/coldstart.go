package bench

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
)

// coldStarts starts n processes of function's code one at a time, each
// alone, and returns their init times, sorted.
func coldStarts(srv *localaws.Server, function string, n int) ([]time.Duration, error) {
	spec, ok := srv.Executor.Spec(function)
	if !ok {
		return nil, fmt.Errorf("function %s not deployed", function)
	}
	spec.Name, spec.Instances = "bench-init", 1
	var inits []time.Duration
	for range n {
		if err := srv.Executor.Deploy(spec); err != nil {
			return nil, fmt.Errorf("deploy %s: %w", spec.Name, err)
		}
		// An invocation starts the one instance (instances start on
		// demand); its init is recorded on its first Runtime API poll.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := srv.Executor.Invoke(ctx, spec.Name, []byte(`{"Records":[]}`))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("invoke %s: %w", spec.Name, err)
		}
		inits = append(inits, srv.Executor.InitTimes(spec.Name)...)
		srv.Executor.Remove(spec.Name)
	}
	sort.Slice(inits, func(i, j int) bool { return inits[i] < inits[j] })
	return inits, nil
}
