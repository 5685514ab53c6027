package volsnap

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/volsnap/nbd"
)

const benchSize = 1 << 30

// benchVolume makes a 1 GiB qcow2 volume full of random data (every chunk
// distinct, as a used disk) attached to a real QEMU, and a first snapshot
// of it in a store on disk.
func benchVolume(b *testing.B) (*guest, *QEMU, snapshot.Objects, *snapshot.Manifest, string) {
	needTools(b)
	dir := tempDir(b)
	raw := filepath.Join(dir, "vol.raw")
	f, err := os.Create(raw)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4<<20)
	for range benchSize / len(buf) {
		rand.Read(buf)
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	f.Close()
	vol := filepath.Join(dir, "vol.qcow2")
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, vol).CombinedOutput(); err != nil {
		b.Fatalf("qemu-img convert: %v: %s", err, out)
	}
	os.Remove(raw)
	g := startGuest(b, dir, vol, 0)
	objs, err := snapshot.NewDirObjects(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	src := &QEMU{QMP: g.qmp, Node: volNode, TempDir: dir}
	t0 := time.Now()
	base, err := Take(context.Background(), src, objs, Options{SnapshotID: "snap-base"})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("first snapshot of 1 GiB: %v, %d MiB uploaded", time.Since(t0).Round(time.Millisecond), base.Uploaded>>20)
	return g, src, objs, base.Manifest, dir
}

// BenchmarkSnapshot1GiB1Pct: an incremental snapshot of an attached 1 GiB
// volume after 1 % of it (21 chunks of 512 KiB) changed, with the dirty
// bitmap and by content (every chunk read and hashed).
func BenchmarkSnapshot1GiB1Pct(b *testing.B) {
	g, src, objs, base, _ := benchVolume(b)
	changed := benchSize / 100 / chunk
	run := 0 // snapshot ids and patterns are new in every run the framework makes
	for _, mode := range []string{"bitmap", "content"} {
		b.Run(mode, func(b *testing.B) {
			parent := base
			var read, uploaded int64
			var pause time.Duration
			for range b.N {
				run++
				b.StopTimer()
				for c := range changed {
					// Spread over the volume; a new pattern each time.
					off := int64(c) * (benchSize / int64(changed)) / chunk * chunk
					if err := g.tryWrite(off, chunk, byte(run*changed+c+1)); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				id := fmt.Sprintf("snap-%s-%d", mode, run)
				res, err := Take(context.Background(), src, objs, Options{SnapshotID: id, Parent: parent, NoBitmap: mode == "content"})
				if err != nil {
					b.Fatal(err)
				}
				parent = res.Manifest
				read += res.Read
				uploaded += res.Uploaded
				pause = max(pause, res.Pause)
			}
			b.ReportMetric(float64(read)/float64(b.N)/(1<<20), "MiB-read/op")
			b.ReportMetric(float64(uploaded)/float64(b.N)/(1<<20), "MiB-uploaded/op")
			b.ReportMetric(float64(pause.Microseconds())/1000, "ms-max-pause")
		})
	}
}

// BenchmarkRestore1GiB: CreateVolume from a snapshot of a full 1 GiB
// volume, up to the first read of the new volume (eager restore).
func BenchmarkRestore1GiB(b *testing.B) {
	g, _, objs, base, dir := benchVolume(b)
	g.stop()
	for i := range b.N {
		path := filepath.Join(dir, fmt.Sprintf("restored-%d.qcow2", i))
		t0 := time.Now()
		if err := Restore(context.Background(), objs, base, path, benchSize, RestoreOptions{TempDir: dir}); err != nil {
			b.Fatal(err)
		}
		srv, c, err := startQemuNBD(context.Background(), dir, path, true, "", nbd.MetaAllocation)
		if err != nil {
			b.Fatal(err)
		}
		p := make([]byte, 4096)
		if err := c.ReadAt(context.Background(), p, 0); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "s-to-first-read")
		c.Close()
		srv.kill()
		os.Remove(path)
	}
}
