package nbd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serve runs qemu-nbd on a new qcow2 image of size bytes and dials it.
func serve(t *testing.T, size string, args ...string) (*Client, string) {
	t.Helper()
	for _, tool := range []string{"qemu-nbd", "qemu-img"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian: qemu-utils)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "nbd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	img, sock := filepath.Join(dir, "img.qcow2"), filepath.Join(dir, "sock")
	if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", img, size).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cmd := exec.Command("qemu-nbd", append(append([]string{"-f", "qcow2", "-k", sock, "-x", "e"}, args...), img)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		c, err := Dial(ctx, sock, "e", MetaAllocation)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c, sock
		}
		if ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReadWriteBlockStatus(t *testing.T) {
	c, _ := serve(t, "8M")
	ctx := context.Background()
	if c.Size() != 8<<20 {
		t.Fatalf("size %d", c.Size())
	}
	data := bytes.Repeat([]byte{0xab}, 1<<20)
	if err := c.WriteAt(ctx, data, 2<<20); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4<<20) // holes and data in one read
	for i := range got {
		got[i] = 0xff
	}
	if err := c.ReadAt(ctx, got, 1<<20); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 4<<20)
	copy(want[1<<20:], data)
	if !bytes.Equal(got, want) {
		t.Fatal("read back differs from what was written (holes must read as zeros)")
	}
	ext, err := c.BlockStatus(ctx, MetaAllocation, 0, c.Size())
	if err != nil {
		t.Fatal(err)
	}
	var dataBytes, end int64
	for _, e := range ext {
		if e.Offset != end {
			t.Fatalf("extents not contiguous: %+v", ext)
		}
		end = e.Offset + e.Length
		if e.Flags&StateZero == 0 {
			dataBytes += e.Length
			if e.Offset > 2<<20 || e.Offset+e.Length < 3<<20 {
				t.Errorf("data extent %+v outside the write", e)
			}
		}
	}
	if end != c.Size() || dataBytes < 1<<20 {
		t.Errorf("extents %+v: cover %d bytes, %d of data; want all, ≥ 1 MiB", ext, end, dataBytes)
	}
	if _, err := c.BlockStatus(ctx, "qemu:dirty-bitmap:none", 0, 1); err == nil {
		t.Error("block status of a context never negotiated succeeded")
	}
	// A read past the end is the server's error; the connection survives.
	var se *Error
	if err := c.ReadAt(ctx, make([]byte, 4096), c.Size()); !errors.As(err, &se) {
		t.Fatalf("read past the end: %v, want a server error", err)
	}
	if err := c.ReadAt(ctx, got[:4096], 2<<20); err != nil || got[0] != 0xab {
		t.Fatalf("read after a server error: %v", err)
	}
}

func TestReadOnlyAndUnknownMeta(t *testing.T) {
	c, sock := serve(t, "1M", "-r", "-e", "2")
	if err := c.WriteAt(context.Background(), []byte{1}, 0); err == nil {
		t.Error("write to a read-only export succeeded")
	}
	if _, err := Dial(context.Background(), sock, "e", "qemu:dirty-bitmap:nope"); err == nil || !strings.Contains(err.Error(), "meta context") {
		t.Errorf("dial asking for a bitmap the server lacks: %v, want a refusal of the meta context", err)
	}
}

func TestCancelledRead(t *testing.T) {
	c, _ := serve(t, "64M")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.ReadAt(ctx, make([]byte, 1<<20), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("read with a cancelled context: %v", err)
	}
}
