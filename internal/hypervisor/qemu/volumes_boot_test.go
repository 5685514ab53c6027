package qemu_test

// Hot-plugs an EBS volume of the embedded backend (a qcow2 file) into two
// real demo guests in turn (TCG unless /dev/kvm is usable): the guest sees
// exactly the size and the serial; a pattern the first guest writes reads
// back identical in the second; the volume grows online; limits change
// live; a forced detach releases the file at once.

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/volume/local"
)

const volID = "vol-0123456789abcdef1"

// volumeGuest boots a demo guest with volume slots; fill makes it write a
// pattern on a zeroed volume it gets.
func volumeGuest(t *testing.T, img string, fill bool) (*qemu.Instance, string) {
	t.Helper()
	s := demoSpec(t, img)
	s.HotplugSlots = 4
	s.Cmdline = "console=ttyS0 kumo.imds_wait=1 kumo.net_wait=1"
	if fill {
		s.Cmdline += " kumo.disk_fill"
	}
	inst, err := qemu.Driver{StopTimeout: 30 * time.Second}.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(s.RunDir, "console.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := qemu.ConsoleTail(log, 0)
			t.Logf("console of %s:\n%s", s.RunDir, b)
		}
		if !inst.Exited() {
			inst.Stop(context.Background(), true)
		}
	})
	return inst, log
}

