//go:build linux

package guestnet

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

// fakeNode is a network namespace standing in for a node's host
// namespace: an underlay veth to the test's switch, and a Manager whose
// HostNetns it is.
type fakeNode struct {
	name, path string
	sw         string // the switch namespace joining the nodes' ul0
	underlay   netip.Addr
	m          *Manager
	logs       *syncBuffer
}

// newNodes makes n fake nodes joined by a bridge in a switch namespace,
// with underlay addresses 198.18.0.1, .2, … /24. IPv6 is off in the
// underlay so that its counters move only with the traffic tests make.
func newNodes(t testing.TB, n int) []*fakeNode {
	t.Helper()
	requireNetns(t)
	for _, tool := range []string{"ping", "bridge", "sysctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s not found; the overlay tests use it", tool)
		}
	}
	sw := "ktsw-" + randomSuffix()
	addTestNetns(t, sw)
	run(t, "ip", "-n", sw, "link", "add", "br0", "type", "bridge")
	run(t, "ip", "-n", sw, "link", "set", "br0", "up")
	var nodes []*fakeNode
	for i := range n {
		node := &fakeNode{name: "kthost-" + randomSuffix(), sw: sw, underlay: netip.AddrFrom4([4]byte{198, 18, 0, byte(i + 1)})}
		node.path = defaultNetnsDir + "/" + node.name
		addTestNetns(t, node.name)
		port := fmt.Sprintf("p%d", i)
		run(t, "ip", "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "ul0", "netns", node.name)
		run(t, "ip", "-n", sw, "link", "set", port, "master", "br0", "up")
		run(t, "ip", "-n", node.name, "link", "set", "lo", "up")
		run(t, "ip", "-n", node.name, "addr", "add", node.underlay.String()+"/24", "dev", "ul0")
		run(t, "ip", "-n", node.name, "link", "set", "ul0", "up")
		node.m, node.logs = nodeManager(t, node.path)
		nodes = append(nodes, node)
	}
	return nodes
}

// addTestNetns makes a namespace with IPv6 off, deleted when the test ends.
func addTestNetns(t testing.TB, name string) {
	t.Helper()
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { run(t, "ip", "netns", "del", name) })
	run(t, "ip", "netns", "exec", name, "sysctl", "-qw",
		"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
}

// nodeManager is testManager for a fake node's host namespace.
func nodeManager(t testing.TB, hostNetns string) (*Manager, *syncBuffer) {
	return nodeManagerExpose(t, hostNetns, false)
}

