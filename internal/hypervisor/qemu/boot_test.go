package qemu_test

// Boots the demo image for real (TCG unless /dev/kvm is usable) through the
// driver: direct kernel boot, a qcow2 overlay root disk with a volume
// serial, no network. The guest is started by a child "agent" process that
// is then killed with SIGKILL, and the test reattaches from the run dir.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/qemuimg"
)

func demoImage(t *testing.T) string { return demotest.Require(t) }

func demoSpec(t *testing.T, img string) qemu.Spec {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root.qcow2")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := (qemuimg.Tool{}).Create(ctx, root, "qcow2", 0, filepath.Join(img, "root.img"), "raw"); err != nil {
		t.Fatal(err)
	}
	uuid, err := qemu.NewSMBIOSUUID(nil)
	if err != nil {
		t.Fatal(err)
	}
	return qemu.Spec{
		ID: "i-0123456789abcdef0", VCPUs: 2, MemoryMiB: 256,
		Disks:        []qemu.Disk{{Path: root, Format: "qcow2", VolumeID: "vol-0123456789abcdef0"}},
		Kernel:       filepath.Join(img, "vmlinuz"),
		Initrd:       filepath.Join(img, "initrd.img"),
		Cmdline:      "console=ttyS0",
		SMBIOSUUID:   uuid,
		RunDir:       filepath.Join(dir, "run"),
		HotplugSlots: 1,
	}
}

// waitMarkers polls the console until it holds n markers of event.
func waitMarkers(t *testing.T, log, event string, n int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		b, _ := qemu.ConsoleTail(log, qemu.ConsoleMax)
		if count(demotest.Parse(b), event) >= n {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(log)
	t.Fatalf("no %d× %q marker after %v; console:\n%s", n, event, timeout, b)
	return 0
}

func count(ms []demotest.Marker, event string) int {
	n := 0
	for _, m := range ms {
		if m.Event == event {
			n++
		}
	}
	return n
}

func attach(t *testing.T, runDir string) *qemu.Instance {
	t.Helper()
	inst, err := qemu.Driver{StopTimeout: 30 * time.Second}.Attach(context.Background(), runDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !inst.Exited() {
			inst.Stop(context.Background(), true)
		}
	})
	return inst
}

func wantState(t *testing.T, inst *qemu.Instance, want qemu.State) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got, err := inst.Status(ctx); err != nil || got != want {
		t.Fatalf("status = %s, %v; want %s", got, err, want)
	}
}

