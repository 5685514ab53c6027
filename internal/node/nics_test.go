package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

// nicHypervisor is the fake hypervisor whose guests take further network
// interfaces; what is plugged lives with the guest (by run directory), so
// it outlives the agent as QEMU's devices do.
type nicHypervisor struct {
	*fakeHypervisor
	mu      sync.Mutex
	plugged map[string][]qemu.NIC // by run directory, in plug order
	calls   []string              // "plug eni-…" and "unplug eni-…"
	fails   int                   // PlugNIC calls still to fail
}

func newNICHypervisor() *nicHypervisor {
	return &nicHypervisor{fakeHypervisor: newFakeHypervisor(), plugged: map[string][]qemu.NIC{}}
}

func (h *nicHypervisor) Start(ctx context.Context, s qemu.Spec) (Guest, error) {
	g, err := h.fakeHypervisor.Start(ctx, s)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.plugged[s.RunDir] = nil
	for _, n := range s.NICs {
		if n.Slot > 0 {
			h.plugged[s.RunDir] = append(h.plugged[s.RunDir], n)
		}
	}
	h.mu.Unlock()
	return &nicFakeGuest{fakeGuest: g.(*fakeGuest), h: h, dir: s.RunDir}, nil
}

func (h *nicHypervisor) Attach(ctx context.Context, dir string) (Guest, error) {
	g, err := h.fakeHypervisor.Attach(ctx, dir)
	if err != nil {
		return nil, err
	}
	return &nicFakeGuest{fakeGuest: g.(*fakeGuest), h: h, dir: dir}, nil
}

func (h *nicHypervisor) state(dir string) (plugged []qemu.NIC, calls []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]qemu.NIC(nil), h.plugged[dir]...), append([]string(nil), h.calls...)
}

func (h *nicHypervisor) ids(dir string) []string {
	plugged, _ := h.state(dir)
	var ids []string
	for _, n := range plugged {
		ids = append(ids, n.ID)
	}
	return ids
}

type nicFakeGuest struct {
	*fakeGuest
	h   *nicHypervisor
	dir string
}

func (g *nicFakeGuest) PlugNIC(_ context.Context, n qemu.NIC) error {
	g.h.mu.Lock()
	defer g.h.mu.Unlock()
	g.h.calls = append(g.h.calls, "plug "+n.ID)
	if g.h.fails > 0 {
		g.h.fails--
		return errors.New("device_add: no")
	}
	g.h.plugged[g.dir] = append(g.h.plugged[g.dir], n)
	return nil
}

func (g *nicFakeGuest) UnplugNIC(_ context.Context, id string) error {
	g.h.mu.Lock()
	defer g.h.mu.Unlock()
	g.h.calls = append(g.h.calls, "unplug "+id)
	g.h.plugged[g.dir] = slices.DeleteFunc(g.h.plugged[g.dir], func(n qemu.NIC) bool { return n.ID == id })
	return nil
}

func (g *nicFakeGuest) NICs(context.Context) ([]string, error) {
	g.h.mu.Lock()
	defer g.h.mu.Unlock()
	var ids []string
	for _, n := range g.h.plugged[g.dir] {
		ids = append(ids, n.ID)
	}
	return ids, nil
}

const (
	eniA = "eni-0aaaaaaaaaaaaaaa1"
	eniB = "eni-0bbbbbbbbbbbbbbb2"
	eniC = "eni-0ccccccccccccccc3"
)

func extraNIC(id string, index int, mac, ip string) nodeapi.NetworkInterface {
	return nodeapi.NetworkInterface{InterfaceID: id, DeviceIndex: index, MAC: mac, PrivateIP: ip,
		SubnetID: "subnet-2", SubnetCIDR: "10.0.2.0/24", Gateway: "10.0.2.1", VPCID: "vpc-1", VPCCIDR: "10.0.0.0/16"}
}

func nicHarness(t *testing.T) (*harness, *nicHypervisor) {
	h := newHarness(t)
	hv := newNICHypervisor()
	h.hv = hv.fakeHypervisor
	h.cfgHook = func(c *Config) { c.Driver = hv }
	return h, hv
}

