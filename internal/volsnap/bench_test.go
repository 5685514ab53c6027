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
	run := 0       // snapshot ids and patterns are new in every run the framework makes
	parent := base // and each snapshot's parent is the one before (its bitmap is the volume's)
	for _, mode := range []string{"bitmap", "content"} {
		b.Run(mode, func(b *testing.B) {
			var read, uploaded int64
			var pause time.Duration
			for range b.N {
				run++
				b.StopTimer()
				for c := range changed {
					// Spread over the volume; a new pattern each time.
					off := int64(c) * (benchSize / int64(changed)) / chunk * chunk
					// (chunk c, run) → distinct contents: new chunks to upload.
					if err := g.tryWrite(off, chunk, byte(c+1)); err != nil {
						b.Fatal(err)
					}
					if err := g.tryWrite(off, 512, byte(run)); err != nil {
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

// BenchmarkPointInTime compares, on the same attached 1 GiB volume, how
// long QEMU is busy starting a point-in-time view with each mechanism
// considered (docs/volume-snapshots.md): the fleecing transaction volsnap
// uses, a qcow2 internal snapshot, and an external snapshot (its creation,
// and the pivot at the end of the block-commit that folds it back).
func BenchmarkPointInTime(b *testing.B) {
	g, src, _, _, dir := benchVolume(b)
	ctx := context.Background()
	q := g.qmp
	timed := func(cmd string, args any) time.Duration {
		t0 := time.Now()
		if err := q.Execute(ctx, cmd, args, nil); err != nil {
			b.Fatalf("%s: %v", cmd, err)
		}
		return time.Since(t0)
	}
	var fleece, internal, external, pivot time.Duration
	for i := range b.N {
		id := fmt.Sprintf("snap-pit-%d", i)
		v, err := src.open(ctx, id, nil)
		if err != nil {
			b.Fatal(err)
		}
		fleece += v.pause
		v.close()
		if err := src.finish(ctx, id, nil, false); err != nil {
			b.Fatal(err)
		}

		name := fmt.Sprintf("int%d", i)
		internal += timed("blockdev-snapshot-internal-sync", map[string]any{"device": volNode, "name": name})
		timed("blockdev-snapshot-delete-internal-sync", map[string]any{"device": volNode, "name": name})

		ov := filepath.Join(dir, "ext.qcow2")
		if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", ov, fmt.Sprint(benchSize)).CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		timed("blockdev-add", map[string]any{"driver": "qcow2", "node-name": "ext", "backing": nil,
			"file": map[string]any{"driver": "file", "filename": ov}})
		external += timed("blockdev-snapshot", map[string]any{"node": volNode, "overlay": "ext"})
		timed("block-commit", map[string]any{"job-id": "commit", "device": "ext", "auto-dismiss": false})
		waitJob(b, g, "commit", "ready")
		pivot += timed("block-job-complete", map[string]any{"device": "commit"})
		waitJob(b, g, "commit", "concluded")
		timed("job-dismiss", map[string]any{"id": "commit"})
		timed("blockdev-del", map[string]any{"node-name": "ext"})
		os.Remove(ov)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(fleece), "ms-fleecing-transaction")
	b.ReportMetric(ms(internal), "ms-internal-snapshot")
	b.ReportMetric(ms(external), "ms-external-snapshot")
	b.ReportMetric(ms(pivot), "ms-external-commit-pivot")
}

func waitJob(b *testing.B, g *guest, id, status string) {
	for range 3000 {
		var jobs []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		if err := g.qmp.Execute(context.Background(), "query-jobs", nil, &jobs); err != nil {
			b.Fatal(err)
		}
		for _, j := range jobs {
			if j.ID == id && j.Status == status {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatalf("job %s never %s", id, status)
}
