package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
)

var (
	zipMu    sync.Mutex
	zipCache = map[string]string{}
)

// repoRoot is the repository this file is in.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Settings are the module's defaults (provision.Load) for a stack named
// with a unique prefix, for the zips LambdaZip builds (this machine's
// architecture), as a test deploys it.
func Settings(t testing.TB, prefix string) provision.Settings {
	t.Helper()
	s, err := provision.Load(filepath.Join(repoRoot(), provision.ModuleDir), Unique(prefix))
	if err != nil {
		t.Fatal(err)
	}
	s.LambdaArchitecture = lambdazip.HostArchitecture()
	return s
}

// LambdaZip builds ./lambda/<name> for this machine, as `make build-host`
// does, once per test binary, and returns the zip's path.
func LambdaZip(t testing.TB, name string) string {
	t.Helper()
	zipMu.Lock()
	defer zipMu.Unlock()
	if p, ok := zipCache[name]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "lambdazip-*")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bootstrap")
	//nolint:gosec // builds this repository's own lambda
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-ldflags", "-s -w", "-tags", "lambda.norpc", "-o", bin, "./lambda/"+name)
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build lambda %s: %v\n%s", name, err, out)
	}
	zip := filepath.Join(dir, name+".zip")
	if err := lambdazip.WriteFile(zip, []lambdazip.File{{Name: "bootstrap", Path: bin}}); err != nil {
		t.Fatal(err)
	}
	zipCache[name] = zip
	return zip
}
