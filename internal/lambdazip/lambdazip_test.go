package lambdazip_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
)

func zipOf(t *testing.T, files []lambdazip.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, lambdazip.Write(&buf, files))
	return buf.Bytes()
}

func TestZipDependsOnlyOnContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string, mtime time.Time, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), mode))
		require.NoError(t, os.Chtimes(p, mtime, mtime))
		return p
	}
	a := write("bootstrap", "binary-v1", time.Now(), 0o700)
	first := zipOf(t, []lambdazip.File{{Name: "bootstrap", Path: a}, {Name: "VERSION", Path: write("v", "1", time.Now(), 0o600)}})

	// Same content, other mtimes, modes and argument order: same bytes.
	b := write("bootstrap2", "binary-v1", time.Now().Add(-48*time.Hour), 0o644)
	second := zipOf(t, []lambdazip.File{{Name: "VERSION", Path: write("v2", "1", time.Now().Add(time.Hour), 0o644)}, {Name: "bootstrap", Path: b}})
	assert.Equal(t, sha256.Sum256(first), sha256.Sum256(second))

	// Other content: other bytes.
	c := write("bootstrap3", "binary-v2", time.Now(), 0o700)
	assert.NotEqual(t, first, zipOf(t, []lambdazip.File{{Name: "bootstrap", Path: c}, {Name: "VERSION", Path: write("v3", "1", time.Now(), 0o600)}}))

	zr, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	require.NoError(t, err)
	require.Len(t, zr.File, 2)
	assert.Equal(t, "VERSION", zr.File[0].Name)
	assert.Equal(t, "bootstrap", zr.File[1].Name)
	assert.Equal(t, os.FileMode(0o755), zr.File[1].Mode().Perm(), "bootstrap must be executable")
}

// TestBuildIsReproducible builds the processor twice, in two directories,
// with the flags `make build` uses, and checks the zips are byte-identical.
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the processor twice; skipped with -short")
	}
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	sums := make([][32]byte, 2)
	for i := range sums {
		dir := t.TempDir()
		bin := filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid=", "-tags", "lambda.norpc", "-o", bin, "./lambda/processor")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		zipPath := filepath.Join(dir, "processor.zip")
		require.NoError(t, lambdazip.WriteFile(zipPath, []lambdazip.File{{Name: "bootstrap", Path: bin}}))
		data, err := os.ReadFile(zipPath)
		require.NoError(t, err)
		sums[i] = sha256.Sum256(data)
	}
	assert.Equal(t, sums[0], sums[1], "two builds of the same source gave different zips")
}

func TestArchitecture(t *testing.T) {
	t.Parallel()
	for goarch, want := range map[string]string{"amd64": "x86_64", "arm64": "arm64", "386": ""} {
		if got := lambdazip.Architecture(goarch); got != want {
			t.Errorf("Architecture(%q) = %q, want %q", goarch, got, want)
		}
	}
}
