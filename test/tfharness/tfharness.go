// Package tfharness runs this repository's Terraform roots in temporary
// copies for tests: it picks the Terraform binary, copies the HCL, points the
// aws provider at a local endpoint, and turns "the hashicorp/aws provider
// cannot be installed here" into a one-line skip instead of a failure.
package tfharness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/files"
	"github.com/gruntwork-io/terratest/modules/terraform"
)

// RepoRoot is the repository root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Binary is the Terraform binary the Makefile chose (TF_BINARY), else the
// pinned ./bin/tofu, else terraform on PATH.
func Binary() string {
	if b := os.Getenv("TF_BINARY"); b != "" {
		return b
	}
	if tofu := filepath.Join(RepoRoot(), "bin", "tofu"); fileExists(tofu) {
		return tofu
	}
	return "terraform"
}

// Env is the environment Terraform runs with: a TF_CLI_CONFIG_FILE that
// names a missing file is dropped (Terraform warns on every command), and
// checkpoint calls are off.
func Env() map[string]string {
	env := map[string]string{"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
	if cfg, ok := os.LookupEnv("TF_CLI_CONFIG_FILE"); ok && !fileExists(cfg) {
		env["TF_CLI_CONFIG_FILE"] = ""
	}
	return env
}

// CopyRoots copies the HCL of the repository (modules, envs, test fixtures)
// to a fresh temporary folder and returns the path of rel inside it, so that
// relative module sources keep working and parallel tests share nothing.
func CopyRoots(t testing.TB, rel string) string {
	t.Helper()
	root := RepoRoot()
	dst := t.TempDir()
	for _, dir := range []string{"modules", "envs", filepath.Join("test", "fixtures")} {
		src := filepath.Join(root, dir)
		if !fileExists(src) {
			continue
		}
		target := filepath.Join(dst, dir)
		if err := os.MkdirAll(target, 0o750); err != nil {
			t.Fatal(err)
		}
		err := files.CopyFolderContentsWithFilter(src, target, func(path string) bool {
			base := filepath.Base(path)
			return base != ".terraform" && !strings.HasSuffix(base, ".tfstate") && !strings.HasSuffix(base, "_override.tf")
		})
		if err != nil {
			t.Fatalf("copy %s: %v", dir, err)
		}
	}
	return filepath.Join(dst, rel)
}

// Options returns terratest options for dir with this harness's binary and env.
func Options(dir string, vars map[string]any) *terraform.Options {
	return &terraform.Options{
		TerraformDir:    dir,
		TerraformBinary: Binary(),
		EnvVars:         Env(),
		Vars:            vars,
		NoColor:         true,
		Lock:            true,
	}
}

// providerMissing are the phrases Terraform and OpenTofu use when a provider
// cannot be found or downloaded.
var providerMissing = []string{
	"Failed to resolve provider packages",
	"Failed to query available provider packages",
	"Failed to install provider",
	"could not connect to registry",
	"Could not retrieve the list of available versions",
}

// Init runs `init` in opts.TerraformDir. When the aws provider cannot be
// installed it skips the test with a one-line reason; any other failure fails it.
func Init(t testing.TB, opts *terraform.Options, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(opts.TerraformBinary); err != nil {
		t.Skipf("no Terraform binary: %s not found (run make tools)", opts.TerraformBinary)
	}
	// Run directly rather than through terratest: init's output is shown
	// only when it fails, and a skip stays one line.
	cmd := exec.CommandContext(t.Context(), opts.TerraformBinary, append([]string{"init", "-input=false", "-no-color"}, args...)...)
	cmd.Dir = opts.TerraformDir
	cmd.Env = os.Environ()
	for k, v := range opts.EnvVars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	if reason, ok := ProviderUnavailable(string(out)); ok {
		t.Skip(reason)
	}
	t.Fatalf("%s init failed: %v\n%s", filepath.Base(opts.TerraformBinary), err, out)
}

// ProviderUnavailable reads init output; when it says the provider could not
// be installed it returns a one-line reason.
func ProviderUnavailable(output string) (string, bool) {
	missing := false
	for _, p := range providerMissing {
		if strings.Contains(output, p) {
			missing = true
			break
		}
	}
	if !missing {
		return "", false
	}
	// The first error's title and its first paragraph.
	var first string
	var detail []string
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSpace(line)
		if first == "" {
			first, _ = strings.CutPrefix(line, "Error: ")
			if first == line {
				first = ""
			}
			continue
		}
		if line == "" && len(detail) > 0 {
			break
		}
		if line != "" {
			detail = append(detail, line)
		}
	}
	text := strings.Join(detail, " ")
	if i := strings.Index(text, ": failed"); i > 0 {
		text = text[:i]
	}
	return fmt.Sprintf("hashicorp/aws provider cannot be installed here (init: %s: %s)", first, text), true
}

// LocalEndpointOverride is a provider override, as tflocal writes, that
// points every service this stack uses at endpoint with test credentials,
// plus a local backend. Write it into a temporary copy, never into the repo.
func LocalEndpointOverride(endpoint string) string {
	services := []string{"cloudwatch", "dynamodb", "events", "iam", "kms", "lambda", "logs", "scheduler", "sns", "sqs", "sts"}
	var b strings.Builder
	b.WriteString("# Generated by test/tfharness: the local AWS, never AWS.\n")
	b.WriteString("terraform {\n  backend \"local\" {}\n}\n\n")
	b.WriteString("provider \"aws\" {\n")
	b.WriteString("  access_key                  = \"test\"\n  secret_key                  = \"test\"\n")
	b.WriteString("  skip_credentials_validation = true\n  skip_metadata_api_check     = true\n  skip_requesting_account_id  = true\n")
	b.WriteString("  endpoints {\n")
	for _, s := range services {
		fmt.Fprintf(&b, "    %-10s = %q\n", s, endpoint)
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// WriteLocalOverride writes LocalEndpointOverride into dir.
func WriteLocalOverride(t testing.TB, dir, endpoint string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "localaws_override.tf"), []byte(LocalEndpointOverride(endpoint)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// HostZips returns the host-architecture Lambda zips from `make build-host`,
// failing with the command to run when they are missing.
func HostZips(t testing.TB) (processor, maintenance string) {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "dist", runtime.GOARCH)
	processor, maintenance = filepath.Join(dir, "processor.zip"), filepath.Join(dir, "maintenance.zip")
	for _, z := range []string{processor, maintenance} {
		if !fileExists(z) {
			t.Fatalf("%s is missing: run make build-host", z)
		}
	}
	return processor, maintenance
}

// LambdaArchitecture is the module's name for the host architecture.
func LambdaArchitecture() string {
	if runtime.GOARCH == "amd64" {
		return "x86_64"
	}
	return runtime.GOARCH
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
