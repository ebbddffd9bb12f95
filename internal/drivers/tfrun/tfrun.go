// Package tfrun runs this repository's Terraform roots with the Terraform
// binary the Makefile chose: copies of the HCL in temporary folders, a
// provider override for the local AWS, and a plain answer to "can the
// hashicorp/aws provider be installed here?".
package tfrun

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// EnvProviderVersion names the hashicorp/aws version a run pins in its
// copies (e.g. 5.46.0), so that a mirror holding several versions runs the
// suites on each; unset, init takes the newest the constraints and the
// mirror allow.
const EnvProviderVersion = "TF_AWS_PROVIDER_VERSION"

// providerVersion is an exact provider version, as init accepts it.
var providerVersion = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$`)

// lockedAWS finds the hashicorp/aws version in a dependency lock file.
var lockedAWS = regexp.MustCompile(`provider "[^"]*/hashicorp/aws" \{\s*version\s*=\s*"([^"]+)"`)

// Binary is the Terraform binary the Makefile chose (TF_BINARY), else the
// pinned bin/tofu under root, else terraform on PATH.
func Binary(root string) string {
	if b := os.Getenv("TF_BINARY"); b != "" {
		return b
	}
	if tofu := filepath.Join(root, "bin", "tofu"); fileExists(tofu) {
		return tofu
	}
	return "terraform"
}

// Env is the environment Terraform runs with, as extra variables: a
// TF_CLI_CONFIG_FILE naming a missing file is dropped (it only warns), and
// checkpoint calls are off.
func Env() map[string]string {
	env := map[string]string{"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
	if cfg, ok := os.LookupEnv("TF_CLI_CONFIG_FILE"); ok && !fileExists(cfg) {
		env["TF_CLI_CONFIG_FILE"] = ""
	}
	return env
}

// CopyRoots copies the repository's HCL (modules, envs, test fixtures) from
// root into dst, leaving out local state, .terraform and override files, so
// relative module sources keep working in the copy.
func CopyRoots(root, dst string) error {
	for _, dir := range []string{"modules", "envs", filepath.Join("test", "fixtures")} {
		src := filepath.Join(root, dir)
		if !fileExists(src) {
			continue
		}
		err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			base := d.Name()
			if base == ".terraform" || strings.HasSuffix(base, ".tfstate") || strings.HasSuffix(base, "_override.tf") || base == ".terraform.lock.hcl" {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return fmt.Errorf("relative path of %s: %w", path, err)
			}
			target := filepath.Join(dst, rel)
			if d.IsDir() {
				return os.MkdirAll(target, 0o750)
			}
			data, err := os.ReadFile(path) //nolint:gosec // the repository's own files
			if err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			return os.WriteFile(target, data, 0o600) //nolint:gosec // target is inside the caller's temporary folder
		})
		if err != nil {
			return fmt.Errorf("copy %s: %w", dir, err)
		}
	}
	return nil
}

// Run runs bin with args in dir and returns its combined output.
func Run(ctx context.Context, bin, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...) //nolint:gosec // the chosen Terraform binary
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range Env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w", filepath.Base(bin), args[0], err)
	}
	return string(out), nil
}

// FirstError returns the first "Error:" line of Terraform's output, or the
// output's first line when there is none.
func FirstError(output string) string {
	for l := range strings.Lines(output) {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "Error:") {
			return t
		}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(output), "\n")
	return first
}

// Init runs init in dir. When the aws provider cannot be installed it
// returns a one-line reason and ok false; other failures are errors.
func Init(ctx context.Context, bin, dir string) (reason string, ok bool, err error) {
	out, err := Run(ctx, bin, dir, "init", "-input=false", "-no-color")
	if err == nil {
		return "", true, nil
	}
	if reason, missing := ProviderUnavailable(out); missing {
		return reason, false, nil
	}
	return "", false, fmt.Errorf("%w\n%s", err, out)
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
// plus a local backend and, when version is set, that exact hashicorp/aws
// version (an override file's provider requirement replaces the root's).
// Write it into a temporary copy, never into the repo.
func LocalEndpointOverride(endpoint, version string) string {
	services := []string{"cloudwatch", "dynamodb", "events", "iam", "kms", "lambda", "logs", "scheduler", "sns", "sqs", "sts"}
	var b strings.Builder
	b.WriteString("# Generated by test/tfharness: the local AWS, never AWS.\n")
	b.WriteString("terraform {\n  backend \"local\" {}\n")
	if version != "" {
		fmt.Fprintf(&b, "  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = %q\n    }\n  }\n", version)
	}
	b.WriteString("}\n\n")
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

// WriteLocalOverride writes LocalEndpointOverride into dir, with the
// provider version EnvProviderVersion names, if any.
func WriteLocalOverride(dir, endpoint string) error {
	version := os.Getenv(EnvProviderVersion)
	if version != "" && !providerVersion.MatchString(version) {
		return fmt.Errorf("%s=%q: want an exact version such as 5.46.0", EnvProviderVersion, version)
	}
	if err := os.WriteFile(filepath.Join(dir, "localaws_override.tf"), []byte(LocalEndpointOverride(endpoint, version)), 0o600); err != nil {
		return fmt.Errorf("write provider override: %w", err)
	}
	return nil
}

// LockedProviderVersion is the hashicorp/aws version init installed in dir
// (from its dependency lock file), or "" when there is none.
func LockedProviderVersion(dir string) string {
	lock, err := os.ReadFile(filepath.Join(dir, ".terraform.lock.hcl")) //nolint:gosec // the lock file of a root this run copied and initialised
	if err != nil {
		return ""
	}
	if m := lockedAWS.FindSubmatch(lock); m != nil {
		return string(m[1])
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
