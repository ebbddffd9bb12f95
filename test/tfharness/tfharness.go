// Package tfharness runs this repository's Terraform roots in temporary
// copies for tests, through internal/drivers/tfrun, and turns "the hashicorp/aws
// provider cannot be installed here" into a one-line skip, never a failure.
package tfharness

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/tfrun"
)

// RepoRoot is the repository root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// CopyRoots copies the repository's HCL to a fresh temporary folder and
// returns the path of rel inside it; parallel tests share nothing.
func CopyRoots(t testing.TB, rel string) string {
	t.Helper()
	dst := t.TempDir()
	if err := tfrun.CopyRoots(RepoRoot(), dst); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dst, rel)
}

// Options returns terratest options for dir with the chosen binary and env.
func Options(dir string, vars map[string]any) *terraform.Options {
	return &terraform.Options{
		TerraformDir:    dir,
		TerraformBinary: tfrun.Binary(RepoRoot()),
		EnvVars:         tfrun.Env(),
		Vars:            vars,
		NoColor:         true,
		Lock:            true,
	}
}

// Init runs init in opts.TerraformDir; where the aws provider cannot be
// installed it skips the test with a one-line reason, any other failure fails it.
func Init(t testing.TB, opts *terraform.Options) {
	t.Helper()
	reason, ok, err := tfrun.Init(t.Context(), opts.TerraformBinary, opts.TerraformDir)
	switch {
	case err != nil:
		t.Fatalf("init failed: %v", err)
	case !ok:
		if v := os.Getenv(tfrun.EnvProviderVersion); v != "" {
			reason += " (" + tfrun.EnvProviderVersion + "=" + v + ")"
		}
		t.Skip(reason)
	}
	t.Logf("%s: hashicorp/aws %s", filepath.Base(opts.TerraformDir), tfrun.LockedProviderVersion(opts.TerraformDir))
}

// WriteLocalOverride points the copy in dir at the local AWS at endpoint.
func WriteLocalOverride(t testing.TB, dir, endpoint string) {
	t.Helper()
	if err := tfrun.WriteLocalOverride(dir, endpoint); err != nil {
		t.Fatal(err)
	}
}

// Zips are the Lambda packages of one build, in one folder.
type Zips struct{ Processor, Projector, Maintenance string }

// ZipsIn are the packages make build puts in dir, failing with cmd (the
// command that builds them) when one is missing.
func ZipsIn(t testing.TB, dir, cmd string) Zips {
	t.Helper()
	z := Zips{filepath.Join(dir, "processor.zip"), filepath.Join(dir, "projector.zip"), filepath.Join(dir, "maintenance.zip")}
	for _, p := range []string{z.Processor, z.Projector, z.Maintenance} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: run %s", p, cmd)
		}
	}
	return z
}

// Dir is the folder of the packages (an env's lambda_zip_dir).
func (z Zips) Dir() string { return filepath.Dir(z.Processor) }

// Vars are the module's zip path variables.
func (z Zips) Vars() map[string]any {
	return map[string]any{"processor_zip_path": z.Processor, "projector_zip_path": z.Projector, "maintenance_zip_path": z.Maintenance}
}

// HostZips returns the host-architecture Lambda zips from `make build-host`.
func HostZips(t testing.TB) Zips {
	t.Helper()
	return ZipsIn(t, filepath.Join(RepoRoot(), "dist", runtime.GOARCH), "make build-host")
}

// LocalRoot copies the repository's HCL to a temporary folder, points the
// copy of rel at the process's local AWS (testenv's) and
// initialises it, skipping the test with the reason where the aws provider
// cannot be installed. It returns rel's folder in the copy.
func LocalRoot(t testing.TB, rel string) string {
	t.Helper()
	dir := CopyRoots(t, rel)
	WriteLocalOverride(t, dir, testenv.Start(t).URL)
	Init(t, Options(dir, nil))
	return dir
}