// At start every interface is on the command line, the further ones in
// device-index order in their slots; later ones are hot-plugged, removed
// ones unplugged and their taps deleted.
func TestNICsPluggedAndUnplugged(t *testing.T) {
	h, hv := nicHarness(t)
	h.start()
	spec := testSpec()
	spec.Extra = []nodeapi.NetworkInterface{
		extraNIC(eniB, 2, "02:00:0a:00:02:0b", "10.0.2.11"),
		extraNIC(eniA, 1, "02:00:0a:00:02:0a", "10.0.2.10"),
		extraNIC("eni-0dddddddddddddddd", 9, "02:00:0a:00:02:0d", "10.0.2.13"), // no slot for it
	}
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	run := h.hv.lastStart()
	if run.NICSlots != nicSlots || len(run.NICs) != 3 {
		t.Fatalf("NICSlots %d, NICs %+v", run.NICSlots, run.NICs)
	}
	if n := run.NICs[1]; n.ID != eniA || n.Slot != 1 || n.MAC != "02:00:0a:00:02:0a" || n.Tap == "" || n.Tap == run.NICs[0].Tap {
		t.Errorf("NIC 1 = %+v", n)
	}
	if n := run.NICs[2]; n.ID != eniB || n.Slot != 2 {
		t.Errorf("NIC 2 = %+v", n)
	}
	args := strings.Join(qemu.Args(run, qemu.AccelTCG), " ")
	if a, b := strings.Index(args, "nic-"+eniA), strings.Index(args, "nic-"+eniB); a < 0 || b < a {
		t.Errorf("command line: eni A (device index 1) at %d, B (2) at %d", a, b)
	}
	_, taps, _ := h.net.calls()
	if !slices.Contains(taps, eniA) || !slices.Contains(taps, eniB) {
		t.Errorf("EnsureTap calls = %v", taps)
	}
	time.Sleep(100 * time.Millisecond)
	dir := filepath.Join(h.dir, "instances", testID)
	if _, calls := hv.state(dir); len(calls) != 0 {
		t.Errorf("hot-plug calls for interfaces on the command line: %v", calls)
	}

	// Attach C, detach A.
	spec.Extra = []nodeapi.NetworkInterface{spec.Extra[0], extraNIC(eniC, 3, "02:00:0a:00:02:0c", "10.0.2.12")}
	h.srv.push(spec)
	waitUntil(t, "C plugged, A unplugged", func() bool { return slices.Equal(hv.ids(dir), []string{eniB, eniC}) })
	plugged, calls := hv.state(dir)
	if want := []string{"unplug " + eniA, "plug " + eniC}; !slices.Equal(calls, want) {
		t.Errorf("calls = %v, want %v", calls, want)
	}
	if n := plugged[1]; n.Slot != 3 || n.MAC != "02:00:0a:00:02:0c" || n.Tap == "" {
		t.Errorf("plugged C = %+v", n)
	}
	if _, _, deleted := h.net.calls(); !slices.Equal(deleted, []string{eniA}) {
		t.Errorf("deleted taps = %v, want A's", deleted)
	}

	// Terminated: every tap goes.
	spec.Power = nodeapi.PowerTerminated
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedDeleted, 30*time.Second)
	if _, _, deleted := h.net.calls(); !slices.Equal(deleted, []string{eniA, testID, eniB, eniC}) {
		t.Errorf("deleted taps = %v", deleted)
	}
}

