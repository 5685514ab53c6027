package nodeserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/store"
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
			t.Error("a node could write an object that is not a chunk")
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

func TestPutObjectOnlySnapshotData(t *testing.T) {
	h := startServer(t, storetest.Backends()[0])
	c1, _ := h.join(t, "host-1")
	c2, _ := h.join(t, "host-2")
	f := seedInstance(t, h.db, c1.NodeID())
	now := time.Now().UTC()
	storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.InsertVolume(ctx, store.Volume{ID: testVol, AccountID: f.account, AvailabilityZone: "kumo-1a", SizeGiB: 1,
			VolumeType: "gp2", State: store.VolumeAvailable, Backend: "local", HomeNode: c1.NodeID(), CreatedAt: now}); err != nil {
			return err
		}
		return tx.InsertSnapshot(ctx, store.Snapshot{ID: "snap-00000000000000021", AccountID: f.account, VolumeID: testVol,
			VolumeSize: 1, State: "pending", CreatedAt: now})
	})
	ctx := t.Context()
	data := bytes.Repeat([]byte("a chunk of a volume "), 30_000) // 600 kB: several parts
	// Written by the node the task is for, through the snapshot store:
	// chunks, then the manifest; read back by another node.
	if _, err := (&snapshot.Store{Objects: c1.Objects()}).Write(ctx, "snap-00000000000000021", bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatalf("the task's node writes its snapshot: %v", err)
	}
	m, err := (&snapshot.Store{Objects: c2.Objects()}).Manifest(ctx, "snap-00000000000000021")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "read")
	fo, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	err = (&snapshot.Store{Objects: c2.Objects()}).ReadTo(ctx, m, fo)
	fo.Close()
	if got, _ := os.ReadFile(out); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("another node reads it back: %d bytes, %v", len(got), err)
	}
	if err := c2.Objects().Put(ctx, "snapshots/snap-00000000000000021/manifest.json", strings.NewReader("{}"), 2); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a manifest of another node's task: got %v, want PermissionDenied", err)
	}
	bad := sha256.Sum256([]byte("other"))
	badKey := "chunks/" + hex.EncodeToString(bad[:])[:2] + "/" + hex.EncodeToString(bad[:])
	if err := c1.Objects().Put(ctx, badKey, strings.NewReader("forged"), 6); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a chunk whose bytes are not its hash: got %v, want InvalidArgument", err)
	}
	for _, key := range []string{"secrets/admin", "boot/aki-0000000000000ffff", "chunks/../secrets", "snapshots/snap-00000000000000099/manifest.json"} {
		if err := c1.Objects().Put(ctx, key, strings.NewReader("x"), 1); status.Code(err) != codes.PermissionDenied {
			t.Errorf("put %s: got %v, want PermissionDenied", key, err)
		}
	}
	if err := c1.Objects().Delete(ctx, badKey); err == nil {
		t.Error("a node could delete an object")
	}
}
