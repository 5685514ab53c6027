//go:build linux

package guestnet

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

// publicNode is a fake node with one VPC guest and its public path.
type publicNode struct {
	*fakeNode
	guest guest
	ip    netip.Addr
}

var (
	testPool   = []netip.Prefix{netip.MustParsePrefix("198.18.0.192/26")}
	testPublic = netip.MustParseAddr("198.18.0.200")
	anywhere   = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
)

// publish applies a node's side of its public addresses: the VPC
// namespace's NAT (mapped: public → the node's guest, or nothing), the
// host's routes and proxy entries, and the host's forwarding policy.
func (n publicNode) publish(t testing.TB, mapped bool) {
	t.Helper()
	ctx := context.Background()
	p := sgfilter.Public{Port: NamespacePort}
	var addrs []PublicAddr
	if mapped {
		p.Mappings = []sgfilter.Mapping{{Public: testPublic, Private: n.ip, Routes: anywhere}}
		addrs = []PublicAddr{{VPCID: testVPC, Addr: testPublic}}
	}
	rs, err := sgfilter.BuildPublic(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := sgfilter.ApplyRuleset(ctx, n.m.NetnsPath(testVPC), rs); err != nil {
		t.Fatal(err)
	}
	if err := n.m.EnsurePublic(ctx, "ul0", testPool, addrs); err != nil {
		t.Fatal(err)
	}
	host, err := sgfilter.BuildHostPolicy(n.m.prefix, []string{n.m.HostPort(testVPC)}, "ul0")
	if err != nil {
		t.Fatal(err)
	}
	if err := sgfilter.ApplyRuleset(ctx, n.path, host); err != nil {
		t.Fatal(err)
	}
}

func (n publicNode) checkPublic(t testing.TB, mapped bool) bool {
	t.Helper()
	var addrs []PublicAddr
	if mapped {
		addrs = []PublicAddr{{VPCID: testVPC, Addr: testPublic}}
	}
	drift, err := n.m.CheckPublic(context.Background(), "ul0", testPool, addrs)
	if err != nil {
		t.Fatal(err)
	}
	return drift
}

// TestPublicAddressMovesBetweenNodes: an elastic IP published by one fake
// node reaches its guest from a client on the uplink's network (and the
// guest reaches the client from it); moved to the other node it reaches
// that node's guest; nothing leaves a node but through its uplink; drift
// is found and repaired.
func TestPublicAddressMovesBetweenNodes(t *testing.T) {
	fake := newNodes(t, 2)
	client := "ktclient-" + randomSuffix()
	addTestNetns(t, client)
	swName := fake[0].sw
	run(t, "ip", "-n", swName, "link", "add", "pc", "type", "veth", "peer", "name", "eth0", "netns", client)
	run(t, "ip", "-n", swName, "link", "set", "pc", "master", "br0", "up")
	run(t, "ip", "-n", client, "link", "set", "lo", "up")
	run(t, "ip", "-n", client, "addr", "add", "198.18.0.100/24", "dev", "eth0")
	run(t, "ip", "-n", client, "link", "set", "eth0", "up")
	cl := guest{name: client, path: defaultNetnsDir + "/" + client}

	var nodes []publicNode
	for i, f := range fake {
		s, err := f.m.EnsureSubnet(context.Background(), testVPC, "10.71.0.0/16", testSubnet, "10.71.1.0/24", "")
		if err != nil {
			t.Fatal(err)
		}
		ip := netip.AddrFrom4([4]byte{10, 71, 1, byte(10 * (i + 1))})
		nodes = append(nodes, publicNode{fakeNode: f, guest: addGuest(t, s, ip.String()+"/24", "10.71.1.1"), ip: ip})
	}

	// Before anything is published the guest reaches nothing outside.
	nodes[0].publish(t, false)
	nodes[1].publish(t, false)
	mustNotPing(t, nodes[0].guest, "198.18.0.100")

	nodes[0].publish(t, true)
	mustPing(t, cl, testPublic.String())
	mustPing(t, nodes[0].guest, "198.18.0.100") // answered only if the source was translated
	if nodes[0].checkPublic(t, true) {
		t.Error("drift reported right after EnsurePublic")
	}

	// Nothing reaches beyond the host but through the uplink: a network
	// the host has on another interface stays out of reach.
	other := "ktother-" + randomSuffix()
	addTestNetns(t, other)
	run(t, "ip", "-n", fake[0].name, "link", "add", "mgmt", "type", "veth", "peer", "name", "eth0", "netns", other)
	run(t, "ip", "-n", fake[0].name, "addr", "add", "192.0.2.2/24", "dev", "mgmt")
	run(t, "ip", "-n", fake[0].name, "link", "set", "mgmt", "up")
	run(t, "ip", "-n", other, "addr", "add", "192.0.2.1/24", "dev", "eth0")
	run(t, "ip", "-n", other, "link", "set", "eth0", "up")
	run(t, "ip", "-n", other, "route", "add", "default", "via", "192.0.2.2")
	mustNotPing(t, nodes[0].guest, "192.0.2.1")

	// The address moves to the other node; gratuitous ARP turns the
	// client's cache over at once.
	nodes[0].publish(t, false)
	nodes[1].publish(t, true)
	mustPing(t, cl, testPublic.String())
	if mac := neighMAC(t, client, testPublic.String()); mac != hostMAC(t, nodes[1].fakeNode) {
		t.Errorf("client resolves %s to %s, want node 2's uplink %s", testPublic, mac, hostMAC(t, nodes[1].fakeNode))
	}
	mustPing(t, nodes[1].guest, "198.18.0.100")
	mustNotPing(t, nodes[0].guest, "198.18.0.100")
	if !nodes[0].checkPublic(t, true) || nodes[0].checkPublic(t, false) {
		t.Error("node 1 after withdrawing: want drift against the old state only")
	}
	if out := run(t, "ip", "-n", fake[0].name, "neigh", "show", "proxy"); strings.Contains(out, testPublic.String()) {
		t.Errorf("node 1 still proxies %s: %s", testPublic, out)
	}

	// Drift: the proxy entry and the route deleted by hand.
	run(t, "ip", "-n", fake[1].name, "neigh", "del", "proxy", testPublic.String(), "dev", "ul0")
	if !nodes[1].checkPublic(t, true) {
		t.Error("a deleted proxy entry not seen as drift")
	}
	run(t, "ip", "-n", fake[1].name, "route", "del", testPublic.String()+"/32")
	nodes[1].publish(t, true)
	if nodes[1].checkPublic(t, true) {
		t.Error("drift left after repair")
	}
	mustPing(t, cl, testPublic.String())
}

func neighMAC(t testing.TB, ns, ip string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		f := strings.Fields(run(t, "ip", "-n", ns, "neigh", "show", ip))
		for i := range f {
			if f[i] == "lladdr" && i+1 < len(f) {
				return f[i+1]
			}
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hostMAC(t testing.TB, n *fakeNode) string {
	t.Helper()
	l, ok := link(t, n.path, "ul0")
	if !ok {
		t.Fatalf("%s has no ul0", n.name)
	}
	return l.Address
}
