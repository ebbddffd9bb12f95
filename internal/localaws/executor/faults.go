package executor

import (
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/faults"
)

// InvocationFaults decides, invocation by invocation, whether the process
// crashes during it or its time limit is cut (faults.Injector).
type InvocationFaults interface {
	DecideInvocation(function string) faults.Invocation
}

var _ InvocationFaults = (*faults.Injector)(nil)

// InjectFaultsFrom makes the executor ask d about every invocation. Call it
// before deploying functions.
func (e *Executor) InjectFaultsFrom(d InvocationFaults) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = d
}

// invocationFault is what the injector decided for one invocation of f.
func (e *Executor) invocationFault(f *function) faults.Invocation {
	e.mu.Lock()
	d := e.faults
	e.mu.Unlock()
	if d == nil {
		return faults.Invocation{}
	}
	return d.DecideInvocation(f.spec.Name)
}
