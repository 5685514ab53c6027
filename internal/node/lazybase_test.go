package node

// A first launch of the demo image, for real: QEMU starts before the image
// is cached and reads it over the image cache's NBD export; the agent is
// restarted while the guest reads; the guest boots from the image; the
// cached base is completed and the running guest is moved onto it.

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// slowChunks makes every chunk read take delay, as a busy object store.
type slowChunks struct {
	snapshot.Objects
	delay atomic.Int64 // nanoseconds
}

func (o *slowChunks) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasPrefix(key, "chunks/") {
		select {
		case <-time.After(time.Duration(o.delay.Load())):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return o.Objects.Get(ctx, key)
}

// blockNode is what query-named-block-nodes says of a node.
type blockNode struct {
	NodeName string `json:"node-name"`
	Drv      string `json:"drv"`
	File     string `json:"file"`
	Image    struct {
		BackingImage *struct {
			Filename string `json:"filename"`
		} `json:"backing-image"`
	} `json:"image"`
}

func blockNodes(t *testing.T, conn *qmp.Conn) map[string]blockNode {
	t.Helper()
	var nodes []blockNode
	if err := conn.Execute(context.Background(), "query-named-block-nodes", nil, &nodes); err != nil {
		t.Fatal(err)
	}
	m := map[string]blockNode{}
	for _, n := range nodes {
		m[n.NodeName] = n
	}
	return m
}

func TestFirstLaunchReadsImageOverNBD(t *testing.T) {
	img := demoImage(t)
	dir := t.TempDir()
	srv := newFakeServer()
	hv := &recordingQEMU{QEMU: QEMU{Driver: qemu.Driver{StopTimeout: 30 * time.Second}}}
	objs := &slowChunks{Objects: demoObjects(t, img)}
	objs.delay.Store(int64(3 * time.Second)) // the demo image has 5 chunks of data
	cfg := Config{DataDir: dir, Zone: "kumo-1a", Driver: hv, Objects: objs, Connector: srv,
		Cmdline: "console=ttyS0 kumo.imds_wait=1 kumo.net_wait=5", PollInterval: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	instDir := filepath.Join(dir, "instances", testID)
	t.Cleanup(func() {
		if g, err := (qemu.Driver{}).Attach(context.Background(), instDir); err == nil {
			g.Stop(context.Background(), true)
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(instDir, consoleFile))
			t.Logf("console:\n%s", b)
		}
	})
	stopAgent := runAgent(t, cfg)
	spec := demoSpec()
	spec.RootSnapshotID = "snap-demo"
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	base := filepath.Join(dir, "images", "snap-demo.raw")
	if exists(base) {
		t.Fatal("QEMU started only once the image was cached: the first launch waited for it")
	}
	if b, ok := hv.last().LazyBacking(); !ok || b.Export != "snap-demo" {
		t.Fatalf("root disk backing %+v, %v: want the cache's NBD export", b, ok)
	}

	// The agent goes away while the guest boots from the image over NBD,
	// and comes back; the guest's reads wait for it.
	stopAgent()
	if exists(base) {
		t.Fatal("the image was cached before the agent restart: nothing tested")
	}
	time.Sleep(2 * time.Second)
	objs.delay.Store(int64(10 * time.Millisecond))
	srv = newFakeServer()
	cfg.Connector = srv
	runAgent(t, cfg)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 10*time.Second)
	srv.push(spec)
	waitBoots(t, srv, 1, demotest.Ready)
	if m := lastMarker(demotest.Parse(srv.console(testID)), demotest.RootDisk); m.Fields["boot-count"] != "1" {
		t.Fatalf("root disk: %q, want the image's file system mounted (boot-count=1)", m.Text)
	}

	// The base completes; the running guest is moved onto it.
	waitFor(t, "the image cached", 60*time.Second, func() bool { return exists(base) })
	waitFor(t, "the root disk switched to the cached image", 30*time.Second, func() bool {
		_, lazy := hv.last().LazyBacking()
		return !lazy
	})
	nodes := blockNodes(t, hv.last().QMP())
	if _, ok := nodes["disk0-nbd"]; ok {
		t.Error("the NBD node is still there after the switch")
	}
	if bi := nodes["disk0"].Image.BackingImage; bi == nil || bi.Filename != base {
		t.Errorf("disk0's backing image %+v, want %s", bi, base)
	}
	if st, err := hv.last().Status(context.Background()); err != nil || st != qemu.StateRunning {
		t.Fatalf("guest %s, %v after the switch", st, err)
	}

	// The guest goes on reading its disk from the base: a clean reboot
	// mounts it again.
	spec.RebootSeq = 1
	srv.push(spec)
	waitBoots(t, srv, 2, demotest.Ready)
	if m := lastMarker(demotest.Parse(srv.console(testID)), demotest.RootDisk); m.Fields["boot-count"] != "2" {
		t.Errorf("root disk after the reboot: %q, want boot-count=2", m.Text)
	}

	// A later start uses the base: no NBD.
	spec.Power = nodeapi.PowerStopped
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedStopped, 60*time.Second)
	spec.Power = nodeapi.PowerRunning
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	if _, lazy := hv.last().LazyBacking(); lazy {
		t.Error("a start on a cached image read it over NBD")
	}
	waitBoots(t, srv, 3, demotest.Ready)
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