func nodeManagerExpose(t testing.TB, hostNetns string, expose bool) (*Manager, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	m, err := New(Config{
		Prefix:       "kt" + randomSuffix(),
		HostNetns:    hostNetns,
		ExposeToHost: expose,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ids, err := m.VPCs()
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, id := range ids {
			if err := m.DeleteVPC(context.Background(), id); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		if t.Failed() {
			t.Logf("guestnet log of %s:\n%s", hostNetns, logs)
		}
	})
	return m, logs
}

// vpcNet is a VPC's guests on the fake nodes: guests[i] are node i's.
type vpcNet struct {
	id     string
	vni    uint32
	guests [][]netip.Addr
}

// peers is what node i passes to EnsureOverlay: every node, itself
// included (EnsureOverlay skips it).
func (v vpcNet) peers(nodes []*fakeNode, skip ...int) []Peer {
	var ps []Peer
	for i, n := range nodes {
		if !containsInt(skip, i) {
			ps = append(ps, Peer{Underlay: n.underlay, Guests: v.guests[i]})
		}
	}
	return ps
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// addSubnetGuest ensures the subnet cidr of vpc on node and a guest with
// address ip on it, and records the guest in v.
func addSubnetGuest(t testing.TB, node *fakeNode, v *vpcNet, nodeIdx int, subnetID, cidr, ip string) guest {
	t.Helper()
	s, err := node.m.EnsureSubnet(context.Background(), v.id, "10.0.0.0/16", subnetID, cidr, "")
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix(cidr)
	v.guests[nodeIdx] = append(v.guests[nodeIdx], netip.MustParseAddr(ip))
	return addGuest(t, s, netip.PrefixFrom(netip.MustParseAddr(ip), p.Bits()).String(), s.Gateway.Addr().String())
}

func ensureOverlay(t testing.TB, nodes []*fakeNode, v vpcNet) {
	t.Helper()
	for _, n := range nodes {
		if err := n.m.EnsureOverlay(context.Background(), v.id, v.vni, n.underlay, v.peers(nodes)); err != nil {
			t.Fatal(err)
		}
	}
}

func ping(g guest, ip string, count int) error {
	out, err := exec.Command("ip", "netns", "exec", g.name, "ping", "-n", "-c", fmt.Sprint(count),
		"-i", "0.2", "-W", "1", ip).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ping %s from %s: %v: %s", ip, g.name, err, out)
	}
	return nil
}

func mustPing(t testing.TB, g guest, ip string) {
	t.Helper()
	if err := ping(g, ip, 3); err != nil {
		t.Error(err)
	}
}

func mustNotPing(t testing.TB, g guest, ip string) {
	t.Helper()
	if err := ping(g, ip, 2); err == nil {
		t.Errorf("ping %s from %s: answered, want no answer", ip, g.name)
	}
}

type linkCounters struct {
	RxPackets, TxPackets, TxDropped uint64
}

// counters reads a link's counters in the namespace at path.
func counters(t testing.TB, path, dev string) linkCounters {
	t.Helper()
	var ls []struct {
		Stats struct {
			Rx struct{ Packets uint64 } `json:"rx"`
			Tx struct {
				Packets uint64 `json:"packets"`
				Dropped uint64 `json:"dropped"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	out := run(t, "ip", "-n", nsName(path), "-s", "-j", "link", "show", "dev", dev)
	if err := json.Unmarshal([]byte(out), &ls); err != nil || len(ls) != 1 {
		t.Fatalf("counters of %s in %s: %v: %s", dev, path, err, out)
	}
	s := ls[0].Stats
	return linkCounters{RxPackets: s.Rx.Packets, TxPackets: s.Tx.Packets, TxDropped: s.Tx.Dropped}
}

func nsName(path string) string { return strings.TrimPrefix(path, defaultNetnsDir+"/") }

// udpPortBound reports whether UDP port is bound in the namespace at path.
func udpPortBound(t testing.TB, path string, port int) bool {
	t.Helper()
	out := run(t, "ip", "netns", "exec", nsName(path), "cat", "/proc/net/udp")
	return strings.Contains(out, fmt.Sprintf(":%04X ", port))
}

type fdbEntry struct {
	MAC   string   `json:"mac"`
	Dst   string   `json:"dst"`
	State string   `json:"state"`
	Flags []string `json:"flags"`
}

func fdb(t testing.TB, path string) []fdbEntry {
	t.Helper()
	var es []fdbEntry
	out := run(t, "bridge", "-n", nsName(path), "-j", "fdb", "show", "dev", overlayLink)
	if err := json.Unmarshal([]byte(out), &es); err != nil {
		t.Fatalf("fdb: %v: %s", err, out)
	}
	return es
}

func checkOverlay(t testing.TB, n *fakeNode, v vpcNet, peers []Peer, want bool) {
	t.Helper()
	drifted, err := n.m.CheckOverlay(context.Background(), v.id, v.vni, n.underlay, peers)
	if err != nil {
		t.Fatal(err)
	}
	if drifted != want {
		t.Errorf("CheckOverlay on %s = %v, want %v", n.name, drifted, want)
	}
}

const (
	overlayVPC1    = "vpc-0000000000000000a"
	overlayVPC2    = "vpc-0000000000000000b"
	overlaySubnet1 = "subnet-0000000000000001a"
	overlaySubnet2 = "subnet-0000000000000002a"
)

// TestOverlayAcrossNodes: guests of one VPC on two nodes reach each other,
// in one subnet and across subnets; a second VPC with the same CIDRs and
// addresses on the same nodes is isolated from the first.
func TestOverlayAcrossNodes(t *testing.T) {
	nodes := newNodes(t, 2)
	a, b := nodes[0], nodes[1]
	v1 := vpcNet{id: overlayVPC1, vni: 101, guests: make([][]netip.Addr, 2)}
	v2 := vpcNet{id: overlayVPC2, vni: 102, guests: make([][]netip.Addr, 2)}
	a1 := addSubnetGuest(t, a, &v1, 0, overlaySubnet1, "10.0.1.0/24", "10.0.1.10")
	b1 := addSubnetGuest(t, b, &v1, 1, overlaySubnet1, "10.0.1.0/24", "10.0.1.20")
	b2 := addSubnetGuest(t, b, &v1, 1, overlaySubnet2, "10.0.2.0/24", "10.0.2.30")
	x1 := addSubnetGuest(t, a, &v2, 0, overlaySubnet1, "10.0.1.0/24", "10.0.1.10")
	y1 := addSubnetGuest(t, b, &v2, 1, overlaySubnet1, "10.0.1.0/24", "10.0.1.20")
	addSubnetGuest(t, b, &v2, 1, overlaySubnet2, "10.0.2.0/24", "10.0.2.31")
	for range 2 { // idempotent
		ensureOverlay(t, nodes, v1)
		ensureOverlay(t, nodes, v2)
	}
	for _, n := range nodes {
		checkOverlay(t, n, v1, v1.peers(nodes), false)
		checkOverlay(t, n, v2, v2.peers(nodes), false)
		checkVXLANDevice(t, n, n.m.NetnsPath(v1.id), 101)
	}
	if es := fdb(t, a.m.NetnsPath(v1.id)); len(es) != 1 || es[0].Dst != "198.18.0.2" ||
		es[0].MAC != vtepMAC(101, b.underlay).String() || es[0].State != "permanent" {
		t.Errorf("fdb of vpc 1 on node a = %+v, want one permanent entry for node b", es)
	}

	vx2a := counters(t, a.m.NetnsPath(v2.id), overlayLink)
	vx2b := counters(t, b.m.NetnsPath(v2.id), overlayLink)
	mustPing(t, a1, "10.0.1.20") // same subnet
	mustPing(t, a1, "10.0.2.30") // across subnets
	mustPing(t, b2, "10.0.1.10")
	mustPing(t, b1, "10.0.1.10")
	mustNotPing(t, a1, "10.0.2.31") // vpc 2's only
	// Full-size segments: the guests' MTU is 1500, the overlay's 1450.
	if _, err := tcpTransfer(a1, b2, "10.0.2.30", 8, func() {}); err != nil {
		t.Errorf("tcp across the overlay: %v", err)
	}
	if c := counters(t, a.m.NetnsPath(v1.id), overlayLink); c.RxPackets == 0 || c.TxPackets == 0 {
		t.Errorf("vpc 1's vxlan on node a carried nothing: %+v", c)
	}
	if c := counters(t, a.m.NetnsPath(v2.id), overlayLink); c.RxPackets != vx2a.RxPackets {
		t.Errorf("vpc 2's vxlan on node a received %d packets during vpc 1's pings", c.RxPackets-vx2a.RxPackets)
	}
	if c := counters(t, b.m.NetnsPath(v2.id), overlayLink); c.RxPackets != vx2b.RxPackets {
		t.Errorf("vpc 2's vxlan on node b received %d packets during vpc 1's pings", c.RxPackets-vx2b.RxPackets)
	}

	vx1b := counters(t, b.m.NetnsPath(v1.id), overlayLink)
	mustPing(t, x1, "10.0.1.20") // vpc 2's own 10.0.1.20, on node b
	mustPing(t, y1, "10.0.1.10")
	mustPing(t, x1, "10.0.2.31")
	mustNotPing(t, x1, "10.0.2.30") // vpc 1's only
	if c := counters(t, b.m.NetnsPath(v1.id), overlayLink); c.RxPackets != vx1b.RxPackets {
		t.Errorf("vpc 1's vxlan on node b received %d packets during vpc 2's pings", c.RxPackets-vx1b.RxPackets)
	}
}

// checkVXLANDevice asserts the VPC namespace's vxlan device has the shape
// EnsureOverlay promises, and that its UDP socket is in the node's host
// namespace, not in the VPC's.
func checkVXLANDevice(t testing.TB, n *fakeNode, vpcNetns string, vni int) {
	t.Helper()
	var ls []struct {
		NetnsID  *int     `json:"link_netnsid"`
		MTU      int      `json:"mtu"`
		Address  string   `json:"address"`
		Flags    []string `json:"flags"`
		LinkInfo struct {
			Kind string `json:"info_kind"`
			Data struct {
				ID       int    `json:"id"`
				Local    string `json:"local"`
				Port     int    `json:"port"`
				Learning bool   `json:"learning"`
				Group    string `json:"group"`
				Remote   string `json:"remote"`
			} `json:"info_data"`
		} `json:"linkinfo"`
	}
	out := run(t, "ip", "-n", nsName(vpcNetns), "-d", "-j", "link", "show", "dev", overlayLink)
	if err := json.Unmarshal([]byte(out), &ls); err != nil || len(ls) != 1 {
		t.Fatalf("vxlan device: %v: %s", err, out)
	}
	l, d := ls[0], ls[0].LinkInfo.Data
	if l.LinkInfo.Kind != "vxlan" || d.ID != vni || d.Local != n.underlay.String() || d.Port != VXLANPort ||
		d.Learning || d.Group != "" || d.Remote != "" || l.NetnsID == nil || l.MTU != 1450 ||
		l.Address != vtepMAC(uint32(vni), n.underlay).String() {
		t.Errorf("vxlan device in %s: %s", vpcNetns, out)
	}
	if !udpPortBound(t, n.path, VXLANPort) {
		t.Errorf("no socket on udp %d in the host namespace %s", VXLANPort, n.path)
	}
	if udpPortBound(t, vpcNetns, VXLANPort) {
		t.Errorf("a socket on udp %d in the vpc namespace %s", VXLANPort, vpcNetns)
	}
}

// TestOverlayConvergesAndRepairs: a peer removed loses its entries;
// CheckOverlay sees deleted, added and reshaped state, and EnsureOverlay
// puts it right.
func TestOverlayConvergesAndRepairs(t *testing.T) {
	nodes := newNodes(t, 3)
	a := nodes[0]
	v := vpcNet{id: overlayVPC1, vni: 201, guests: make([][]netip.Addr, 3)}
	a1 := addSubnetGuest(t, nodes[0], &v, 0, overlaySubnet1, "10.0.1.0/24", "10.0.1.10")
	addSubnetGuest(t, nodes[1], &v, 1, overlaySubnet1, "10.0.1.0/24", "10.0.1.20")
	addSubnetGuest(t, nodes[2], &v, 2, overlaySubnet2, "10.0.2.0/24", "10.0.2.30")
	ensureOverlay(t, nodes, v)
	mustPing(t, a1, "10.0.1.20")
	mustPing(t, a1, "10.0.2.30")

	// Node c leaves the VPC: node a keeps only node b.
	ctx := context.Background()
	onlyB := v.peers(nodes, 2)
	checkOverlay(t, a, v, onlyB, true)
	if err := a.m.EnsureOverlay(ctx, v.id, v.vni, a.underlay, onlyB); err != nil {
		t.Fatal(err)
	}
	checkOverlay(t, a, v, onlyB, false)
	vpcA := a.m.NetnsPath(v.id)
	if es := fdb(t, vpcA); len(es) != 1 || es[0].Dst != "198.18.0.2" {
		t.Errorf("fdb after removing node c = %+v, want node b's entry only", es)
	}
	if out := run(t, "ip", "-n", nsName(vpcA), "-4", "route", "show", "dev", overlayLink); strings.TrimSpace(out) != "10.0.1.20 scope link" {
		t.Errorf("routes via %s after removing node c = %q, want node b's guest only", overlayLink, out)
	}
	if out := run(t, "ip", "-n", nsName(vpcA), "-4", "neigh", "show", "dev", overlayLink, "nud", "permanent"); strings.Contains(out, "10.0.2.30") {
		t.Errorf("neighbour of node c's guest left: %s", out)
	}
	mustNotPing(t, a1, "10.0.2.30")

	repairs := []struct {
		name  string
		drift func()
	}{
		{"fdb entry deleted", func() {
			run(t, "bridge", "-n", nsName(vpcA), "fdb", "del", vtepMAC(v.vni, nodes[1].underlay).String(),
				"dev", overlayLink, "dst", "198.18.0.2")
		}},
		{"vxlan device deleted", func() { run(t, "ip", "-n", nsName(vpcA), "link", "del", overlayLink) }},
		{"flooding entry, stray route and neighbour", func() {
			run(t, "bridge", "-n", nsName(vpcA), "fdb", "append", "00:00:00:00:00:00", "dev", overlayLink, "dst", "198.18.0.3")
			run(t, "ip", "-n", nsName(vpcA), "route", "add", "10.0.9.9/32", "dev", overlayLink)
			run(t, "ip", "-n", nsName(vpcA), "neigh", "add", "10.0.9.9", "lladdr", "06:00:00:00:00:09",
				"dev", overlayLink, "nud", "permanent")
		}},
		{"neighbour changed", func() {
			run(t, "ip", "-n", nsName(vpcA), "neigh", "replace", "10.0.1.20", "lladdr", "06:00:00:00:00:09",
				"dev", overlayLink, "nud", "permanent")
		}},
		{"learning turned on", func() {
			run(t, "ip", "-n", nsName(vpcA), "link", "set", overlayLink, "type", "vxlan", "learning")
		}},
		{"proxy arp off", func() {
			run(t, "ip", "netns", "exec", nsName(vpcA), "sysctl", "-qw",
				"net.ipv4.conf."+bridgeName(overlaySubnet1)+".proxy_arp=0")
		}},
		{"device made inside the vpc namespace", func() {
			run(t, "ip", "-n", nsName(vpcA), "link", "del", overlayLink)
			run(t, "ip", "-n", nsName(vpcA), "link", "add", overlayLink,
				"address", vtepMAC(v.vni, a.underlay).String(), "mtu", "1450", "type", "vxlan",
				"id", fmt.Sprint(v.vni), "local", a.underlay.String(), "dstport", "4789", "nolearning")
			run(t, "ip", "-n", nsName(vpcA), "link", "set", overlayLink, "up")
		}},
	}
	for _, r := range repairs {
		r.drift()
		checkOverlay(t, a, v, onlyB, true)
		if err := a.m.EnsureOverlay(ctx, v.id, v.vni, a.underlay, onlyB); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		checkOverlay(t, a, v, onlyB, false)
		if err := ping(a1, "10.0.1.20", 3); err != nil {
			t.Errorf("after repairing %s: %v", r.name, err)
		}
	}
	checkVXLANDevice(t, a, vpcA, 201)
	if es := fdb(t, vpcA); len(es) != 1 || es[0].Dst != "198.18.0.2" {
		t.Errorf("fdb after the repairs = %+v, want node b's entry only", es)
	}

	if err := a.m.DeleteOverlay(ctx, v.id); err != nil {
		t.Fatal(err)
	}
	if _, ok := link(t, vpcA, overlayLink); ok {
		t.Errorf("DeleteOverlay left %s", overlayLink)
	}
	checkOverlay(t, a, v, onlyB, true)
}

// TestOverlayNoFlooding: a frame for a MAC address no FDB entry names,
// and an ARP broadcast, go nowhere: the underlay carries nothing.
func TestOverlayNoFlooding(t *testing.T) {
	nodes := newNodes(t, 2)
	a := nodes[0]
	v := vpcNet{id: overlayVPC1, vni: 301, guests: make([][]netip.Addr, 2)}
	a1 := addSubnetGuest(t, nodes[0], &v, 0, overlaySubnet1, "10.0.1.0/24", "10.0.1.10")
	addSubnetGuest(t, nodes[1], &v, 1, overlaySubnet1, "10.0.1.0/24", "10.0.1.20")
	ensureOverlay(t, nodes, v)
	mustPing(t, a1, "10.0.1.20") // the underlay's ARP is resolved before counting

	vpcA := nsName(a.m.NetnsPath(v.id))
	run(t, "ip", "-n", vpcA, "route", "add", "10.0.1.99/32", "dev", overlayLink)
	run(t, "ip", "-n", vpcA, "neigh", "add", "10.0.1.99", "lladdr", "06:11:22:33:44:55", "dev", overlayLink, "nud", "permanent")
	run(t, "ip", "-n", vpcA, "route", "add", "10.0.1.98/32", "dev", overlayLink) // no neighbour: ARP broadcast
	ul := counters(t, a.path, "ul0")
	vx := counters(t, a.m.NetnsPath(v.id), overlayLink)
	mustNotPing(t, a1, "10.0.1.99")
	mustNotPing(t, a1, "10.0.1.98")
	if c := counters(t, a.path, "ul0"); c.TxPackets != ul.TxPackets {
		t.Errorf("the underlay sent %d packets for unknown destinations", c.TxPackets-ul.TxPackets)
	}
	if c := counters(t, a.m.NetnsPath(v.id), overlayLink); c.TxDropped <= vx.TxDropped {
		t.Errorf("vxlan device dropped nothing (%+v then %+v); want the frames dropped", vx, c)
	}
	if err := a.m.EnsureOverlay(context.Background(), v.id, v.vni, a.underlay, v.peers(nodes)); err != nil {
		t.Fatal(err)
	}
	if out := run(t, "ip", "-n", vpcA, "-4", "route", "show", "dev", overlayLink); strings.Contains(out, "10.0.1.9") {
		t.Errorf("EnsureOverlay left the test's routes: %s", out)
	}
}

func TestOverlayRejectsBadInput(t *testing.T) {
	m, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	local := netip.MustParseAddr("198.18.0.1")
	remote := netip.MustParseAddr("198.18.0.2")
	g := netip.MustParseAddr("10.0.1.5")
	for name, c := range map[string]struct {
		vpc   string
		vni   uint32
		local netip.Addr
		peers []Peer
	}{
		"bad vpc id":     {"vpc/x", 1, local, nil},
		"vni 0":          {testVPC, 0, local, nil},
		"vni too big":    {testVPC, 1 << 24, local, nil},
		"no underlay":    {testVPC, 1, netip.Addr{}, nil},
		"family mix":     {testVPC, 1, local, []Peer{{Underlay: netip.MustParseAddr("fd00::2")}}},
		"peer twice":     {testVPC, 1, local, []Peer{{Underlay: remote}, {Underlay: remote}}},
		"guest twice":    {testVPC, 1, local, []Peer{{Underlay: remote, Guests: []netip.Addr{g}}, {Underlay: netip.MustParseAddr("198.18.0.3"), Guests: []netip.Addr{g}}}},
		"ipv6 guest":     {testVPC, 1, local, []Peer{{Underlay: remote, Guests: []netip.Addr{netip.MustParseAddr("fd00::5")}}}},
		"multicast peer": {testVPC, 1, local, []Peer{{Underlay: netip.MustParseAddr("239.1.1.1")}}},
	} {
		if err := m.EnsureOverlay(context.Background(), c.vpc, c.vni, c.local, c.peers); err == nil {
			t.Errorf("%s: EnsureOverlay succeeded", name)
		}
		if _, err := m.CheckOverlay(context.Background(), c.vpc, c.vni, c.local, c.peers); err == nil {
			t.Errorf("%s: CheckOverlay succeeded", name)
		}
	}
}

func TestVTEPMAC(t *testing.T) {
	a := vtepMAC(7, netip.MustParseAddr("198.18.0.1"))
	if a[0]&1 != 0 || a[0]&2 == 0 {
		t.Errorf("vtepMAC = %s, want a locally administered unicast address", a)
	}
	if b := vtepMAC(7, netip.MustParseAddr("198.18.0.1")); b.String() != a.String() {
		t.Errorf("vtepMAC not stable: %s then %s", a, b)
	}
	if b := vtepMAC(8, netip.MustParseAddr("198.18.0.1")); b.String() == a.String() {
		t.Errorf("vtepMAC same for two VNIs: %s", a)
	}
}

// TestHostNetnsExpose: with HostNetns, ExposeToHost's veth and route are
// made in that namespace, reach the guest from it, and leave the real
// host alone.
func TestHostNetnsExpose(t *testing.T) {
	node := newNodes(t, 1)[0]
	m, _ := nodeManagerExpose(t, node.path, true)
	ctx := context.Background()
	s, err := m.EnsureSubnet(ctx, testVPC, "10.0.0.0/16", testSubnet, "10.0.1.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	g := addGuest(t, s, "10.0.1.10/24", "10.0.1.1")
	if _, err := m.EnsureTap(ctx, s, "i-0123456789abcdef0"); err != nil {
		t.Fatal(err)
	}
	hostVeth := m.hostVethName(testVPC)
	if _, ok := link(t, node.path, hostVeth); !ok {
		t.Fatalf("no host veth %s in the fake host %s", hostVeth, node.path)
	}
	if _, ok := link(t, "", hostVeth); ok {
		t.Errorf("host veth %s made in the real host namespace", hostVeth)
	}
	if out := run(t, "ip", "-n", node.name, "-4", "route", "show", "exact", "10.0.0.0/16"); !strings.Contains(out, "dev "+hostVeth) {
		t.Errorf("fake host's route to the vpc = %q, want one via %s", out, hostVeth)
	}
	out, err := exec.Command("ip", "netns", "exec", node.name, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", "10.0.1.10").CombinedOutput()
	if err != nil {
		t.Errorf("ping the guest %s from the fake host: %v: %s", g.name, err, out)
	}
	if err := m.DeleteVPC(ctx, testVPC); err != nil {
		t.Fatal(err)
	}
	if _, ok := link(t, node.path, hostVeth); ok {
		t.Errorf("host veth %s left in the fake host after DeleteVPC", hostVeth)
	}
}