// findMarker waits for a marker of event that satisfies ok.
func findMarker(t *testing.T, log, event string, ok func(demotest.Marker) bool) demotest.Marker {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := qemu.ConsoleTail(log, 0)
		for _, m := range demotest.Parse(b) {
			if m.Event == event && ok(m) {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s marker as wanted after 120s", event)
	return demotest.Marker{}
}

func ofVolume(m demotest.Marker) bool { return m.Fields["serial"] == "vol0123456789abcdef1" }

func onDisk(name string) func(demotest.Marker) bool {
	return func(m demotest.Marker) bool { return m.Arg(0) == name }
}

func plugged(t *testing.T, inst *qemu.Instance) []qemu.PluggedVolume {
	t.Helper()
	vs, err := inst.Volumes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func unplug(t *testing.T, inst *qemu.Instance, force bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		gone, err := inst.UnplugVolume(context.Background(), volID, force)
		if err != nil {
			t.Fatal(err)
		}
		if gone {
			return time.Since(start)
		}
		if time.Since(start) > 120*time.Second {
			t.Fatal("the guest did not release the volume in 120 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestVolumeHotplugLocal(t *testing.T) {
	img := demoImage(t)
	ctx := context.Background()
	be := &local.Backend{Dir: filepath.Join(t.TempDir(), "volumes")}
	if err := be.Create(ctx, volID, 10<<30); err != nil {
		t.Fatal(err)
	}
	a, logA := volumeGuest(t, img, true)
	b, logB := volumeGuest(t, img, false)
	waitMarkers(t, logA, demotest.Ready, 1, 90*time.Second)
	vol := qemu.Volume{ID: volID, Blockdev: be.Blockdev(volID, qemu.VolumeNode(volID)),
		Limits: qemu.Limits{IOPS: 3000, ThroughputMiB: 1}} // 1 MiB/s: the guest's 3 MiB of I/O take 2 s or more

	at := time.Now()
	if err := a.PlugVolume(ctx, vol); err != nil {
		t.Fatal(err)
	}
	if err := a.PlugVolume(ctx, vol); err != nil { // idempotent
		t.Fatalf("second plug: %v", err)
	}
	disk := findMarker(t, logA, demotest.Disk, ofVolume)
	t.Logf("plug → guest saw the disk: %v", time.Since(at).Round(time.Millisecond))
	if disk.Fields["size"] != "10737418240" || disk.Fields["serial"] != "vol0123456789abcdef1" {
		t.Fatalf("guest sees %q, want size=10737418240 serial=vol0123456789abcdef1", disk.Text)
	}
	written := findMarker(t, logA, demotest.DiskData, onDisk(disk.Arg(0)))
	if written.Fields["written"] != "1" {
		t.Fatalf("guest A did not write its pattern: %q", written.Text)
	}
	// Read 1 MiB, write 1 MiB, read it back at 1 MiB/s.
	if d := time.Since(at); d < 2*time.Second {
		t.Errorf("3 MiB of guest I/O at 1 MiB/s took %v: the throttle group does not hold", d)
	} else {
		t.Logf("plug → 3 MiB of guest I/O done at 1 MiB/s: %v", d.Round(time.Millisecond))
	}
	vs := plugged(t, a)
	if len(vs) != 1 || !vs[0].Device || vs[0].Size != 10<<30 || vs[0].Limits != vol.Limits {
		t.Fatalf("volumes of A: %+v", vs)
	}

	// Limits change live; a new monitor connection (an agent restart)
	// finds the volume from QEMU alone.
	if err := a.SetVolumeLimits(ctx, volID, qemu.Limits{IOPS: 16000, ThroughputMiB: 1000}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	a = attach(t, a.Spec().RunDir)
	if vs := plugged(t, a); len(vs) != 1 || vs[0].Limits != (qemu.Limits{IOPS: 16000, ThroughputMiB: 1000}) {
		t.Fatalf("volumes of A after reattach: %+v", vs)
	}

	// Online grow: the guest sees 20 GiB without a detach.
	at = time.Now()
	if err := a.ResizeVolume(ctx, volID, 20<<30); err != nil {
		t.Fatal(err)
	}
	if err := be.Grow(ctx, volID, 20<<30); err != nil { // a no-op now, and safe while attached
		t.Fatal(err)
	}
	resized := findMarker(t, logA, demotest.DiskResized, onDisk(disk.Arg(0)))
	t.Logf("block_resize → guest saw the new size: %v", time.Since(at).Round(time.Millisecond))
	if resized.Fields["size"] != "21474836480" {
		t.Fatalf("after the grow the guest sees %q, want size=21474836480", resized.Text)
	}
	if n, err := be.Size(ctx, volID); err != nil || n != 20<<30 {
		t.Fatalf("backend size %d, %v after the grow", n, err)
	}

	d := unplug(t, a, false)
	t.Logf("unplug → guest released it and the nodes are gone: %v", d.Round(time.Millisecond))
	findMarker(t, logA, demotest.DiskRemoved, onDisk(disk.Arg(0)))
	if vs := plugged(t, a); len(vs) != 0 {
		t.Fatalf("volumes of A after the unplug: %+v", vs)
	}

	// Guest B reads back what A wrote, without limits.
	waitMarkers(t, logB, demotest.Ready, 1, 90*time.Second)
	vol.Limits = qemu.Limits{}
	at = time.Now()
	if err := b.PlugVolume(ctx, vol); err != nil {
		t.Fatal(err)
	}
	disk = findMarker(t, logB, demotest.Disk, ofVolume)
	if disk.Fields["size"] != "21474836480" {
		t.Fatalf("guest B sees %q, want size=21474836480", disk.Text)
	}
	read := findMarker(t, logB, demotest.DiskData, onDisk(disk.Arg(0)))
	if read.Fields["sha256"] != written.Fields["sha256"] || read.Fields["written"] != "" {
		t.Fatalf("guest B read %q, guest A wrote %q", read.Text, written.Text)
	}
	t.Logf("plug → 1 MiB read unthrottled: %v", time.Since(at).Round(time.Millisecond))

	// A forced detach is done at once and releases the file (qemu-img
	// takes the write lock only when QEMU holds none).
	unplug(t, b, true)
	if out, err := exec.Command("qemu-img", "info", be.Path(volID)).CombinedOutput(); err != nil {
		t.Fatalf("the volume's file is still locked after a forced detach: %v: %s", err, out)
	}
	waitFor := time.Now().Add(60 * time.Second)
	for len(plugged(t, b)) != 0 && time.Now().Before(waitFor) {
		unplug(t, b, true)
		time.Sleep(200 * time.Millisecond)
	}
	if vs := plugged(t, b); len(vs) != 0 {
		t.Fatalf("volumes of B after the forced detach and the guest's release: %+v", vs)
	}
	if b, _ := qemu.ConsoleTail(logB, 0); !strings.Contains(string(b), "disk-removed") {
		t.Error("guest B never saw the disk go")
	}
}
