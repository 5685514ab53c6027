package volsnap

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// While a writer issues 4 KiB writes back to back through the guest's
// device (on QEMU's second monitor), a snapshot is taken: the snapshot
// holds exactly a prefix of the write sequence (crash-consistent at one
// instant), and the longest a write waited is logged: the guest's pause.
func TestSnapshotUnderWritesIsConsistentAndBrief(t *testing.T) {
	needTools(t)
	dir := tempDir(t)
	vol := newVolume(t, dir, testSize)
	g := startGuest(t, dir, vol, testSize)
	ctx := context.Background()
	g.write(0, testSize, 0x01)
	c2, err := qmp.Dial(ctx, g.qmp2)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()

	const wsize, area = 4096, 16 << 20
	var (
		wg        sync.WaitGroup
		stop      = make(chan struct{})
		latencies []time.Duration
		starts    []time.Time
		writes    int
		werr      error
	)
	wg.Go(func() {
		for i := 0; i < area/wsize; i++ {
			select {
			case <-stop:
				return
			default:
			}
			cmd := fmt.Sprintf(`qemu-io -d /machine/peripheral/%s/virtio-backend "write -P 0x%02x %d %d"`, volDev, i%250+2, i*wsize, wsize)
			t0 := time.Now()
			if err := c2.Execute(ctx, "human-monitor-command", map[string]string{"command-line": cmd}, nil); err != nil {
				werr = err
				return
			}
			latencies = append(latencies, time.Since(t0))
			starts = append(starts, t0)
			writes = i + 1
		}
	})
	time.Sleep(200 * time.Millisecond)
	objs := snapshot.NewMemObjects()
	takeStart := time.Now()
	res, err := Take(ctx, &QEMU{QMP: g.qmp, Node: volNode, TempDir: dir}, objs, Options{SnapshotID: "snap-busy"})
	takeTime := time.Since(takeStart)
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil || werr != nil {
		t.Fatalf("snapshot: %v; writer: %v", err, werr)
	}
	got := snapshotBytes(t, objs, res.Manifest)
	// The writes in the snapshot must be a prefix of the sequence.
	in := func(i int) bool { return got[i*wsize] == byte(i%250+2) && got[i*wsize+wsize-1] == byte(i%250+2) }
	first := 0
	for first < writes && in(first) {
		first++
	}
	for i := first; i < writes; i++ {
		if in(i) {
			t.Fatalf("write %d is in the snapshot but write %d is not: not one instant", i, first)
		}
		if got[i*wsize] != 0x01 {
			t.Fatalf("write %d's range holds %#x in the snapshot, want the old 0x01", i, got[i*wsize])
		}
	}
	if first == 0 || first == writes {
		t.Fatalf("the snapshot's instant (after write %d of %d) is not inside the writes: the test proves nothing", first, writes)
	}
	var before, during time.Duration
	for i, l := range latencies {
		if starts[i].Before(takeStart) {
			before = max(before, l)
		} else if starts[i].Sub(takeStart) < takeTime {
			during = max(during, l)
		}
	}
	slices.Sort(latencies)
	t.Logf("%d writes, the snapshot holds the first %d; Take ran %v; write latency median %v, max before Take %v, max during Take %v; transaction %v",
		writes, first, takeTime.Round(time.Millisecond), latencies[len(latencies)/2].Round(time.Microsecond),
		before.Round(time.Microsecond), during.Round(time.Microsecond), res.Pause.Round(time.Microsecond))
	if during > 2*time.Second {
		t.Errorf("a write waited %v during the snapshot", during)
	}
	g.stop()
	final := rawImage(t, vol)
	for i := range writes {
		if final[i*wsize] != byte(i%250+2) {
			t.Fatalf("write %d is missing from the volume", i)
		}
	}
}
