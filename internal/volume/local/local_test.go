package local

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kumo-cloud/kumo/internal/volume"
)

func realBackend(t *testing.T) *Backend {
	t.Helper()
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed (apt-get install qemu-utils)")
	}
	return &Backend{Dir: filepath.Join(t.TempDir(), "volumes")}
}

const id = "vol-0123456789abcdef0"

// qemuImgSize is the virtual size qemu-img itself reads.
func qemuImgSize(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("qemu-img", "info", "-U", "--output=json", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestCreateSizeGrowDelete(t *testing.T) {
	b, ctx := realBackend(t), context.Background()
	if _, err := b.Size(ctx, id); !errors.Is(err, volume.ErrNotFound) {
		t.Fatalf("size of a missing volume: %v, want ErrNotFound", err)
	}
	if err := b.Create(ctx, id, 10<<30); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Size(ctx, id); err != nil || got != 10737418240 {
		t.Fatalf("size %d, %v; want 10737418240", got, err)
	}
	if info := qemuImgSize(t, b.Path(id)); !bytes.Contains([]byte(info), []byte(`"virtual-size": 10737418240`)) {
		t.Fatalf("qemu-img info: %s", info)
	}
	if fi, err := os.Stat(b.Path(id)); err != nil || fi.Size() > 1<<20 {
		t.Fatalf("a new 10 GiB volume takes %d bytes on disk, want a sparse qcow2", fi.Size())
	}
	// Create again keeps what is there (idempotent), even with another size.
	if err := b.Create(ctx, id, 1<<30); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Size(ctx, id); got != 10<<30 {
		t.Fatalf("a second Create changed the size to %d", got)
	}
	if err := b.Grow(ctx, id, 20<<30); err != nil {
		t.Fatal(err)
	}
	if err := b.Grow(ctx, id, 5<<30); err != nil { // never shrinks
		t.Fatal(err)
	}
	if got, _ := b.Size(ctx, id); got != 20<<30 {
		t.Fatalf("size after grow %d, want 20 GiB", got)
	}
	ids, err := b.List(ctx)
	if err != nil || !slices.Equal(ids, []string{id}) {
		t.Fatalf("list %v, %v", ids, err)
	}
	if err := b.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, id); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if ids, _ := b.List(ctx); len(ids) != 0 {
		t.Fatalf("list after delete: %v", ids)
	}
}

func TestOddSizesAndBadIDs(t *testing.T) {
	b, ctx := realBackend(t), context.Background()
	if err := b.Create(ctx, id, 1000); err == nil {
		t.Error("a size that is not a multiple of 512 was accepted")
	}
	if err := b.Create(ctx, "../etc", 1<<20); err == nil {
		t.Error("a bad id was accepted")
	}
	// An exact odd number of sectors is kept exactly.
	if err := b.Create(ctx, id, 512*12345); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Size(ctx, id); got != 512*12345 {
		t.Fatalf("size %d, want %d", got, 512*12345)
	}
}

// Fill copies a source image (raw here; an NBD export in the node) and
// sets the volume's size.
func TestFill(t *testing.T) {
	b, ctx := realBackend(t), context.Background()
	src := filepath.Join(t.TempDir(), "src.raw")
	data := bytes.Repeat([]byte("kumo"), 1<<18) // 1 MiB
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Fill(ctx, id, src, "raw", 4<<20); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Size(ctx, id); got != 4<<20 {
		t.Fatalf("size %d, want 4 MiB", got)
	}
	out := filepath.Join(t.TempDir(), "out.raw")
	if o, err := exec.Command("qemu-img", "convert", "-f", "qcow2", "-O", "raw", b.Path(id), out).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, o)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got[:len(data)], data) || !bytes.Equal(got[len(data):], make([]byte, 3<<20)) {
		t.Fatal("the filled volume differs from its source")
	}
	if err := b.Fill(ctx, "vol-0123456789abcdef1", src, "raw", 512<<10); err == nil {
		t.Error("a source larger than the volume was accepted")
	}
	if ents, _ := os.ReadDir(b.Dir); len(ents) != 1 {
		t.Errorf("volume dir holds %d entries, want 1 (no temp left)", len(ents))
	}
}

func TestBlockdev(t *testing.T) {
	b := &Backend{Dir: "/data/volumes"}
	got := b.Blockdev(id, "n1")
	file := got["file"].(map[string]any)
	if got["driver"] != "qcow2" || got["node-name"] != "n1" || file["filename"] != "/data/volumes/"+id+".qcow2" {
		t.Fatalf("blockdev %v", got)
	}
}
