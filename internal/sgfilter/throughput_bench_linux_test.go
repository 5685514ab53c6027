package sgfilter

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/nettest"
)

// The filtered-throughput lab: one VPC on two nodes, two guests on node 0
// and one on node 1, all in one subnet.
const (
	tputVNI    = 402
	tputVPC    = "vpc-00000000000000b01"
	tputSubnet = "subnet-00000000000000b01"
	tputCIDR   = "10.0.0.0/16"
	// tputPort is the port the rules open (iperf3's); tputClosed one they
	// do not, to check that the rules are in the measured path.
	tputPort   = 5201
	tputClosed = 5202
	// Every interface is in tputGroups groups of tputRules ingress and
	// tputRules egress rules each.
	tputGroups = 10
	tputRules  = 10
)

// BenchmarkGuestTCPFiltered measures TCP throughput between two guests'
// namespaces on one subnet bridge of a node, and across two nodes through
// the VXLAN overlay (the topology of guestnet's BenchmarkGuestTCP, made
// by guestnet.Manager), bare and then through security groups Apply'd on
// both nodes. In the filtered runs every interface is in 10 groups of 10
// ingress and 10 egress rules; the rules that let the flow out and in are
// the last of the last group, so the first packet of a connection passes
// 99 rules that do not match it on each side; later packets are accepted
// by connection tracking. Before each filtered run, a port the rules do
// not open must be closed (and open in the bare run). Run with
//
//	go test -run '^$' -bench GuestTCPFiltered -benchtime 1000x ./internal/sgfilter
func BenchmarkGuestTCPFiltered(b *testing.B) {
	needRoot(b)
	l := newTputLab(b)
	for _, p := range []struct {
		name     string
		from, to nettest.Guest
	}{{"bridge", l.a1, l.a2}, {"vxlan", l.a1, l.b1}} {
		b.Run(p.name, func(b *testing.B) {
			to := netip.AddrPortFrom(p.to.IP, tputPort)
			l.removeRules(b)
			l.expectReachable(b, p.from, p.to, true)
			b.Run("bare", func(b *testing.B) { nettest.BenchTCP(b, p.from.Path, p.to.Path, to) })
			l.applyRules(b)
			l.expectReachable(b, p.from, p.to, false)
			b.Run("sg", func(b *testing.B) { nettest.BenchTCP(b, p.from.Path, p.to.Path, to) })
		})
	}
}

type tputLab struct {
	vpcNetns   [2]string // the VPC's namespace on each node
	a1, a2, b1 nettest.Guest
}

func newTputLab(b *testing.B) *tputLab {
	ctx := context.Background()
	hosts := nettest.Hosts(b, 2)
	var ms [2]*guestnet.Manager
	var subnets [2]guestnet.Subnet
	for i, h := range hosts {
		m, err := guestnet.New(guestnet.Config{Prefix: "kb" + nettest.Suffix(), HostNetns: h.Path, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if err := m.DeleteVPC(ctx, tputVPC); err != nil {
				b.Errorf("cleanup: %v", err)
			}
		})
		if subnets[i], err = m.EnsureSubnet(ctx, tputVPC, tputCIDR, tputSubnet, "10.0.1.0/24", ""); err != nil {
			b.Fatal(err)
		}
		ms[i] = m
	}
	l := &tputLab{vpcNetns: [2]string{subnets[0].Netns, subnets[1].Netns}}
	guest := func(s guestnet.Subnet, ip string) nettest.Guest {
		return nettest.AddGuest(b, s.Netns, s.Bridge, netip.MustParsePrefix(ip), s.Gateway.Addr())
	}
	l.a1, l.a2, l.b1 = guest(subnets[0], "10.0.1.10/24"), guest(subnets[0], "10.0.1.11/24"), guest(subnets[1], "10.0.1.20/24")
	peers := []guestnet.Peer{
		{Underlay: hosts[0].Underlay, Guests: []netip.Addr{l.a1.IP, l.a2.IP}},
		{Underlay: hosts[1].Underlay, Guests: []netip.Addr{l.b1.IP}},
	}
	for i, m := range ms {
		if err := m.EnsureOverlay(ctx, tputVPC, tputVNI, hosts[i].Underlay, peers); err != nil {
			b.Fatal(err)
		}
	}
	return l
}

// applyRules installs the security groups on both nodes.
func (l *tputLab) applyRules(b *testing.B) {
	b.Helper()
	groups, ids := tputGroupSet()
	members := map[string][]netip.Addr{ids[0]: {l.a1.IP, l.a2.IP, l.b1.IP}}
	node := [2][]nettest.Guest{{l.a1, l.a2}, {l.b1}}
	for i, gs := range node {
		d := Desired{Groups: groups, Members: members}
		for _, g := range gs {
			d.Interfaces = append(d.Interfaces, Interface{Tap: g.Port, MAC: g.MAC, IPs: []netip.Addr{g.IP}, Groups: ids, SourceDestCheck: true})
		}
		if err := Apply(context.Background(), l.vpcNetns[i], d); err != nil {
			b.Fatal(err)
		}
	}
}

