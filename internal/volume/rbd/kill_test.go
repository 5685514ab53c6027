package rbd_test

import (
	"bytes"
	"testing"
	"time"
)

// TestKilledWriterLosesNothing: a QEMU killed with kill -9 after a flushed
// write loses none of it, and once BreakLock has fenced the dead writer a
// new QEMU takes the image's exclusive lock at once (without BreakLock it
// waits 30 s, until Ceph expires the dead writer's watch) and writes.
func TestKilledWriterLosesNothing(t *testing.T) {
	b, id := backend(t)
	ctx := ctxT(t)
	if err := b.Create(ctx, id, 8<<20); err != nil {
		t.Fatal(err)
	}
	first, proc := runQEMU(t)
	_, dev := attach(t, first, b, id)
	qemuIO(t, first, dev, "write -P 0xd1 0 65536")
	qemuIO(t, first, dev, "flush")
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.Done()
	if err := b.BreakLock(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := b.BreakLock(ctx, id); err != nil {
		t.Fatalf("BreakLock of a volume nobody holds: %v", err)
	}

	second := startQEMU(t)
	_, dev = attach(t, second, b, id)
	start := time.Now()
	qemuIO(t, second, dev, "write -P 0xd2 1048576 4096")
	qemuIO(t, second, dev, "flush")
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("the new writer waited %v for the lock: the dead one was not fenced", d.Round(time.Millisecond))
	}
	r := exportHead(t, id)
	if got := readAt(t, r, 0, 65536); !bytes.Equal(got, fill(0xd1, 65536)) {
		t.Fatal("data flushed before kill -9 is gone")
	}
	if got := readAt(t, r, 1<<20-65536, 4096); !bytes.Equal(got, fill(0xd2, 4096)) {
		t.Fatal("the new writer's data is not in the image")
	}
}
