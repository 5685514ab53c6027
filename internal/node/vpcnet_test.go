package node

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

func testVPC() nodeapi.VPCNetwork {
	return nodeapi.VPCNetwork{
		VPCID: "vpc-1", VNI: 101,
		Peers: []nodeapi.OverlayPeer{
			{Underlay: "198.18.0.2", Guests: []string{"10.0.1.20", "bad", "10.0.2.30", "127.0.0.1"}}, // 127.0.0.1: the local guest
			{Underlay: "not-an-ip", Guests: []string{"10.0.1.40"}},
		},
		SecurityGroups: []nodeapi.SecurityGroup{
			{ID: "sg-1", Members: []string{"127.0.0.1", "10.0.1.20"},
				Ingress: []nodeapi.SGRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"10.0.0.0/8"}}, {Protocol: "-1", Groups: []string{"sg-1"}}},
				Egress:  []nodeapi.SGRule{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}}},
		},
	}
}

// vpcHarness is a harness whose agent has an underlay address, a fast
// repair loop and a registry the test reads.
func vpcHarness(t *testing.T) (*harness, *prometheus.Registry) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	h.cfgHook = func(c *Config) {
		c.Underlay = netip.MustParseAddr("198.18.0.1")
		c.RepairInterval = 30 * time.Millisecond
		c.Metrics = reg
	}
	return h, reg
}

func repairs(t *testing.T, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "kumo_node_network_repairs_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no kumo_node_network_repairs_total{kind=%q}", kind)
	return 0
}