// A restarted agent finds what is plugged and converges without plugging
// anything twice, also when the interfaces changed while it was down.
func TestNICsAfterRestart(t *testing.T) {
	h, hv := nicHarness(t)
	h.start()
	spec := testSpec()
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	dir := filepath.Join(h.dir, "instances", testID)
	spec.Extra = []nodeapi.NetworkInterface{extraNIC(eniA, 1, "02:00:0a:00:02:0a", "10.0.2.10")}
	h.srv.push(spec)
	waitUntil(t, "A plugged", func() bool { return slices.Equal(hv.ids(dir), []string{eniA}) })

	for range 2 {
		h.stop()
		h.srv = newFakeServer()
		h.start()
		h.srv.push(spec)
		h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
		time.Sleep(150 * time.Millisecond)
	}
	if _, calls := hv.state(dir); !slices.Equal(calls, []string{"plug " + eniA}) {
		t.Errorf("calls after two restarts = %v, want A plugged once", calls)
	}
	if ids := hv.ids(dir); !slices.Equal(ids, []string{eniA}) {
		t.Errorf("plugged = %v", ids)
	}

	// B replaces A while no agent runs.
	h.stop()
	spec.Extra = []nodeapi.NetworkInterface{extraNIC(eniB, 1, "02:00:0a:00:02:0b", "10.0.2.11")}
	h.srv = newFakeServer()
	h.start()
	h.srv.push(spec)
	waitUntil(t, "B instead of A", func() bool { return slices.Equal(hv.ids(dir), []string{eniB}) })
	time.Sleep(100 * time.Millisecond)
	if _, calls := hv.state(dir); !slices.Equal(calls, []string{"plug " + eniA, "unplug " + eniA, "plug " + eniB}) {
		t.Errorf("calls = %v", calls)
	}
	if h.hv.startCount() != 1 {
		t.Errorf("starts = %d: the guest was restarted", h.hv.startCount())
	}
}

// A failed plug is retried, but not at every poll.
func TestNICsPlugRetried(t *testing.T) {
	h, hv := nicHarness(t)
	hv.fails = 1
	h.cfgHook = func(c *Config) { c.Driver, c.PollInterval = hv, 100*time.Millisecond }
	h.start()
	spec := testSpec()
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	dir := filepath.Join(h.dir, "instances", testID)
	spec.Extra = []nodeapi.NetworkInterface{extraNIC(eniA, 1, "02:00:0a:00:02:0a", "10.0.2.10")}
	h.srv.push(spec)
	waitUntil(t, "a first attempt", func() bool { _, calls := hv.state(dir); return len(calls) == 1 })
	time.Sleep(300 * time.Millisecond)
	if _, calls := hv.state(dir); len(calls) != 1 {
		t.Errorf("calls within 3 polls of a failure = %v, want one attempt", calls)
	}
	waitUntil(t, "plugged on a retry", func() bool { return slices.Equal(hv.ids(dir), []string{eniA}) })
	if _, calls := hv.state(dir); len(calls) != 2 {
		t.Errorf("calls = %v, want two attempts", calls)
	}
}

// DHCP answers every interface's MAC with its own address; the metadata
// service knows the instance by any of its addresses.
func TestNICsLeaseAndMetadata(t *testing.T) {
	a := &agent{workers: map[string]*worker{}}
	w := newWorker(a, testID)
	spec := testSpec()
	b := extraNIC(eniA, 1, "02:00:0a:00:02:0a", "10.0.2.10")
	b.SecondaryIPs = []string{"10.0.2.50"}
	spec.Network.SecondaryIPs = []string{"10.0.1.50"}
	spec.Extra = []nodeapi.NetworkInterface{b}
	w.spec = &spec
	a.workers[testID] = w
	mac, _ := net.ParseMAC("02:00:0A:00:02:0A")
	l, ok := leases{a}.Lookup(mac)
	if !ok || l.IP.String() != "10.0.2.10" || l.Prefix.String() != "10.0.2.0/24" || l.Router.String() != "10.0.2.1" {
		t.Errorf("lease of the second interface = %+v, %v", l, ok)
	}
	if got := privateIPs(spec); !slices.Equal(got, []netip.Addr{mustAddr("127.0.0.1"), mustAddr("10.0.1.50"), mustAddr("10.0.2.10"), mustAddr("10.0.2.50")}) {
		t.Errorf("privateIPs = %v", got)
	}
}

func TestNICsMetadataByAnyAddress(t *testing.T) {
	h, _ := nicHarness(t)
	h.start()
	spec := testSpec()
	spec.Network.PrivateIP = "10.0.1.5"
	spec.Extra = []nodeapi.NetworkInterface{extraNIC(eniA, 1, "02:00:0a:00:02:0a", "127.0.0.1")}
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	var addr string
	waitUntil(t, "metadata listener", func() bool { addr = h.net.imdsAddr("vpc-1"); return addr != "" })
	resp, err := httpGet("http://" + addr + "/latest/meta-data/local-ipv4")
	if err != nil || resp != "10.0.1.5" {
		t.Errorf("local-ipv4 asked from the second interface's address = %q, %v; want the primary's", resp, err)
	}
}

