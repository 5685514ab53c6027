package node

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/qmp/qmptest"
)

// cpuTime is this process's user+system CPU time (/proc/self/stat).
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skipf("no /proc/self/stat: %v", err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	// Fields after "(comm) ": state is [0], utime [11], stime [12], in clock ticks (100 Hz on Linux).
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// idleCPU is the CPU time this process uses in one second of doing nothing.
func idleCPU(t *testing.T) time.Duration {
	t.Helper()
	before := cpuTime(t)
	time.Sleep(time.Second)
	used := cpuTime(t) - before
	t.Logf("CPU time used in 1s: %v", used)
	return used
}

// After the monitor connection ends (QEMU exited), the event loop ends:
// it used to read the closed events channel forever, a core at 100 %.
func TestWatchEventsEndsWhenTheMonitorCloses(t *testing.T) {
	srv := qmptest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := qmp.Dial(ctx, srv.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	goroutines := runtime.NumGoroutine()
	g := &qemuGuest{finished: make(chan struct{})}
	go g.watchEvents(conn)
	srv.Emit("SHUTDOWN", map[string]any{"guest": true, "reason": "guest-shutdown"})
	srv.DropClients() // QEMU exits
	select {
	case <-g.finished:
	case <-time.After(3 * time.Second):
		t.Fatal("the event loop is still running 3s after the monitor closed")
	}
	if !g.poweredOff.Load() {
		t.Error("the guest's SHUTDOWN before the close was lost")
	}
	if used := idleCPU(t); used > 150*time.Millisecond {
		t.Errorf("%v of CPU in 1s after the monitor closed: something spins", used)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Errorf("%d goroutines after the monitor closed, %d before the watcher started", n, goroutines)
	}
}

// A real guest (the demo image, under TCG here) that exits leaves the node
// idle: measured as this process's CPU time over a second.
func TestNodeIdleAfterGuestExits(t *testing.T) {
	img := demoImage(t)
	dir := t.TempDir()
	uuid, err := qemu.NewSMBIOSUUID(nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := qemu.Spec{ID: "i-0123456789abcdef0", VCPUs: 1, MemoryMiB: 256, SMBIOSUUID: uuid, RunDir: dir,
		Kernel: filepath.Join(img, "vmlinuz"), Initrd: filepath.Join(img, "initrd.img"),
		Cmdline: "console=ttyS0 kumo.imds_wait=1 kumo.net_wait=1",
		NICs:    []qemu.NIC{{UserNet: true, MAC: "52:54:00:12:34:56"}}}
	hv := QEMU{Driver: qemu.Driver{Accelerator: qemu.AccelTCG}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g, err := hv.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop(context.Background(), true) })
	time.Sleep(2 * time.Second) // booting
	if err := g.Stop(ctx, true); err != nil {
		t.Fatal(err)
	}
	if !g.Exited() {
		t.Fatal("QEMU still running after a forced stop")
	}
	if used := idleCPU(t); used > 150*time.Millisecond {
		t.Errorf("%v of CPU in 1s after the guest exited: something spins", used)
	}
	select {
	case <-g.(*qemuGuest).finished:
	case <-time.After(3 * time.Second):
		t.Fatal("the event loop is still running 3s after QEMU exited")
	}
}