func TestVPCNetworkApplied(t *testing.T) {
	h, reg := vpcHarness(t)
	h.start()
	if r := waitReport(t, h.srv); r.Node.Address != "198.18.0.1" {
		t.Errorf("node address = %q", r.Node.Address)
	}
	spec := testSpec()
	spec.SecurityGroupIDs = []string{"sg-1", "sg-unknown"}
	h.srv.desired <- &nodeapi.Desired{NodeID: "n-1", Instances: []nodeapi.InstanceSpec{spec}, VPCs: []nodeapi.VPCNetwork{testVPC()}}
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	waitUntil(t, "overlay and filter applied", func() bool { o, f := h.net.vpcCalls(); return len(o) > 0 && len(f) > 0 })

	overlays, filters := h.net.vpcCalls()
	wantPeers := []guestnet.Peer{{Underlay: netip.MustParseAddr("198.18.0.2"),
		Guests: []netip.Addr{netip.MustParseAddr("10.0.1.20"), netip.MustParseAddr("10.0.2.30")}}}
	if o := overlays[0]; o.VPCID != "vpc-1" || o.VNI != 101 || o.Underlay != netip.MustParseAddr("198.18.0.1") || !reflect.DeepEqual(o.Peers, wantPeers) {
		t.Errorf("EnsureOverlay(%+v)", o)
	}
	mac, _ := net.ParseMAC(spec.Network.MAC)
	want := sgfilter.Desired{
		Interfaces: []sgfilter.Interface{{Tap: guestnet.TapName(testID), MAC: mac, IPs: []netip.Addr{netip.MustParseAddr("127.0.0.1")},
			Groups: []string{"sg-1"}, SourceDestCheck: true}},
		Groups: map[string]sgfilter.Group{"sg-1": {ID: "sg-1",
			Ingress: []sgfilter.Rule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
				{Protocol: "-1", Groups: []string{"sg-1"}}},
			Egress: []sgfilter.Rule{{Protocol: "-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}}}},
		Members: map[string][]netip.Addr{"sg-1": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.1.20")}},
	}
	if f := filters[0]; f.VPCID != "vpc-1" || !reflect.DeepEqual(f.D, want) {
		t.Errorf("ApplyFilter(%s, %+v), want %+v", f.VPCID, f.D, want)
	}

	// Unchanged: checked every interval, never re-applied.
	h.srv.desired <- &nodeapi.Desired{NodeID: "n-1", Instances: []nodeapi.InstanceSpec{spec}, VPCs: []nodeapi.VPCNetwork{testVPC()}}
	waitUntil(t, "a few checks", func() bool {
		var n int
		h.net.with(func(f *fakeNetwork) { n = min(f.overlayChecks, f.filterChecks) })
		return n >= 5
	})
	if o, f := h.net.vpcCalls(); len(o) != 1 || len(f) != 1 {
		t.Errorf("re-applied without a change: %d overlays, %d filters", len(o), len(f))
	}
	for _, k := range []string{"overlay", "security_groups", "bridge"} {
		if n := repairs(t, reg, k); n != 0 {
			t.Errorf("repairs{%s} = %v without drift", k, n)
		}
	}

	// A changed Desired is applied at once, and not counted as a repair.
	vpc := testVPC()
	vpc.Peers = vpc.Peers[:1]
	vpc.Peers[0].Guests = []string{"10.0.1.21"}
	vpc.SecurityGroups[0].Members = []string{"127.0.0.1"}
	h.srv.desired <- &nodeapi.Desired{NodeID: "n-1", Instances: []nodeapi.InstanceSpec{spec}, VPCs: []nodeapi.VPCNetwork{vpc}}
	waitUntil(t, "the change applied", func() bool { o, f := h.net.vpcCalls(); return len(o) == 2 && len(f) == 2 })
	overlays, filters = h.net.vpcCalls()
	if g := overlays[1].Peers; len(g) != 1 || len(g[0].Guests) != 1 || g[0].Guests[0] != netip.MustParseAddr("10.0.1.21") {
		t.Errorf("new peers = %+v", g)
	}
	if m := filters[1].D.Members["sg-1"]; len(m) != 1 {
		t.Errorf("new members = %v", m)
	}
	if n := repairs(t, reg, "overlay") + repairs(t, reg, "security_groups"); n != 0 {
		t.Errorf("a change counted as %v repairs", n)
	}
}

func TestVPCNetworkDriftRepaired(t *testing.T) {
	h, reg := vpcHarness(t)
	h.start()
	spec := testSpec()
	spec.SecurityGroupIDs = []string{"sg-1"}
	h.srv.desired <- &nodeapi.Desired{NodeID: "n-1", Instances: []nodeapi.InstanceSpec{spec}, VPCs: []nodeapi.VPCNetwork{testVPC()}}
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	waitUntil(t, "overlay and filter applied", func() bool { o, f := h.net.vpcCalls(); return len(o) == 1 && len(f) == 1 })

	h.net.with(func(f *fakeNetwork) { f.overlayDrift = true })
	waitUntil(t, "overlay repaired", func() bool { o, _ := h.net.vpcCalls(); return len(o) == 2 && repairs(t, reg, "overlay") == 1 })
	h.net.with(func(f *fakeNetwork) { f.filterDrift = true })
	waitUntil(t, "filter repaired", func() bool { _, f := h.net.vpcCalls(); return len(f) == 2 && repairs(t, reg, "security_groups") == 1 })

	_, taps, _ := h.net.calls()
	h.net.with(func(f *fakeNetwork) { f.linksMissing = true })
	waitUntil(t, "bridge and tap re-made", func() bool { _, tt, _ := h.net.calls(); return len(tt) > len(taps) && repairs(t, reg, "bridge") == 1 })
	subnets, _, _ := h.net.calls()
	if subnets[len(subnets)-1] != "subnet-1" {
		t.Errorf("EnsureSubnet calls = %v", subnets)
	}
	// A re-made bridge gets the overlay (proxy ARP) and filter again.
	waitUntil(t, "re-applied after the bridge", func() bool { o, f := h.net.vpcCalls(); return len(o) == 3 && len(f) == 3 })
	time.Sleep(100 * time.Millisecond)
	if n := repairs(t, reg, "bridge"); n != 1 {
		t.Errorf("repairs{bridge} = %v", n)
	}
	for _, k := range []string{"overlay", "security_groups"} {
		if n := repairs(t, reg, k); n != 1 {
			t.Errorf("repairs{%s} = %v, want 1", k, n)
		}
	}
}

func TestNoOverlayWithoutUnderlay(t *testing.T) {
	h := newHarness(t)
	h.cfgHook = func(c *Config) { c.RepairInterval = 20 * time.Millisecond }
	h.start()
	if r := waitReport(t, h.srv); r.Node.Address != "" {
		t.Errorf("node address = %q", r.Node.Address)
	}
	spec := testSpec()
	h.srv.desired <- &nodeapi.Desired{NodeID: "n-1", Instances: []nodeapi.InstanceSpec{spec}, VPCs: []nodeapi.VPCNetwork{testVPC()}}
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	waitUntil(t, "filter applied", func() bool { _, f := h.net.vpcCalls(); return len(f) == 1 })
	time.Sleep(100 * time.Millisecond)
	if o, _ := h.net.vpcCalls(); len(o) != 0 {
		t.Errorf("EnsureOverlay called without an underlay: %+v", o)
	}
	_, f := h.net.vpcCalls()
	if g := f[0].D.Interfaces[0].Groups; len(g) != 0 {
		t.Errorf("groups of an instance without any = %v", g)
	}
}

func TestMetricsListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := newHarness(t)
	h.cfgHook = func(c *Config) { c.MetricsListen = addr }
	h.start()
	waitReport(t, h.srv)
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `kumo_node_network_repairs_total{kind="security_groups"} 0`) {
		t.Errorf("metrics:\n%s", b)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
