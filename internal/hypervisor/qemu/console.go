package qemu

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ConsoleMax is the most console output returned, as EC2's GetConsoleOutput.
const ConsoleMax = 64 << 10

// ConsoleTail returns the last n bytes of the guest's serial console
// (ConsoleMax when n is out of 1..ConsoleMax).
func (i *Instance) ConsoleTail(n int) ([]byte, error) {
	return ConsoleTail(i.spec.consoleLog(), n)
}

// ConsoleTail reads the last n bytes of a console log; a log not yet
// written is empty. It works whether or not the guest runs.
func ConsoleTail(path string, n int) ([]byte, error) {
	if n <= 0 || n > ConsoleMax {
		n = ConsoleMax
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("qemu: console: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("qemu: console: %w", err)
	}
	off := max(fi.Size()-int64(n), 0)
	b := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("qemu: console: %w", err)
	}
	return b, nil
}
