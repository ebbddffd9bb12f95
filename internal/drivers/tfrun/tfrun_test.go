package tfrun_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/tfrun"
)

func TestProviderUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		give       string
		wantSkip   bool
		wantReason string
	}{
		{
			name:     "opentofu offline",
			give:     "Initializing provider plugins...\n- Finding hashicorp/aws versions matching \">= 5.46.0\"...\n\nError: Failed to resolve provider packages\n\nCould not resolve provider hashicorp/aws: could not connect to\nregistry.opentofu.org: failed to request discovery document: Get\n\"https://registry.opentofu.org/.well-known/terraform.json\": dial tcp\n",
			wantSkip: true, wantReason: "init: Failed to resolve provider packages: Could not resolve provider hashicorp/aws: could not connect to registry.opentofu.org)",
		},
		{
			name:     "terraform offline",
			give:     "Error: Failed to query available provider packages\n\nCould not retrieve the list of available versions for provider\nhashicorp/aws: could not connect to registry.terraform.io: failed to request\n",
			wantSkip: true, wantReason: "Failed to query available provider packages: Could not retrieve the list of available versions for provider hashicorp/aws: could not connect to registry.terraform.io",
		},
		{
			name: "a syntax error is a failure, not a skip",
			give: "Error: Unsupported argument\n\n  on main.tf line 3, in module \"pipeline\":\n   3:   nme = 1\n",
		},
		{name: "success", give: "OpenTofu has been successfully initialized!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reason, skip := tfrun.ProviderUnavailable(tt.give)
			assert.Equal(t, tt.wantSkip, skip)
			if tt.wantSkip {
				assert.Contains(t, reason, tt.wantReason)
				assert.NotContains(t, reason, "\n", "a skip reason is one line")
			}
		})
	}
}

func TestLocalEndpointOverride(t *testing.T) {
	t.Parallel()
	hcl := tfrun.LocalEndpointOverride("http://127.0.0.1:4566", "")
	for _, want := range []string{`backend "local"`, "skip_credentials_validation = true", `sqs        = "http://127.0.0.1:4566"`, `scheduler  = "http://127.0.0.1:4566"`} {
		assert.Contains(t, hcl, want)
	}
	assert.NotContains(t, hcl, "required_providers", "no version asked: the root's constraints choose")
	pinned := tfrun.LocalEndpointOverride("http://127.0.0.1:4566", "6.0.0")
	assert.Contains(t, pinned, "required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \"6.0.0\"")
}

// The provider version to run comes from the environment, checked.
func TestWriteLocalOverrideTakesTheProviderVersionFromTheEnvironment(t *testing.T) {
	tests := []struct {
		version string
		want    string // in the override; "" when refused
	}{
		{"", `backend "local" {}` + "\n}"},
		{"5.46.0", `version = "5.46.0"`},
		{"6.0.0-beta1", `version = "6.0.0-beta1"`},
		{`5.46.0" }`, ""},
		{">= 6.0", ""},
	}
	for _, tt := range tests {
		t.Setenv(tfrun.EnvProviderVersion, tt.version)
		dir := t.TempDir()
		err := tfrun.WriteLocalOverride(dir, "http://127.0.0.1:4566")
		if tt.want == "" {
			require.Error(t, err, tt.version)
			continue
		}
		require.NoError(t, err)
		hcl, err := os.ReadFile(filepath.Join(dir, "localaws_override.tf"))
		require.NoError(t, err)
		assert.Contains(t, string(hcl), tt.want, tt.version)
	}
}

func TestLockedProviderVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	assert.Empty(t, tfrun.LockedProviderVersion(dir), "no lock file")
	lock := "provider \"registry.opentofu.org/hashicorp/aws\" {\n  version     = \"5.46.0\"\n  constraints = \">= 5.46.0, < 7.0.0\"\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".terraform.lock.hcl"), []byte(lock), 0o600))
	assert.Equal(t, "5.46.0", tfrun.LockedProviderVersion(dir))
}

func TestCopyRootsLeavesLocalStateOut(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for path, body := range map[string]string{
		"modules/m/main.tf":             "# m",
		"envs/dev/main.tf":              "# dev",
		"envs/dev/localaws_override.tf": "# override",
		"envs/dev/terraform.tfstate":    "{}",
		"envs/dev/.terraform/x":         "cache",
		"internal/ignored.go":           "package x",
	} {
		p := filepath.Join(root, path)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o750))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	}
	dst := t.TempDir()
	require.NoError(t, tfrun.CopyRoots(root, dst))
	assert.FileExists(t, filepath.Join(dst, "modules/m/main.tf"))
	assert.FileExists(t, filepath.Join(dst, "envs/dev/main.tf"))
	for _, gone := range []string{"envs/dev/localaws_override.tf", "envs/dev/terraform.tfstate", "envs/dev/.terraform", "internal"} {
		assert.NoFileExists(t, filepath.Join(dst, gone))
		assert.NoDirExists(t, filepath.Join(dst, gone))
	}
}

func TestFirstError(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, output, want string }{
		{"the first error", "module.x: Creating...\n\nError: creating SQS Queue (q): boom\n\n  with module.x\n\nError: second\n", "Error: creating SQS Queue (q): boom"},
		{"no error line", "\nsomething odd\nmore\n", "something odd"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tfrun.FirstError(tt.output))
		})
	}
}
