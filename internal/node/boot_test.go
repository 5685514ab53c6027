package node

// Boots the demo image (images/demo) for real through the agent, under TCG
// unless /dev/kvm is usable, with QEMU's user-mode network (no Network):
// start, stop, start, reboot, an agent restart that reattaches, a guest
// power-off, termination.

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

func demoImage(t *testing.T) string { return demotest.Require(t) }

// demoObjects holds the demo kernel and ramdisk under the spec's keys.
func demoObjects(t *testing.T, img string) *snapshot.MemObjects {
	t.Helper()
	objs := snapshot.NewMemObjects()
	for key, file := range map[string]string{"kernels/eki-demo": "vmlinuz", "kernels/eri-demo": "initrd.img"} {
		b, err := os.ReadFile(filepath.Join(img, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := objs.Put(context.Background(), key, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(filepath.Join(img, "root.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&snapshot.Store{Objects: objs}).Write(context.Background(), "snap-demo", f, fi.Size(), nil); err != nil {
		t.Fatal(err)
	}
	return objs
}

// recordingQEMU is the real driver, keeping the guests it hands out so the
// test can press the guest's power button over the agent's monitor.
type recordingQEMU struct {
	QEMU
	mu     sync.Mutex
	guests []Guest
}

func (r *recordingQEMU) Start(ctx context.Context, s qemu.Spec) (Guest, error) {
	return r.keep(r.QEMU.Start(ctx, s))
}

func (r *recordingQEMU) Attach(ctx context.Context, dir string) (Guest, error) {
	return r.keep(r.QEMU.Attach(ctx, dir))
}

func (r *recordingQEMU) keep(g Guest, err error) (Guest, error) {
	if err == nil {
		r.mu.Lock()
		r.guests = append(r.guests, g)
		r.mu.Unlock()
	}
	return g, err
}

func (r *recordingQEMU) last() *qemuGuest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.guests[len(r.guests)-1].(*qemuGuest)
}

func demoSpec() nodeapi.InstanceSpec {
	s := testSpec()
	s.VCPUs, s.MemoryMiB = 2, 256
	s.KernelID, s.KernelKey, s.RamdiskID, s.RamdiskKey = "eki-demo", "kernels/eki-demo", "eri-demo", "kernels/eri-demo"
	s.Network = nodeapi.NetworkInterface{MAC: "52:54:00:12:34:56"}
	return s
}

func TestBootDemo(t *testing.T) {
	img := demoImage(t)
	dir := t.TempDir()
	srv := newFakeServer()
	hv := &recordingQEMU{QEMU: QEMU{Driver: qemu.Driver{StopTimeout: 30 * time.Second}}}
	cfg := Config{DataDir: dir, Zone: "kumo-1a", Driver: hv, Objects: demoObjects(t, img), Connector: srv,
		// No metadata service on the user-mode network: do not wait for it.
		// quiet: three boots' markers must fit in the 64 KiB console tail
		// the node sends, and the kernel logs every PCIe root port.
		Cmdline: "console=ttyS0 quiet kumo.imds_wait=1 kumo.net_wait=5", PollInterval: 200 * time.Millisecond}
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
	spec.RootSnapshotID = "snap-demo" // a qcow2 overlay on the cached image
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	waitBoots(t, srv, 1, demotest.Ready)

	spec.Power = nodeapi.PowerStopped // graceful: the ACPI power button
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedStopped, 60*time.Second)
	// The guest's own shutdown ran: it heard the power button (a forced
	// stop after StopTimeout would leave no shutdown marker).
	waitBoots(t, srv, 1, demotest.Shutdown)

	spec.Power = nodeapi.PowerRunning
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	waitBoots(t, srv, 2, demotest.Ready)

	spec.RebootSeq = 1
	srv.push(spec)
	waitFor(t, "reboot reported", 60*time.Second, func() bool { return lastStatus(srv).RebootSeq == 1 })
	waitBoots(t, srv, 3, demotest.RootDisk)
	if ev := eventsOfBoot(demotest.Parse(srv.console(testID)), 2); !slices.Contains(ev, demotest.Shutdown) {
		t.Errorf("boot 2 ended with %v: want a clean reboot (its shutdown ran), not a reset", ev)
	}
	if m := lastMarker(demotest.Parse(srv.console(testID)), demotest.RootDisk); m.Fields["boot-count"] != "3" {
		t.Errorf("root disk after start, stop, start, reboot: %q, want boot-count=3 (the disk is kept)", m.Text)
	}
	pid := readPID(t, instDir)

	// kill -9 of the agent, as far as the guest can tell; a new agent and a
	// new server stream find it running.
	stopAgent()
	srv = newFakeServer()
	cfg.Connector = srv
	runAgent(t, cfg)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	srv.push(spec)
	waitBoots(t, srv, 3, demotest.Ready)
	if got := readPID(t, instDir); got != pid {
		t.Fatalf("QEMU pid %d after the agent restart, want %d (the same process)", got, pid)
	}
	if n := count(demotest.Parse(srv.console(testID)), demotest.Booted); n != 3 {
		t.Fatalf("%d boots after the agent restart, want 3: the guest was restarted", n)
	}

	// The guest powers itself off (its power button, pressed from here).
	if err := hv.last().QMP().SystemPowerdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.waitFor(t, testID, nodeapi.ObservedShutdown, 60*time.Second)
	time.Sleep(time.Second)
	if st := lastStatus(srv); st.State != nodeapi.ObservedShutdown {
		t.Fatalf("state %s after the guest's power-off: it was started again", st.State)
	}

	spec.Power = nodeapi.PowerTerminated
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedDeleted, 30*time.Second)
	if _, err := os.Stat(instDir); !os.IsNotExist(err) {
		t.Fatalf("instance dir after termination: %v", err)
	}
}

// waitFor waits up to d for ok.
func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runAgent runs an agent until the returned func (or the test's end).
func runAgent(t *testing.T, cfg Config) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitBoots waits until the console the node sent shows boot n reaching
// the event.
func waitBoots(t *testing.T, srv *fakeServer, n int, event string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		ms := demotest.Parse(srv.console(testID))
		if count(ms, demotest.Booted) >= n && lastBootHas(ms, event) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("boot %d never reached %q; console sent:\n%s", n, event, srv.console(testID))
}

func lastBootHas(ms []demotest.Marker, event string) bool {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Event == event {
			return true
		}
		if ms[i].Event == demotest.Booted {
			return false
		}
	}
	return false
}

// eventsOfBoot lists the markers of boot n (from 1), its booted marker
// included.
func eventsOfBoot(ms []demotest.Marker, n int) []string {
	var out []string
	boot := 0
	for _, m := range ms {
		if m.Event == demotest.Booted {
			boot++
		}
		if boot == n {
			out = append(out, m.Event)
		}
	}
	return out
}

func lastMarker(ms []demotest.Marker, event string) demotest.Marker {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Event == event {
			return ms[i]
		}
	}
	return demotest.Marker{}
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

func readPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, pidFileName))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// A guest whose OS never sees the reboot request (no keyboard:
// i8042.nokbd) is reset after the reboot timeout: boot 1 ends without its
// shutdown.
func TestBootDemoRebootIgnored(t *testing.T) {
	img := demoImage(t)
	dir := t.TempDir()
	srv := newFakeServer()
	cfg := Config{DataDir: dir, Zone: "kumo-1a", Driver: QEMU{Driver: qemu.Driver{StopTimeout: 30 * time.Second}},
		Objects: demoObjects(t, img), Connector: srv, RebootTimeout: 5 * time.Second,
		Cmdline: "console=ttyS0 kumo.imds_wait=1 kumo.net_wait=5 i8042.nokbd=1", PollInterval: 200 * time.Millisecond}
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
	runAgent(t, cfg)
	spec := demoSpec()
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	waitBoots(t, srv, 1, demotest.Ready)

	spec.RebootSeq = 1
	srv.push(spec)
	asked := time.Now()
	waitFor(t, "reboot reported", 60*time.Second, func() bool { return lastStatus(srv).RebootSeq == 1 })
	if d := time.Since(asked); d < 5*time.Second {
		t.Errorf("reboot reported after %v, before the 5s timeout: the guest was not given the time", d)
	}
	waitBoots(t, srv, 2, demotest.Booted)
	if ev := eventsOfBoot(demotest.Parse(srv.console(testID)), 1); slices.Contains(ev, demotest.Shutdown) {
		t.Errorf("boot 1 ended with %v: it saw the request, this test wants a guest that does not", ev)
	}
	spec.Power = nodeapi.PowerTerminated
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedDeleted, 60*time.Second)
}
