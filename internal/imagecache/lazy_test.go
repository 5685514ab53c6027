package imagecache

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveNBD runs c.ServeNBD until the returned stop is called (or the test
// ends) and waits until it listens.
func serveNBD(t *testing.T, c *Cache) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.ServeNBD(ctx) }()
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.serving != nil
	})
	var stopped bool
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("ServeNBD: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return stop
}

// imageData is size bytes of random data with some all-zero chunks (not
// stored, served as holes) and a short last chunk.
func imageData(size int) []byte {
	b := make([]byte, size)
	rand.Read(b)
	for i := 3 * testChunk; i < 7*testChunk; i++ {
		b[i] = 0
	}
	return b
}

// nonZeroChunks is how many chunks of data the store holds.
func nonZeroChunks(data []byte) int64 {
	var n int64
	zero := make([]byte, testChunk)
	for off := 0; off < len(data); off += testChunk {
		if !bytes.Equal(data[off:min(len(data), off+testChunk)], zero[:min(testChunk, len(data)-off)]) {
			n++
		}
	}
	return n
}

// compareCmd compares what QEMU reads from the overlay, with its backing
// read from the export, with the image's bytes in want: the block graph a
// guest's root disk gets (qemu.Args: an NBD node with the reconnection
// settings as the qcow2 node's backing) runs in qemu-storage-daemon, which
// exports the qcow2 node on a socket of its own that qemu-img compares.
// The returned func ends the daemon.
func compareCmd(t *testing.T, overlay string, exp *Export, want string) (*exec.Cmd, func()) {
	t.Helper()
	if _, err := exec.LookPath("qemu-storage-daemon"); err != nil {
		t.Skip("qemu-storage-daemon not installed")
	}
	out := filepath.Join(t.TempDir(), "out.sock")
	qsd := exec.Command("qemu-storage-daemon",
		"--blockdev", "driver=nbd,node-name=disk0-nbd,server.type=unix,server.path="+exp.Socket+",export="+exp.Name+
			",read-only=on,reconnect-delay=300,open-timeout=300",
		"--blockdev", "driver=file,node-name=disk0-file,filename="+overlay,
		"--blockdev", "driver=qcow2,node-name=disk0,file=disk0-file,backing=disk0-nbd",
		"--nbd-server", "addr.type=unix,addr.path="+out, "--export", "type=nbd,id=e0,node-name=disk0,name=disk0")
	qsd.Stderr = os.Stderr
	if err := qsd.Start(); err != nil {
		t.Fatal(err)
	}
	end := func() { qsd.Process.Kill(); qsd.Wait() }
	t.Cleanup(end)
	waitFor(t, func() bool { _, err := os.Stat(out); return err == nil })
	return exec.Command("qemu-img", "compare", "-f", "raw", "-F", "raw", "nbd+unix:///disk0?socket="+out, want), end
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "image.raw")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A root disk on a base not fetched yet is made at once; QEMU reading it
// through the cache's NBD export reads exactly the image's bytes while the
// base is filled in the background; each chunk is fetched once, and the
// base ends complete, read-only, named in the overlay.
func TestLazyRootDiskReadsTheImage(t *testing.T) {
	c, objs, disks := newCache(t)
	data := imageData(16<<20 + 4096)
	putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	serveNBD(t, c)
	objs.delay.Store(int64(10 * time.Millisecond))
	disk := filepath.Join(disks, "i-1", "root.qcow2")
	os.MkdirAll(filepath.Dir(disk), 0o700)
	exp, err := c.LazyRootDisk(t.Context(), "snap-1", disk, 0)
	if err != nil || exp == nil {
		t.Fatalf("LazyRootDisk: %+v, %v", exp, err)
	}
	base, complete := c.Complete("snap-1")
	if complete {
		t.Fatal("the base was complete before QEMU read anything: nothing lazy tested")
	}
	if info := qemuInfo(t, disk); info.Backing != base || info.BackingFmt != "raw" || info.VirtualSize != int64(len(data)) {
		t.Errorf("overlay: %+v, want backing %s (raw)", info, base)
	}
	cmp, end := compareCmd(t, disk, exp, writeFile(t, data))
	if out, err := cmp.CombinedOutput(); err != nil {
		t.Fatalf("qemu-img compare through NBD: %v\n%s", err, out)
	}
	end()
	waitFor(t, func() bool { _, ok := c.Complete("snap-1"); return ok })
	checkBase(t, base, data)
	if got, want := objs.chunkGets.Load(), nonZeroChunks(data); got != want {
		t.Errorf("%d chunk reads, want %d (each chunk once)", got, want)
	}
	if got := flatten(t, disk); !bytes.Equal(got, data) {
		t.Error("the overlay on the complete base reads differently")
	}
	if exp, err := c.LazyRootDisk(t.Context(), "snap-1", filepath.Join(disks, "root2.qcow2"), 1); err != nil || exp != nil {
		t.Errorf("on a complete base: export %+v, %v; want a plain overlay", exp, err)
	}
}

