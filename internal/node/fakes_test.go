package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

// fakeServer is the server's side of the streams: it records every Report
// and hands out the Desired messages pushed to it.
type fakeServer struct {
	desired chan *nodeapi.Desired

	mu       sync.Mutex
	reports  []*nodeapi.Report
	connects int
	breakNow chan struct{} // closed to break the current stream
}

func newFakeServer() *fakeServer {
	return &fakeServer{desired: make(chan *nodeapi.Desired, 16), breakNow: make(chan struct{})}
}

func (f *fakeServer) Connect(ctx context.Context) (nodeapi.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connects++
	return &fakeSession{ctx: ctx, f: f, brk: f.breakNow}, nil
}

// breakStream makes the current stream's Recv fail.
func (f *fakeServer) breakStream() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.breakNow)
	f.breakNow = make(chan struct{})
}

func (f *fakeServer) push(specs ...nodeapi.InstanceSpec) {
	f.desired <- &nodeapi.Desired{NodeID: "n-1", Instances: specs}
}

func (f *fakeServer) last() *nodeapi.Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reports) == 0 {
		return nil
	}
	return f.reports[len(f.reports)-1]
}

// console is the last console the node sent of an instance.
func (f *fakeServer) console(id string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.reports) - 1; i >= 0; i-- {
		for _, st := range f.reports[i].Instances {
			if st.ID == id && st.Console != nil {
				return st.Console
			}
		}
	}
	return nil
}

// waitFor waits until the last report shows the instance in state and
// returns its status.
func (f *fakeServer) waitFor(t *testing.T, id string, state nodeapi.Observed, timeout time.Duration) nodeapi.InstanceStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got nodeapi.InstanceStatus
	for time.Now().Before(deadline) {
		if r := f.last(); r != nil {
			for _, st := range r.Instances {
				if st.ID == id {
					got = st
					if st.State == state {
						return st
					}
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("instance %s: state %q (%s), want %q after %v", id, got.State, got.Reason, state, timeout)
	return got
}

type fakeSession struct {
	ctx context.Context
	f   *fakeServer
	brk chan struct{}
}

func (s *fakeSession) Send(r *nodeapi.Report) error {
	if s.ctx.Err() != nil {
		return s.ctx.Err()
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.reports = append(s.f.reports, r)
	return nil
}

func (s *fakeSession) Recv() (*nodeapi.Desired, error) {
	select {
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	case <-s.brk:
		return nil, errors.New("stream broken")
	case d := <-s.f.desired:
		return d, nil
	}
}

// fakeHypervisor keeps guests in memory, by run directory; they outlive
// the agent that started them, as daemonized QEMUs do.
type fakeHypervisor struct {
	mu     sync.Mutex
	guests map[string]*fakeGuest
	starts []qemu.Spec
}

func newFakeHypervisor() *fakeHypervisor { return &fakeHypervisor{guests: map[string]*fakeGuest{}} }

func (h *fakeHypervisor) Accel() qemu.Accel { return qemu.AccelTCG }

func (h *fakeHypervisor) Start(_ context.Context, s qemu.Spec) (Guest, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if g := h.guests[s.RunDir]; g != nil && !g.Exited() {
		return nil, qemu.ErrRunning
	}
	if err := os.WriteFile(filepath.Join(s.RunDir, pidFileName), []byte("1234\n"), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(s.RunDir, specFileName), []byte("{}"), 0o600); err != nil {
		return nil, err
	}
	h.starts = append(h.starts, s)
	g := &fakeGuest{spec: s, pid: 1000 + len(h.starts), state: qemu.StateRunning}
	h.guests[s.RunDir] = g
	return g, nil
}

func (h *fakeHypervisor) Attach(_ context.Context, runDir string) (Guest, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.guests[runDir]
	if g == nil || g.Exited() {
		return nil, fmt.Errorf("attach %s: %w", runDir, qemu.ErrNotRunning)
	}
	return g, nil
}

func (h *fakeHypervisor) startCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.starts)
}

func (h *fakeHypervisor) lastStart() qemu.Spec {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.starts[len(h.starts)-1]
}

func (h *fakeHypervisor) guest(runDir string) *fakeGuest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.guests[runDir]
}

type fakeGuest struct {
	spec qemu.Spec
	pid  int

	mu         sync.Mutex
	state      qemu.State
	poweredOff bool
	reboots    int // hard resets
	requests   int // clean reboot requests (ctrl-alt-delete)
	ignoreCAD  bool
	resets     int64  // the guest's own resets
	stops      []bool // force flags
	ignoreACPI bool   // a graceful stop waits until its context ends
}

func (g *fakeGuest) PID() int { return g.pid }

func (g *fakeGuest) Exited() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state == qemu.StateExited
}

func (g *fakeGuest) Status(context.Context) (qemu.State, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state, nil
}

func (g *fakeGuest) RequestReboot(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests++
	if !g.ignoreCAD {
		g.resets++
	}
	return nil
}

func (g *fakeGuest) GuestResets() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.resets
}

