package tfharness

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
	teststructure "github.com/gruntwork-io/terratest/modules/test-structure"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/tfrun"
)

// StageDir is where a staged test keeps its working copy and its saved
// Terraform options between runs: .cache/terratest/<name> in the
// repository, so that a run with SKIP_deploy=true finds the stack a run with
// SKIP_teardown=true left. It is emptied when the deploy stage runs.
func StageDir(name string) string {
	return filepath.Join(RepoRoot(), ".cache", "terratest", name)
}

// FreshCopy empties stage and copies the repository's HCL into it, returning
// the path of rel inside it (the deploy stage's working copy).
func FreshCopy(t testing.TB, stage, rel string) string {
	t.Helper()
	if err := os.RemoveAll(stage); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(stage, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := tfrun.CopyRoots(RepoRoot(), stage); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(stage, rel)
}

// SaveOptions keeps opts in stage for the later stages and runs.
func SaveOptions(t testing.TB, stage string, opts *terraform.Options) {
	t.Helper()
	teststructure.SaveTerraformOptions(t, stage, opts)
}

// LoadOptions reads the options the deploy stage saved in stage; it fails
// the test, saying how, when no deploy ran there.
func LoadOptions(t testing.TB, stage string) *terraform.Options {
	t.Helper()
	if !teststructure.IsTestDataPresent(t, teststructure.FormatTestDataPath(stage, "TerraformOptions.json")) {
		t.Fatalf("no deployed stack in %s: run once with SKIP_teardown=true (and without SKIP_deploy) first", stage)
	}
	return teststructure.LoadTerraformOptions(t, stage)
}