// removeRules deletes this package's tables on both nodes, if there.
func (l *tputLab) removeRules(b *testing.B) {
	b.Helper()
	for _, ns := range l.vpcNetns {
		var script string
		for _, fam := range []string{"inet", "bridge"} {
			script += fmt.Sprintf("add table %s %s; delete table %[1]s %[2]s; ", fam, TableName)
		}
		run(b, "ip", "netns", "exec", nettest.NetnsName(b, ns), "nft", script)
	}
}

// expectReachable checks whether tputClosed of guest to is reachable from
// guest from. An open port answers at once, so only a closed one waits
// for the (short) timeout; the long one is for a busy machine.
func (l *tputLab) expectReachable(b *testing.B, from, to nettest.Guest, want bool) {
	b.Helper()
	timeout := time.Second
	if want {
		timeout = 10 * time.Second
	}
	got, err := nettest.Connects(from.Path, to.Path, netip.AddrPortFrom(to.IP, tputClosed), timeout)
	if err != nil {
		b.Fatal(err)
	}
	if got != want {
		b.Fatalf("%s -> %s port %d: reachable=%v, want %v", from.IP, to.IP, tputClosed, got, want)
	}
}

// tputGroupSet is tputGroups groups and their ids, in the order an
// interface lists them.
func tputGroupSet() (map[string]Group, []string) {
	groups := map[string]Group{}
	var ids []string
	for g := range tputGroups {
		id := fmt.Sprintf("sg-%017x", 0xbe00+g)
		ids = append(ids, id)
		grp := Group{ID: id}
		for r := range tputRules {
			grp.Ingress = append(grp.Ingress, tputRule(ids[0], g, r))
			grp.Egress = append(grp.Egress, tputRule(ids[0], g, r))
		}
		groups[id] = grp
	}
	return groups, ids
}

// tputRule is rule r of group g: the last rule of the last group lets the
// benchmark's flow pass; every other one misses it by a little (right
// peer, wrong port or protocol; right port, wrong peer). Peers are
// sources in ingress and destinations in egress. self is a group every
// guest is a member of.
func tputRule(self string, g, r int) Rule {
	vpc := []netip.Prefix{netip.MustParsePrefix(tputCIDR)}
	n := g*tputRules + r
	switch {
	case g == tputGroups-1 && r == tputRules-1:
		return Rule{Protocol: "tcp", FromPort: tputPort, ToPort: tputPort, CIDRs: vpc}
	case r%4 == 0:
		return Rule{Protocol: "tcp", FromPort: 6000 + n, ToPort: 6000 + n, CIDRs: vpc}
	case r%4 == 1:
		return Rule{Protocol: "tcp", FromPort: tputPort, ToPort: tputPort,
			CIDRs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16, byte(n), 0}), 24)}}
	case r%4 == 2:
		return Rule{Protocol: "udp", FromPort: 6000 + n, ToPort: 6000 + n, Groups: []string{self}}
	default:
		return Rule{Protocol: "tcp", FromPort: n, ToPort: 1024, CIDRs: vpc}
	}
}

// TestTputRulesAllKept: the benchmark's rules are distinct, so each
// interface's chains hold all 100 of them before the final drop, the
// matching one last.
func TestTputRulesAllKept(t *testing.T) {
	groups, ids := tputGroupSet()
	rs, err := Build(Desired{Groups: groups, Members: map[string][]netip.Addr{ids[0]: {netip.MustParseAddr("10.0.1.10")}},
		Interfaces: []Interface{{Tap: "tap0", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, IPs: []netip.Addr{netip.MustParseAddr("10.0.1.10")}, Groups: ids}}})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("ip saddr %s meta l4proto 6 th dport %d accept", tputCIDR, tputPort)
	found := 0
	for _, tb := range rs.Tables {
		for _, c := range tb.Chains {
			if c.Name != "in_1" && c.Name != "eg_1" {
				continue
			}
			found++
			if n := len(c.Rules); n != tputGroups*tputRules+1 {
				t.Errorf("chain %s: %d rules, want %d and a drop", c.Name, n, tputGroups*tputRules)
			}
			if c.Name == "in_1" && !strings.HasSuffix(c.Rules[len(c.Rules)-2].Text, want) {
				t.Errorf("last rule of in_1 = %q, want it to end with %q", c.Rules[len(c.Rules)-2].Text, want)
			}
		}
	}
	if found != 2 {
		t.Errorf("found %d of the chains in_1 and eg_1", found)
	}
}
