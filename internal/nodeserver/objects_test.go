package nodeserver_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestGetObjectStreamsAllowedKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		f := seedInstance(t, h.db, c.NodeID())
		ctx := t.Context()
		kernel := make([]byte, 2<<20+12345) // several chunks
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range kernel {
			kernel[i] = byte(rng.Uint32())
		}
		if err := h.objects.Put(ctx, f.kernelKey, bytes.NewReader(kernel), int64(len(kernel))); err != nil {
			t.Fatal(err)
		}
		if err := h.objects.Put(ctx, "secrets/admin", bytes.NewReader([]byte("x")), 1); err != nil {
			t.Fatal(err)
		}
		objs := c.Objects()
		rc, err := objs.Get(ctx, f.kernelKey)
		if err != nil {
			t.Fatalf("get kernel: %v", err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, kernel) {
			t.Fatalf("kernel read back: %d bytes, err %v; want %d bytes", len(got), err, len(kernel))
		}
		for _, key := range []string{"secrets/admin", "boot/aki-0000000000000ffff", "snapshots/../secrets/admin"} {
			if _, err := objs.Get(ctx, key); status.Code(err) != codes.PermissionDenied {
				t.Errorf("get %s: got %v, want PermissionDenied", key, err)
			}
		}
		if _, err := objs.List(ctx, "secrets/"); status.Code(err) != codes.PermissionDenied {
			t.Errorf("list secrets/: got %v, want PermissionDenied", err)
		}
		if _, err := objs.Get(ctx, "chunks/aa/missing"); !errors.Is(err, snapshot.ErrNotFound) {
			t.Errorf("missing chunk: got %v, want snapshot.ErrNotFound", err)
		}
		if ok, err := objs.Exists(ctx, f.kernelKey); !ok || err != nil {
			t.Errorf("exists kernel: %v %v", ok, err)
		}
		if ok, err := objs.Exists(ctx, "chunks/aa/missing"); ok || err != nil {
			t.Errorf("exists missing: %v %v", ok, err)
		}
		if err := objs.Put(ctx, "chunks/aa/x", bytes.NewReader(nil), 0); err == nil {
			t.Error("a node could write an object")
		}
		if err := objs.Delete(ctx, f.kernelKey); err == nil {
			t.Error("a node could delete an object")
		}
	})
}

func TestSnapshotReadsThroughNodeObjects(t *testing.T) {
	h := startServer(t, storetest.Backends()[0])
	c, _ := h.join(t, "host-1")
	ctx := t.Context()
	data := bytes.Repeat([]byte("kumo snapshot data "), 200_000) // ~3.8 MB, several 512 KiB chunks
	server := &snapshot.Store{Objects: h.objects}
	if _, err := server.Write(ctx, "snap-00000000000000abc", bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
	node := &snapshot.Store{Objects: c.Objects()}
	m, err := node.Manifest(ctx, "snap-00000000000000abc")
	if err != nil {
		t.Fatalf("manifest through the node protocol: %v", err)
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "disk"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := node.ReadTo(ctx, m, out); err != nil {
		t.Fatalf("read snapshot through the node protocol: %v", err)
	}
	got, err := os.ReadFile(out.Name())
	if err != nil || !bytes.Equal(got[:len(data)], data) {
		t.Fatalf("snapshot read back differs (%d bytes, %v)", len(got), err)
	}
	if ids, err := node.IDs(ctx); err != nil || len(ids) != 1 {
		t.Fatalf("list snapshots through the node protocol: %v %v", ids, err)
	}
}
