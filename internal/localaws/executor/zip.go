package executor

import (
	"archive/zip"
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

func unzip(data []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("read zip: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, zf := range zr.File {
		name := filepath.Clean(zf.Name)
		if strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			return fmt.Errorf("zip entry %q leaves the function folder", zf.Name)
		}
		if zf.FileInfo().IsDir() {
			continue
		}
		if err := extract(zf, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

func extract(zf *zip.File, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	src, err := zf.Open()
	if err != nil {
		return fmt.Errorf("open %s: %w", zf.Name, err)
	}
	defer src.Close()
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o700) //nolint:gosec // function code must be executable
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := io.Copy(dst, io.LimitReader(src, 512<<20)); err != nil {
		dst.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// CheckZip refuses, from the zip in memory, code this machine cannot run:
// no bootstrap, or a bootstrap binary built for another CPU. A bootstrap may
// also be a script run by its #! interpreter (Lambda Developer Guide,
// "Building a custom runtime": a shell script, a script in a language of
// Amazon Linux, or a binary).
func CheckZip(data []byte) error {
	if len(data) == 0 {
		return errors.New("only zip packages are supported by the local AWS: give Code.ZipFile")
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("read zip: %w", err)
	}
	entry, err := zr.Open("bootstrap")
	if err != nil {
		return fmt.Errorf("the zip has no bootstrap (%w); build it with make build-host", err)
	}
	defer entry.Close()
	head := bufio.NewReader(entry)
	if start, _ := head.Peek(2); string(start) == "#!" {
		return nil
	}
	// The machine is in the ELF file header: read that, not the whole binary.
	machine, err := elfMachine(head)
	if err != nil {
		return fmt.Errorf("bootstrap is neither a Linux executable nor a #! script (%w); build it with make build-host", err)
	}
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	want, known := machines[runtime.GOARCH]
	if known && machine != want {
		return fmt.Errorf("bootstrap is built for %s but this machine is %s: build it with make build ARCH=%s (or make build-host)",
			archName(machine), runtime.GOARCH, runtime.GOARCH)
	}
	return nil
}

// elfMachine reads the target machine from the ELF file header at the start of r.
func elfMachine(r io.Reader) (elf.Machine, error) {
	var ident [elf.EI_NIDENT]byte
	if _, err := io.ReadFull(r, ident[:]); err != nil {
		return 0, fmt.Errorf("read ELF header: %w", err)
	}
	if string(ident[:4]) != elf.ELFMAG {
		return 0, errors.New("no ELF magic number")
	}
	var order binary.ByteOrder = binary.LittleEndian
	if elf.Data(ident[elf.EI_DATA]) == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	// e_type, then e_machine: the same place in 32- and 64-bit headers.
	var typeAndMachine [2]uint16
	if err := binary.Read(r, order, &typeAndMachine); err != nil {
		return 0, fmt.Errorf("read ELF header: %w", err)
	}
	return elf.Machine(typeAndMachine[1]), nil
}

func archName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	}
	return m.String()
}