func TestBootReattachRebootStop(t *testing.T) {
	s := demoSpec(t, demoImage(t))
	log := filepath.Join(s.RunDir, "console.log")
	start := time.Now()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := qemu.ConsoleTail(log, 0)
			t.Logf("console:\n%s", b)
		}
	})
	startInAgent(t, s)
	inst := attach(t, s.RunDir) // the agent that started it is dead
	wantState(t, inst, qemu.StateRunning)
	waitMarkers(t, log, demotest.Booted, 1, 60*time.Second)
	t.Logf("start → booted: %v", time.Since(start).Round(time.Millisecond))
	waitMarkers(t, log, demotest.RootDisk, 1, 30*time.Second)
	b, _ := inst.ConsoleTail(0)
	if !strings.Contains(string(b), "serial=vol0123456789abcdef0") {
		t.Errorf("the root disk's serial is not the volume id without the dash:\n%s", b)
	}

	inst.Close() // a second agent restart, this time with a clean close
	inst = attach(t, s.RunDir)
	rebootAt := time.Now()
	if err := inst.Reboot(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitMarkers(t, log, demotest.Booted, 2, 60*time.Second)
	t.Logf("reboot → booted: %v", time.Since(rebootAt).Round(time.Millisecond))
	waitMarkers(t, log, demotest.RootDisk, 2, 30*time.Second)
	if !strings.Contains(string(mustTail(t, inst)), "boot-count=2") {
		t.Error("the second boot did not count 2 boots on the root disk")
	}
	// Without a NIC the demo waits 10 s for one, and handles the power
	// button only once its boot sequence is over.
	waitMarkers(t, log, demotest.Ready, 1, 30*time.Second) // the first boot was reset before its ready
	t.Logf("reboot → ready (no NIC): %v", time.Since(rebootAt).Round(time.Millisecond))

	hotplug(t, inst, log)

	stopAt := time.Now()
	if err := inst.Stop(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	t.Logf("ACPI stop → exited: %v", time.Since(stopAt).Round(time.Millisecond))
	if time.Since(stopAt) > 20*time.Second {
		t.Error("the guest ignored the ACPI power button; it was killed after the timeout")
	}
	waitMarkers(t, log, demotest.Shutdown, 1, time.Second)
	wantState(t, inst, qemu.StateExited)
	if _, err := (qemu.Driver{}).Attach(context.Background(), s.RunDir); !errors.Is(err, qemu.ErrNotRunning) {
		t.Fatalf("attach to a stopped guest: %v, want ErrNotRunning", err)
	}
}

// hotplug attaches a 64 MiB volume and detaches it again.
func hotplug(t *testing.T, inst *qemu.Instance, log string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vol := filepath.Join(t.TempDir(), "vol.raw")
	if err := (qemuimg.Tool{}).Create(ctx, vol, "raw", 64<<20, "", ""); err != nil {
		t.Fatal(err)
	}
	d := qemu.Disk{Path: vol, Format: "raw", VolumeID: "vol-0fedcba9876543210"}
	if err := inst.AttachDisk(ctx, 1, d); !errors.Is(err, qemu.ErrNoSlot) {
		t.Fatalf("attach to slot 1 of 1: %v, want ErrNoSlot", err)
	}
	at := time.Now()
	if err := inst.AttachDisk(ctx, 0, d); err != nil {
		t.Fatal(err)
	}
	waitMarkers(t, log, demotest.Disk, 3, 10*time.Second) // the root disk's 2 boots, then this
	t.Logf("AttachDisk → guest saw the disk: %v", time.Since(at).Round(time.Millisecond))
	if !strings.Contains(string(mustTail(t, inst)), "size=67108864 serial=vol0fedcba9876543210") {
		t.Errorf("hot-plugged disk not seen with its size and serial")
	}
	at = time.Now()
	if err := inst.DetachDisk(ctx, d.VolumeID); err != nil {
		t.Fatal(err)
	}
	waitMarkers(t, log, demotest.DiskRemoved, 1, 10*time.Second)
	t.Logf("DetachDisk → guest released it: %v", time.Since(at).Round(time.Millisecond))
	if err := inst.DetachDisk(ctx, d.VolumeID); err != nil {
		t.Errorf("second detach: %v, want nil (idempotent)", err)
	}
}

func mustTail(t *testing.T, inst *qemu.Instance) []byte {
	t.Helper()
	b, err := inst.ConsoleTail(0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBootForcedStop(t *testing.T) {
	s := demoSpec(t, demoImage(t))
	d := qemu.Driver{StopTimeout: 30 * time.Second}
	inst, err := d.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Stop(context.Background(), true) })
	if _, err := d.Start(context.Background(), s); !errors.Is(err, qemu.ErrRunning) {
		t.Fatalf("second start: %v, want ErrRunning", err)
	}
	waitMarkers(t, filepath.Join(s.RunDir, "console.log"), demotest.Booted, 1, 60*time.Second)
	stopAt := time.Now()
	if err := inst.Stop(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	t.Logf("forced stop → exited: %v", time.Since(stopAt).Round(time.Millisecond))
	if b := mustTail(t, inst); strings.Contains(string(b), demotest.Prefix+demotest.Shutdown) {
		t.Error("a forced stop let the guest shut down cleanly")
	}
	wantState(t, inst, qemu.StateExited)
}

func TestStartReportsQEMUError(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)")
	}
	s := qemu.Spec{ID: "i-1", VCPUs: 1, MemoryMiB: 64, Kernel: "/nonexistent/vmlinuz",
		SMBIOSUUID: "ec2a8b3e-6d0c-4f1e-9a2b-3c4d5e6f7a8b", RunDir: t.TempDir()}
	_, err := qemu.Driver{}.Start(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/vmlinuz") {
		t.Fatalf("start with a missing kernel: %v, want QEMU's complaint about it", err)
	}
	if _, err := (qemu.Driver{}).Attach(context.Background(), s.RunDir); !errors.Is(err, qemu.ErrNotRunning) {
		t.Fatalf("attach after a failed start: %v, want ErrNotRunning", err)
	}
}
