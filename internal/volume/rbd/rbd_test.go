package rbd_test

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/volume"
	"github.com/kumo-cloud/kumo/internal/volume/rbd"
	"github.com/kumo-cloud/kumo/internal/volume/rbd/rbdtest"
)

// backend is a Backend on the real test cluster, and a volume id that the
// test's cleanup deletes.
func backend(t *testing.T) (*rbd.Backend, string) {
	t.Helper()
	b, err := rbd.New(rbdtest.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	id := rbdtest.VolumeID()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := b.Delete(ctx, id); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return b, id
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestLifecycle(t *testing.T) {
	b, id := backend(t)
	ctx := ctxT(t)
	const gib = 1 << 30
	if _, err := b.Size(ctx, id); !errors.Is(err, volume.ErrNotFound) {
		t.Fatalf("Size of a missing volume: %v, want ErrNotFound", err)
	}
	if err := b.Create(ctx, id, 10*gib); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, id, 3*gib); err != nil {
		t.Fatalf("Create again: %v, want nil (kept as it is)", err)
	}
	if n, err := b.Size(ctx, id); err != nil || n != 10*gib {
		t.Fatalf("Size = %d, %v; want exactly %d", n, err, 10*gib)
	}
	ids, err := b.List(ctx)
	if err != nil || !slices.Contains(ids, id) {
		t.Fatalf("List = %v, %v; want %s among them", ids, err, id)
	}
	if err := b.Grow(ctx, id, 20*gib); err != nil {
		t.Fatal(err)
	}
	if err := b.Grow(ctx, id, 5*gib); err != nil {
		t.Fatalf("Grow to less: %v, want nil (never shrinks)", err)
	}
	if n, err := b.Size(ctx, id); err != nil || n != 20*gib {
		t.Fatalf("Size after grow = %d, %v; want %d", n, err, 20*gib)
	}
	if err := b.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, id); err != nil {
		t.Fatalf("Delete again: %v, want nil", err)
	}
	if _, err := b.Size(ctx, id); !errors.Is(err, volume.ErrNotFound) {
		t.Fatalf("Size after delete: %v, want ErrNotFound", err)
	}
	if err := b.Grow(ctx, id, 30*gib); !errors.Is(err, volume.ErrNotFound) {
		t.Fatalf("Grow of a missing volume: %v, want ErrNotFound", err)
	}
}

// An odd size is kept to the byte: the guest must see exactly what was asked.
func TestExactOddSize(t *testing.T) {
	b, id := backend(t)
	ctx := ctxT(t)
	const size = 10<<30 + 512
	if err := b.Create(ctx, id, size); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Size(ctx, id); err != nil || n != size {
		t.Fatalf("Size = %d, %v; want %d", n, err, size)
	}
}

func TestBadInput(t *testing.T) {
	b, _ := backend(t)
	ctx := ctxT(t)
	for _, id := range []string{"", "other/vol-1", "vol-1@snap", "--pool"} {
		if err := b.Create(ctx, id, 1<<20); err == nil {
			t.Errorf("Create(%q) succeeded, want a refusal", id)
		}
	}
	if err := b.Create(ctx, rbdtest.VolumeID(), 0); err == nil {
		t.Error("Create of size 0 succeeded")
	}
	if _, err := rbd.New(rbd.Config{}); err == nil {
		t.Error("New without a pool succeeded")
	}
}

func TestMissingPoolIsAnError(t *testing.T) {
	cfg := rbdtest.Config(t)
	cfg.Pool = "no-such-pool"
	b, err := rbd.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Create(ctxT(t), rbdtest.VolumeID(), 1<<20)
	if err == nil || errors.Is(err, syscall.EEXIST) {
		t.Fatalf("Create in a missing pool: %v, want an error", err)
	}
}

func TestBlockdev(t *testing.T) {
	b, err := rbd.New(rbd.Config{Conf: "/etc/kumo/ceph.conf", User: "kumo", Pool: "volumes"})
	if err != nil {
		t.Skip(err)
	}
	got := b.Blockdev("vol-0123456789abcdef0", "v0123456789abcdef0")
	file, _ := got["file"].(map[string]any)
	if got["driver"] != "raw" || got["node-name"] != "v0123456789abcdef0" || file == nil ||
		file["driver"] != "rbd" || file["pool"] != "volumes" || file["image"] != "vol-0123456789abcdef0" ||
		file["conf"] != "/etc/kumo/ceph.conf" || file["user"] != "kumo" {
		t.Fatalf("Blockdev = %#v", got)
	}
}