// Base, asked while a lazy fill runs, waits for it instead of fetching
// again; Prune keeps the base a lazy root disk is on.
func TestBaseJoinsLazyFill(t *testing.T) {
	c, objs, disks := newCache(t)
	data := imageData(4<<20 + 512)
	putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	serveNBD(t, c)
	objs.delay.Store(int64(5 * time.Millisecond))
	if _, err := c.LazyRootDisk(t.Context(), "snap-1", filepath.Join(disks, "root.qcow2"), 0); err != nil {
		t.Fatal(err)
	}
	if removed, err := c.Prune(t.Context(), func(string) bool { return false }); err != nil || len(removed) != 0 {
		t.Fatalf("Prune during the fill: %v %v", removed, err)
	}
	path, err := c.Base(t.Context(), "snap-1")
	if err != nil {
		t.Fatal(err)
	}
	checkBase(t, path, data)
	if got, want := objs.chunkGets.Load(), nonZeroChunks(data); got != want {
		t.Errorf("%d chunk reads, want %d", got, want)
	}
	if removed, err := c.Prune(t.Context(), func(string) bool { return false }); err != nil || len(removed) != 0 {
		t.Errorf("Prune removed a base an overlay names: %v %v", removed, err)
	}
}

// Without ServeNBD, LazyRootDisk is RootDisk: it waits for the base.
func TestLazyRootDiskWithoutServer(t *testing.T) {
	c, _, disks := newCache(t)
	data := imageData(1<<20 + 512)
	putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	exp, err := c.LazyRootDisk(t.Context(), "snap-1", filepath.Join(disks, "root.qcow2"), 0)
	if err != nil || exp != nil {
		t.Fatalf("export %+v, %v; want none", exp, err)
	}
	if _, ok := c.Complete("snap-1"); !ok {
		t.Error("no complete base")
	}
}

// The agent restarting while QEMU reads over NBD: the server and the fill
// die mid-read; a new cache on the same directory serves again; QEMU's
// client reconnects and its reads complete with the image's bytes, and the
// new cache completes the base.
func TestLazyReadSurvivesServerRestart(t *testing.T) {
	c, objs, disks := newCache(t)
	data := imageData(16<<20 + 4096)
	putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	stop := serveNBD(t, c)
	objs.delay.Store(int64(40 * time.Millisecond))
	disk := filepath.Join(disks, "root.qcow2")
	exp, err := c.LazyRootDisk(t.Context(), "snap-1", disk, 0)
	if err != nil || exp == nil {
		t.Fatalf("LazyRootDisk: %+v, %v", exp, err)
	}
	cmd, _ := compareCmd(t, disk, exp, writeFile(t, data))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return objs.chunkGets.Load() >= 20 })
	stop() // the agent goes: its server, its connections and its fill
	if _, ok := c.Complete("snap-1"); ok {
		t.Fatal("the base was complete before the restart: nothing tested")
	}
	time.Sleep(2 * time.Second)
	objs.delay.Store(int64(time.Millisecond))
	c2 := &Cache{Dir: c.Dir, Images: c.Images, Overlays: c.Overlays, Snapshots: c.Snapshots}
	serveNBD(t, c2)
	if err := cmd.Wait(); err != nil || !strings.Contains(out.String(), "identical") {
		t.Fatalf("qemu-img compare across the restart: %v\n%s", err, out.String())
	}
	waitFor(t, func() bool { _, ok := c2.Complete("snap-1"); return ok })
	base, _ := c2.Complete("snap-1")
	checkBase(t, base, data)
	if names := cacheFiles(t, c2); len(names) != 2 {
		t.Errorf("cache holds %v, want the base and the socket", names)
	}
}
