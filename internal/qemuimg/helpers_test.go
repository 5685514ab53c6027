package qemuimg

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// realTool returns a Tool on the installed qemu-img, or skips the test.
func realTool(t *testing.T) Tool {
	t.Helper()
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed (apt-get install qemu-utils); skipping tests against the real tool")
	}
	return Tool{}
}

// qemuImg runs qemu-img directly, to build images Tool refuses to make.
func qemuImg(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("qemu-img", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img %v: %v\n%s", args, err, out)
	}
}

// diskPattern is size bytes of recognisable content: random data, a hole
// of zeros, a repeated byte, then random data again.
func diskPattern(size int) []byte {
	b := make([]byte, size)
	q := size / 4
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	_, _ = rng.Read(b[:q])
	for i := 2 * q; i < 3*q; i++ {
		b[i] = 0xab
	}
	_, _ = rng.Read(b[3*q:])
	return b
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sameDisk compares a converted raw image with the original content.
func sameDisk(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d bytes, want %d", path, len(got), len(want))
	}
	if !bytes.Equal(got, want) {
		i := 0
		for got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: content differs first at byte %d", path, i)
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }
