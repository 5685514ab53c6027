package node

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

const testID = "i-0123456789abcdef0"

type harness struct {
	t       *testing.T
	dir     string
	srv     *fakeServer
	hv      *fakeHypervisor
	net     *fakeNetwork
	objects *snapshot.MemObjects
	cancel  context.CancelFunc
	done    chan error
	cfgHook func(*Config) // changes config() when set
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, dir: t.TempDir(), srv: newFakeServer(), hv: newFakeHypervisor(), net: &fakeNetwork{}, objects: snapshot.NewMemObjects()}
	ctx := context.Background()
	for key, body := range map[string]string{"kernels/eki-1": "KERNEL", "kernels/eri-1": "RAMDISK"} {
		if err := h.objects.Put(ctx, key, strings.NewReader(body), int64(len(body))); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *harness) config() Config {
	c := Config{DataDir: h.dir, Name: "node-1", Zone: "kumo-1a", Version: "test", Driver: h.hv, Network: h.net,
		Objects: h.objects, Connector: h.srv, PollInterval: 20 * time.Millisecond,
		Capacity: nodeapi.Capacity{VCPUs: 4, MemoryMiB: 4096, DiskGiB: 100}}
	if h.cfgHook != nil {
		h.cfgHook(&c)
	}
	return c
}

// start runs an agent until the test ends or stop is called.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	cfg := h.config()
	go func() { h.done <- Run(ctx, cfg) }()
	h.t.Cleanup(h.stop)
}

// stop ends the agent as a kill would: guests stay.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("Run: %v", err)
	}
	h.cancel = nil
}

func testSpec() nodeapi.InstanceSpec {
	return nodeapi.InstanceSpec{
		ID: testID, AccountID: "123456789012", ReservationID: "r-0123456789abcdef0", ImageID: "ami-0123456789abcdef0",
		InstanceType: "t3.nano", VCPUs: 1, MemoryMiB: 128, Power: nodeapi.PowerRunning,
		KernelID: "eki-1", KernelKey: "kernels/eki-1", RamdiskID: "eri-1", RamdiskKey: "kernels/eri-1",
		RootSizeGiB: 1, SMBIOSUUID: "ec2a1b2c-3d4e-5f60-7182-93a4b5c6d7e8",
		Region: "kumo-1", AvailabilityZone: "kumo-1a", LaunchTime: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Network: nodeapi.NetworkInterface{InterfaceID: "eni-0123456789abcdef0", MAC: "02:00:0a:00:01:05", PrivateIP: "127.0.0.1",
			SubnetID: "subnet-1", SubnetCIDR: "10.0.1.0/24", Gateway: "10.0.1.1", VPCID: "vpc-1", VPCCIDR: "10.0.0.0/16"},
		UserData: []byte("#!/bin/sh\necho hi\n"), PublicKey: "ssh-ed25519 AAAA test",
	}
}

func TestLifecycle(t *testing.T) {
	h := newHarness(t)
	h.start()
	r := waitReport(t, h.srv)
	if r.Node.Name != "node-1" || r.Node.Zone != "kumo-1a" || r.Node.Accel != "tcg" || r.Node.Capacity.VCPUs != 4 {
		t.Fatalf("node info = %+v", r.Node)
	}

	spec := testSpec()
	h.srv.push(spec)
	st := h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	if st.BootedAt.IsZero() {
		t.Error("running without BootedAt")
	}
	run := h.hv.lastStart()
	instDir := filepath.Join(h.dir, "instances", testID)
	if run.RunDir != instDir || run.Kernel != filepath.Join(h.dir, "images", "eki-1") ||
		run.Initrd != filepath.Join(h.dir, "images", "eri-1") || run.Cmdline != DefaultCmdline {
		t.Errorf("spec = %+v", run)
	}
	if b, _ := os.ReadFile(run.Kernel); string(b) != "KERNEL" {
		t.Errorf("kernel file = %q", b)
	}
	if len(run.NICs) != 1 || run.NICs[0].Tap != "tap01234567" || run.NICs[0].MAC != spec.Network.MAC {
		t.Errorf("nics = %+v", run.NICs)
	}
	if len(run.Disks) != 1 || run.Disks[0].Path != filepath.Join(instDir, "root.qcow2") {
		t.Errorf("disks = %+v", run.Disks)
	} else if _, err := os.Stat(run.Disks[0].Path); err != nil {
		t.Errorf("root disk: %v", err)
	}
	checkIMDS(t, h)
	checkLease(t, h)

	// The console is sent when it changes.
	os.WriteFile(filepath.Join(instDir, "console.log"), []byte("KUMO-DEMO: booted\n"), 0o600)
	waitConsole(t, h.srv, "KUMO-DEMO: booted")

	g := h.hv.guest(instDir)
	spec.RebootSeq = 1
	h.srv.push(spec)
	waitUntil(t, "reboot reported", func() bool { return lastStatus(h.srv).RebootSeq == 1 })
	if g.requests != 1 || g.reboots != 0 {
		t.Errorf("reboot requests = %d, hard resets = %d: want the guest asked once, never reset", g.requests, g.reboots)
	}

	spec.Power, spec.ForceStop = nodeapi.PowerStopped, true
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedStopped, 30*time.Second)
	if len(g.stops) != 1 || !g.stops[0] {
		t.Errorf("stops = %v, want one forced", g.stops)
	}

	spec.Power, spec.ForceStop = nodeapi.PowerRunning, false
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	if n := h.hv.startCount(); n != 2 {
		t.Fatalf("starts = %d, want 2", n)
	}

	spec.Power = nodeapi.PowerTerminated
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedDeleted, 30*time.Second)
	if _, err := os.Stat(instDir); !os.IsNotExist(err) {
		t.Errorf("instance dir still there: %v", err)
	}
	if _, _, deleted := h.net.calls(); len(deleted) != 1 || deleted[0] != testID {
		t.Errorf("deleted taps = %v", deleted)
	}
	h.net.mu.Lock()
	if len(h.net.vpcsDeleted) != 1 || h.net.vpcsDeleted[0] != "vpc-1" {
		t.Errorf("VPCs deleted = %v, want vpc-1 (its last instance here is gone)", h.net.vpcsDeleted)
	}
	h.net.mu.Unlock()
	h.srv.push() // the server forgets it: so does the node
	waitUntil(t, "instance forgotten", func() bool { r := h.srv.last(); return len(r.Instances) == 0 })
}

func TestGuestPowerOffIsNotRestarted(t *testing.T) {
	h := newHarness(t)
	h.start()
	spec := testSpec()
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	h.hv.guest(filepath.Join(h.dir, "instances", testID)).powerOff()
	h.srv.waitFor(t, testID, nodeapi.ObservedShutdown, 30*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := h.hv.startCount(); n != 1 {
		t.Fatalf("the guest was started again (%d starts) though it powered itself off", n)
	}
	if st := lastStatus(h.srv); st.State != nodeapi.ObservedShutdown {
		t.Fatalf("state = %s", st.State)
	}
	// The server stops, then starts it again.
	spec.Power = nodeapi.PowerStopped
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedStopped, 30*time.Second)
	spec.Power = nodeapi.PowerRunning
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
}

func TestCrash(t *testing.T) {
	h := newHarness(t)
	h.start()
	spec := testSpec()
	spec.Network = nodeapi.NetworkInterface{}
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	g := h.hv.guest(filepath.Join(h.dir, "instances", testID))
	g.set(qemu.StateCrashed)
	st := h.srv.waitFor(t, testID, nodeapi.ObservedCrashed, 30*time.Second)
	if st.Reason == "" {
		t.Error("crashed without a reason")
	}
	spec.Power = nodeapi.PowerStopped // a crashed guest is stopped at once
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedStopped, 30*time.Second)
	g.mu.Lock()
	if len(g.stops) != 1 || !g.stops[0] {
		t.Errorf("stops = %v, want one forced", g.stops)
	}
	g.mu.Unlock()

	spec.Power = nodeapi.PowerRunning
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	h.hv.guest(filepath.Join(h.dir, "instances", testID)).set(qemu.StateExited) // QEMU died without a guest power-off
	h.srv.waitFor(t, testID, nodeapi.ObservedCrashed, 30*time.Second)
	time.Sleep(100 * time.Millisecond)
	if n := h.hv.startCount(); n != 2 {
		t.Fatalf("starts = %d: restarted after a crash", n)
	}
}

func TestPrepareFailure(t *testing.T) {
	h := newHarness(t)
	h.start()
	spec := testSpec()
	spec.KernelID, spec.KernelKey = "eki-missing", "kernels/eki-missing"
	h.srv.push(spec)
	st := h.srv.waitFor(t, testID, nodeapi.ObservedFailed, 30*time.Second)
	if !strings.Contains(st.Reason, "kernel eki-missing") {
		t.Errorf("reason = %q", st.Reason)
	}
	if h.hv.startCount() != 0 {
		t.Error("QEMU started without its kernel")
	}
}

func TestRestartReattaches(t *testing.T) {
	h := newHarness(t)
	h.start()
	spec := testSpec()
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	h.stop() // the agent dies; the guest does not

	h.srv = newFakeServer() // a restarted server too: it sends nothing yet, then an empty Desired
	h.start()
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	h.srv.push()
	time.Sleep(200 * time.Millisecond)
	if g := h.hv.guest(filepath.Join(h.dir, "instances", testID)); g.Exited() {
		t.Fatal("an empty Desired stopped the guest")
	}
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	time.Sleep(100 * time.Millisecond)
	if n := h.hv.startCount(); n != 1 {
		t.Fatalf("starts = %d: the guest was restarted instead of reattached", n)
	}
	checkIMDS(t, h) // the new agent serves the metadata of the reattached guest
}

func TestReconnect(t *testing.T) {
	h := newHarness(t)
	h.start()
	waitReport(t, h.srv)
	h.srv.breakStream()
	waitUntil(t, "reconnect", func() bool {
		h.srv.mu.Lock()
		defer h.srv.mu.Unlock()
		return h.srv.connects >= 2
	})
	h.srv.push(testSpec())
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
}

func checkIMDS(t *testing.T, h *harness) {
	t.Helper()
	var addr string
	waitUntil(t, "metadata listener", func() bool { addr = h.net.imdsAddr("vpc-1"); return addr != "" })
	for path, want := range map[string]string{
		"/latest/meta-data/instance-id": testID,
		"/latest/meta-data/local-ipv4":  "127.0.0.1",
		"/latest/user-data":             "#!/bin/sh\necho hi\n",
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Errorf("GET %s = %d %q, want %q", path, resp.StatusCode, b, want)
		}
	}
}

func checkLease(t *testing.T, h *harness) {
	t.Helper()
	a := &agent{workers: map[string]*worker{}}
	w := newWorker(a, testID)
	spec := testSpec()
	spec.Network.DNS, spec.Network.DomainName = []string{"10.0.0.2", "not-an-address"}, "corp.example"
	w.spec = &spec
	a.workers[testID] = w
	mac, _ := parseMAC("02:00:0a:00:01:05")
	l, ok := leases{a}.Lookup(mac)
	if !ok || l.IP.String() != "127.0.0.1" || l.Prefix.String() != "10.0.1.0/24" || l.Router.String() != "10.0.1.1" || l.Hostname != "ip-127-0-0-1" ||
		l.DomainName != "corp.example" || len(l.DNS) != 1 || l.DNS[0].String() != "10.0.0.2" {
		t.Errorf("lease = %+v, %v", l, ok)
	}
	other, _ := parseMAC("02:00:0a:00:01:06")
	if _, ok := (leases{a}).Lookup(other); ok {
		t.Error("a lease for an unknown MAC")
	}
}

func waitReport(t *testing.T, srv *fakeServer) *nodeapi.Report {
	t.Helper()
	waitUntil(t, "a report", func() bool { return srv.last() != nil })
	return srv.last()
}

func lastStatus(srv *fakeServer) nodeapi.InstanceStatus {
	if r := srv.last(); r != nil {
		for _, st := range r.Instances {
			if st.ID == testID {
				return st
			}
		}
	}
	return nodeapi.InstanceStatus{}
}

func waitConsole(t *testing.T, srv *fakeServer, want string) {
	t.Helper()
	waitUntil(t, "console "+want, func() bool { return bytes.Contains(srv.console(testID), []byte(want)) })
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestTerminateDuringGracefulStop(t *testing.T) {
	h := newHarness(t)
	h.start()
	spec := testSpec()
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	g := h.hv.guest(filepath.Join(h.dir, "instances", testID))
	g.mu.Lock()
	g.ignoreACPI = true
	g.mu.Unlock()
	spec.Power = nodeapi.PowerStopped
	h.srv.push(spec)
	waitUntil(t, "graceful stop", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.stops) == 1 })
	spec.Power = nodeapi.PowerTerminated
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedDeleted, 30*time.Second)
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.stops) != 2 || g.stops[0] || !g.stops[1] {
		t.Errorf("stops = %v, want a graceful one, then a forced one", g.stops)
	}
}

func TestGuestGoneWhileAgentDown(t *testing.T) {
	h := newHarness(t)
	h.start()
	spec := testSpec()
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	h.stop()
	h.hv.guest(filepath.Join(h.dir, "instances", testID)).powerOff() // QEMU's pidfile stays behind

	h.srv = newFakeServer()
	h.start()
	h.srv.waitFor(t, testID, nodeapi.ObservedShutdown, 30*time.Second)
	h.srv.push(spec)
	time.Sleep(200 * time.Millisecond)
	if st := lastStatus(h.srv); st.State != nodeapi.ObservedShutdown || h.hv.startCount() != 1 {
		t.Fatalf("state %s, %d starts: a guest that went away was started again", st.State, h.hv.startCount())
	}
}

// A guest whose OS ignores the reboot request is reset after the reboot
// timeout, as EC2 does after four minutes.
func TestRebootFallsBackToResetAfterTimeout(t *testing.T) {
	h := newHarness(t)
	h.cfgHook = func(c *Config) { c.RebootTimeout = 500 * time.Millisecond }
	h.start()
	spec := testSpec()
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	g := h.hv.guest(filepath.Join(h.dir, "instances", testID))
	g.mu.Lock()
	g.ignoreCAD = true
	g.mu.Unlock()
	spec.RebootSeq = 1
	h.srv.push(spec)
	asked := time.Now()
	waitUntil(t, "reboot reported", func() bool { return lastStatus(h.srv).RebootSeq == 1 })
	if d := time.Since(asked); d < 500*time.Millisecond {
		t.Errorf("reboot reported after %v, before the 500ms timeout", d)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.requests != 1 || g.reboots != 1 {
		t.Errorf("reboot requests = %d, hard resets = %d: want the guest asked once, then reset once", g.requests, g.reboots)
	}
}