// The filter has one interface per NIC: its own tap, MAC, addresses,
// groups and source/destination check; peers skip every local address.
func TestNICsFilterAndPeers(t *testing.T) {
	v := &vpcNet{a: &agent{log: discardLog()}}
	spec := testSpec()
	spec.SecurityGroupIDs = []string{"sg-1"}
	spec.Network.SecondaryIPs = []string{"10.0.1.50"}
	b := extraNIC(eniA, 1, "02:00:0a:00:02:0a", "10.0.2.10")
	b.SecondaryIPs, b.SecurityGroupIDs, b.NoSourceDestCheck = []string{"10.0.2.50"}, []string{"sg-2"}, true
	other := extraNIC(eniB, 2, "02:00:0a:00:02:0b", "10.0.2.11")
	other.VPCID = "vpc-2" // not the instance's VPC: left out
	spec.Extra = []nodeapi.NetworkInterface{b, other}
	vpc := nodeapi.VPCNetwork{VPCID: "vpc-1", SecurityGroups: []nodeapi.SecurityGroup{{ID: "sg-1"}, {ID: "sg-2"}},
		Peers: []nodeapi.OverlayPeer{{Underlay: "198.18.0.2", Guests: []string{"10.0.2.50", "10.0.2.10", "10.0.1.50", "10.0.2.99"}}}}
	d := v.filterOf(vpc, []nodeapi.InstanceSpec{spec})
	mac0, _ := net.ParseMAC(spec.Network.MAC)
	mac1, _ := net.ParseMAC(b.MAC)
	want := []sgfilter.Interface{
		{Tap: guestnet.TapName(eniA), MAC: mac1, IPs: []netip.Addr{mustAddr("10.0.2.10"), mustAddr("10.0.2.50")}, Groups: []string{"sg-2"}},
		{Tap: guestnet.TapName(testID), MAC: mac0, IPs: []netip.Addr{mustAddr("127.0.0.1"), mustAddr("10.0.1.50")}, Groups: []string{"sg-1"}, SourceDestCheck: true},
	}
	if !reflect.DeepEqual(d.Interfaces, want) {
		t.Errorf("interfaces = %+v\nwant %+v", d.Interfaces, want)
	}
	peers := v.peers(vpc, []nodeapi.InstanceSpec{spec})
	if len(peers) != 1 || !slices.Equal(peers[0].Guests, []netip.Addr{mustAddr("10.0.2.99")}) {
		t.Errorf("peers = %+v, want only 10.0.2.99", peers)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// A further interface's tap deleted under the running guest is re-made by
// the repair loop and the interface plugged again, so that the guest's
// device opens the new tap; a bridge repaired with its taps still there
// re-plugs nothing.
func TestNICReplugAfterTapRepair(t *testing.T) {
	h, hv := nicHarness(t)
	reg := prometheus.NewRegistry()
	h.cfgHook = func(c *Config) { c.Driver, c.RepairInterval, c.Metrics = hv, 20*time.Millisecond, reg }
	h.start()
	spec := testSpec()
	spec.Extra = []nodeapi.NetworkInterface{extraNIC(eniA, 1, "02:00:0a:00:02:0a", "10.0.2.10")}
	h.srv.push(spec)
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	dir := filepath.Join(h.dir, "instances", testID)
	waitUntil(t, "A plugged", func() bool { return slices.Equal(hv.ids(dir), []string{eniA}) })

	h.net.with(func(f *fakeNetwork) { f.linksMissing = true }) // a bridge re-made, taps kept
	waitUntil(t, "bridge repaired", func() bool { return repairs(t, reg, "bridge") >= 1 })
	time.Sleep(100 * time.Millisecond)
	if _, calls := hv.state(dir); len(calls) != 0 {
		t.Errorf("a bridge repair re-plugged: %v", calls)
	}

	h.net.with(func(f *fakeNetwork) { f.goneTap = guestnet.TapName(eniA) })
	waitUntil(t, "A plugged again", func() bool {
		_, calls := hv.state(dir)
		return slices.Equal(calls, []string{"unplug " + eniA, "plug " + eniA})
	})
	if ids := hv.ids(dir); !slices.Equal(ids, []string{eniA}) {
		t.Errorf("plugged after the repair: %v", ids)
	}
}