func (g *fakeGuest) Reboot(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reboots++
	return nil
}

func (g *fakeGuest) Stop(ctx context.Context, force bool) error {
	g.mu.Lock()
	g.stops = append(g.stops, force)
	if !force && g.ignoreACPI {
		g.mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	}
	g.state = qemu.StateExited
	g.mu.Unlock()
	return g.Cleanup()
}

func (g *fakeGuest) Cleanup() error {
	err := os.Remove(filepath.Join(g.spec.RunDir, pidFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (g *fakeGuest) Close() error { return nil }

func (g *fakeGuest) PoweredOff() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.poweredOff
}

// powerOff is the guest powering itself off (poweroff in the guest).
func (g *fakeGuest) powerOff() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.state, g.poweredOff = qemu.StateExited, true
}

func (g *fakeGuest) set(s qemu.State) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.state = s
}

// fakeNetwork records calls; its subnets have no namespace and no bridge
// (so no DHCP), and its metadata listeners are on 127.0.0.1.
type fakeNetwork struct {
	mu          sync.Mutex
	subnets     []string
	taps        []string
	deleted     []string
	vpcsDeleted []string
	listeners   map[string]net.Listener

	overlays      []overlayCall // EnsureOverlay calls
	filters       []filterCall  // ApplyFilter calls
	overlayDrift  bool          // CheckOverlay's answer until the next EnsureOverlay
	filterDrift   bool          // CheckFilter's answer until the next ApplyFilter
	linksMissing  bool          // CheckLinks's answer until the next EnsureTap
	goneTap       string        // a tap (by name) that is gone until EnsureTap makes it again
	overlayChecks int
	filterChecks  int
}

type overlayCall struct {
	VPCID    string
	VNI      uint32
	Underlay netip.Addr
	Peers    []guestnet.Peer
}

type filterCall struct {
	VPCID string
	D     sgfilter.Desired
}

func (n *fakeNetwork) TapExists(_ context.Context, _ Subnet, tap string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return tap != n.goneTap, nil
}

func (n *fakeNetwork) CheckLinks(_ context.Context, _ Subnet, tap string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.linksMissing || (tap != "" && tap == n.goneTap), nil
}

func (n *fakeNetwork) EnsureOverlay(_ context.Context, vpcID string, vni uint32, underlay netip.Addr, peers []guestnet.Peer) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.overlays = append(n.overlays, overlayCall{vpcID, vni, underlay, peers})
	n.overlayDrift = false
	return nil
}

func (n *fakeNetwork) CheckOverlay(context.Context, string, uint32, netip.Addr, []guestnet.Peer) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.overlayChecks++
	return n.overlayDrift, nil
}

func (n *fakeNetwork) ApplyFilter(_ context.Context, vpcID string, d sgfilter.Desired) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.filters = append(n.filters, filterCall{vpcID, d})
	n.filterDrift = false
	return nil
}

func (n *fakeNetwork) CheckFilter(context.Context, string, sgfilter.Desired) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.filterChecks++
	return n.filterDrift, nil
}

// vpcCalls returns the EnsureOverlay and ApplyFilter calls so far.
func (n *fakeNetwork) vpcCalls() ([]overlayCall, []filterCall) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]overlayCall(nil), n.overlays...), append([]filterCall(nil), n.filters...)
}

func (n *fakeNetwork) with(fn func(n *fakeNetwork)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fn(n)
}

func (n *fakeNetwork) EnsureSubnet(_ context.Context, vpcID, vpcCIDR, subnetID, subnetCIDR, gateway string) (Subnet, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.subnets = append(n.subnets, subnetID)
	gw := netip.MustParsePrefix(gateway + "/24")
	return Subnet{VPCID: vpcID, Gateway: gw}, nil
}

func (n *fakeNetwork) EnsureTap(_ context.Context, sub Subnet, instanceID string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.taps = append(n.taps, instanceID)
	n.linksMissing = false
	if guestnet.TapName(instanceID) == n.goneTap {
		n.goneTap = ""
	}
	return "tap" + instanceID[2:10], nil
}

func (n *fakeNetwork) DeleteTap(_ context.Context, vpcID, instanceID string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.deleted = append(n.deleted, instanceID)
	return nil
}

func (n *fakeNetwork) DeleteVPC(_ context.Context, vpcID string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.vpcsDeleted = append(n.vpcsDeleted, vpcID)
	return nil
}

func (n *fakeNetwork) ListenIMDS(_ context.Context, vpcID string) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners == nil {
		n.listeners = map[string]net.Listener{}
	}
	n.listeners[vpcID] = ln
	return ln, nil
}

func (n *fakeNetwork) imdsAddr(vpcID string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ln := n.listeners[vpcID]; ln != nil {
		return ln.Addr().String()
	}
	return ""
}

func (n *fakeNetwork) calls() (subnets, taps, deleted []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.subnets...), append([]string(nil), n.taps...), append([]string(nil), n.deleted...)
}

func parseMAC(s string) (net.HardwareAddr, error) { return net.ParseMAC(s) }
