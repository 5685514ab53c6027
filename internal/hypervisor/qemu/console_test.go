package qemu

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestConsoleTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "console.log")
	if b, err := ConsoleTail(path, 10); err != nil || len(b) != 0 {
		t.Fatalf("missing log: %q, %v", b, err)
	}
	data := bytes.Repeat([]byte("0123456789"), 10_000) // 100,000 bytes
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := ConsoleTail(path, 5); string(b) != "56789" {
		t.Errorf("tail 5 = %q", b)
	}
	if b, _ := ConsoleTail(path, 0); !bytes.Equal(b, data[len(data)-ConsoleMax:]) {
		t.Errorf("tail 0: %d bytes, want the last %d", len(b), ConsoleMax)
	}
	if b, _ := ConsoleTail(path, 1<<30); len(b) != ConsoleMax {
		t.Errorf("tail 1 GiB: %d bytes, want %d", len(b), ConsoleMax)
	}
}
