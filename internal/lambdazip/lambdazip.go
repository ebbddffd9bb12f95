// Package lambdazip writes Lambda deployment zips that depend only on the
// bytes of their files: fixed timestamps, fixed modes, fixed order. The same
// binary always gives the same zip, so Terraform's source_code_hash changes
// only when the code does.
package lambdazip

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// epoch is the earliest time a zip header can hold; every entry gets it.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one entry: its name in the zip and the path to read it from.
type File struct {
	Name string
	Path string
}

// Write writes files to w, sorted by name, each executable (0755): the
// runtime runs bootstrap, and nothing else in a Lambda zip needs another mode.
func Write(w io.Writer, files []File) error {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	zw := zip.NewWriter(w)
	for _, f := range sorted {
		if err := add(zw, f); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finish zip: %w", err)
	}
	return nil
}

func add(zw *zip.Writer, f File) error {
	src, err := os.Open(f.Path)
	if err != nil {
		return fmt.Errorf("open %s: %w", f.Path, err)
	}
	defer src.Close()
	h := &zip.FileHeader{Name: filepath.ToSlash(f.Name), Method: zip.Deflate, Modified: epoch}
	h.SetMode(0o755)
	dst, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("add %s: %w", f.Name, err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		return fmt.Errorf("write %s: %w", f.Name, err)
	}
	return nil
}

// WriteFile writes the zip to path atomically.
func WriteFile(path string, files []File) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".lambdazip-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := Write(tmp, files); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { //nolint:gosec // a deployment artifact, world-readable by design
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	return nil
}
