package sgfilter

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

func allowAllEgress() []Rule {
	return []Rule{{Protocol: "-1", CIDRs: []netip.Prefix{prefix("0.0.0.0/0")}}}
}

func TestSecurityGroupsFilterTraffic(t *testing.T) {
	l := newLab(t, 3)
	ctx := context.Background()
	for i := range 3 {
		l.serve(i, 80)
	}
	// Nothing applied yet: the bridge passes everything.
	l.expect(0, 1, 80, true)

	web := Group{ID: "sg-web", Egress: allowAllEgress(), Ingress: []Rule{
		{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{prefix("10.9.0.11/32")}},
	}}
	ref := Group{ID: "sg-ref", Egress: allowAllEgress(), Ingress: []Rule{
		{Protocol: "tcp", FromPort: 80, ToPort: 80, Groups: []string{"sg-client"}},
	}}
	client := Group{ID: "sg-client", Egress: allowAllEgress()}
	d := Desired{
		Interfaces: []Interface{l.iface(0, "sg-client"), l.iface(1, "sg-web"), l.iface(2, "sg-ref")},
		Groups:     map[string]Group{"sg-web": web, "sg-ref": ref, "sg-client": client},
		Members:    map[string][]netip.Addr{"sg-client": {l.guests[0].ip}},
	}
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		t.Fatal(err)
	}
	t.Run("cidr rule opens the port, replies pass, reverse is denied", func(t *testing.T) {
		l.expect(0, 1, 80, true)  // 10.9.0.11 allowed by CIDR; the reply passes by conntrack
		l.expect(1, 0, 80, false) // guest 1 has no ingress rule: default deny
		l.expect(2, 1, 80, false) // 10.9.0.13 is not in the CIDR
	})
	t.Run("group reference matches members only", func(t *testing.T) {
		l.expect(0, 2, 80, true)
		l.expect(1, 2, 80, false)
		d.Members["sg-client"] = append(d.Members["sg-client"], l.guests[1].ip)
		if err := Apply(ctx, l.vpcPath(), d); err != nil {
			t.Fatal(err)
		}
		l.expect(1, 2, 80, true)
	})
	t.Run("egress restriction", func(t *testing.T) {
		c := d.Groups["sg-client"]
		c.Egress = []Rule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{prefix("10.9.0.12/32")}}}
		d.Groups["sg-client"] = c
		if err := Apply(ctx, l.vpcPath(), d); err != nil {
			t.Fatal(err)
		}
		l.expect(0, 1, 80, true)
		l.expect(0, 2, 80, false) // guest 3 would let it in; guest 1's egress does not let it out
	})
}

func TestAntiSpoofing(t *testing.T) {
	l := newLab(t, 2)
	ctx := context.Background()
	l.serve(0, 80)
	l.serve(1, 80)
	// Guest 1 claims a second address; before any rules its ARP answers
	// for it are believed.
	g0, g1 := func(args ...string) string {
		return run(t, append([]string{"ip", "netns", "exec", l.guests[0].ns}, args...)...)
	},
		func(args ...string) string {
			return run(t, append([]string{"ip", "netns", "exec", l.guests[1].ns}, args...)...)
		}
	g0("ip", "addr", "add", "10.9.0.77/24", "dev", "eth0")
	other := netip.MustParseAddrPort("10.9.0.77:80")
	if !l.connectAddr(1, other, netip.Addr{}) {
		t.Fatal("control: 10.9.0.77 unreachable without rules")
	}
	open := Group{ID: "sg-open", Egress: allowAllEgress(), Ingress: []Rule{{Protocol: "-1", CIDRs: []netip.Prefix{prefix("0.0.0.0/0")}}}}
	d := Desired{
		Interfaces: []Interface{l.iface(0, "sg-open"), l.iface(1, "sg-open")},
		Groups:     map[string]Group{"sg-open": open},
	}
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		t.Fatal(err)
	}
	l.expect(0, 1, 80, true)
	t.Run("ARP only for its own addresses", func(t *testing.T) {
		g1("ip", "neigh", "flush", "all")
		l.connectAddr(1, other, netip.Addr{})
		l.expect(1, 0, 80, true)
		if n := g1("ip", "neigh", "show", "10.9.0.77"); strings.Contains(n, "lladdr") {
			t.Errorf("guest 2 resolved 10.9.0.77 (not guest 1's address): %s", n)
		}
		if n := g1("ip", "neigh", "show", l.guests[0].ip.String()); !strings.Contains(n, l.guests[0].mac.String()) {
			t.Errorf("guest 2 did not resolve guest 1's own address: %q", n)
		}
	})
	t.Run("spoofed source IP", func(t *testing.T) {
		run(t, "ip", "netns", "exec", l.guests[0].ns, "ip", "addr", "add", "10.9.0.99/24", "dev", "eth0")
		// ARP for 10.9.0.99 is never answered (not guest 1's address), as a
		// NAT instance's forwarded traffic is routed to it: a static entry.
		run(t, "ip", "netns", "exec", l.guests[1].ns, "ip", "neigh", "add", "10.9.0.99", "lladdr", l.guests[0].mac.String(), "dev", "eth0")
		if l.connect(0, 1, 80, netip.MustParseAddr("10.9.0.99")) {
			t.Error("a connection from a forged source address went through")
		}
		// Turning source/dest check off lets the guest use other addresses.
		nat := d
		nat.Interfaces = []Interface{l.iface(0, "sg-open"), l.iface(1, "sg-open")}
		nat.Interfaces[0].SourceDestCheck = false
		if err := Apply(ctx, l.vpcPath(), nat); err != nil {
			t.Fatal(err)
		}
		if !l.connect(0, 1, 80, netip.MustParseAddr("10.9.0.99")) {
			t.Error("source/dest check off: forged source address blocked")
		}
		if err := Apply(ctx, l.vpcPath(), d); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("fake DHCP server", func(t *testing.T) {
		if !l.udpDelivered(0, 1, 6767, 68) {
			t.Fatal("control datagram not delivered")
		}
		if l.udpDelivered(0, 1, 67, 68) {
			t.Error("a datagram from UDP port 67 (DHCP server) went through")
		}
	})
	t.Run("spoofed MAC", func(t *testing.T) {
		g := l.guests[0]
		run(t, "ip", "netns", "exec", g.ns, "ip", "link", "set", "eth0", "address", "02:00:00:00:00:99")
		defer run(t, "ip", "netns", "exec", g.ns, "ip", "link", "set", "eth0", "address", g.mac.String())
		l.expect(0, 1, 80, false)
	})
}

func TestApplyReplacesAndCheckDetectsDrift(t *testing.T) {
	l := newLab(t, 2)
	ctx := context.Background()
	in := func(args ...string) string {
		return run(t, append([]string{"ip", "netns", "exec", l.vpc}, args...)...)
	}
	in("nft", "add", "table", "inet", "other")
	in("nft", "add", "chain", "inet", "other", "c", "{ type filter hook input priority 0; policy accept; }")
	open := Group{ID: "sg-open", Egress: allowAllEgress(), Ingress: []Rule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{prefix("0.0.0.0/0")}}}}
	d := Desired{Interfaces: []Interface{l.iface(0, "sg-open"), l.iface(1, "sg-open")}, Groups: map[string]Group{"sg-open": open}}
	if drifted, err := Check(ctx, l.vpcPath(), d); err != nil || !drifted {
		t.Fatalf("before Apply: Check = %v, %v; want drift", drifted, err)
	}
	for range 2 {
		if err := Apply(ctx, l.vpcPath(), d); err != nil {
			t.Fatal(err)
		}
	}
	tables := in("nft", "list", "tables")
	for _, want := range []string{"table bridge kumo_sg", "table inet kumo_sg", "table inet other"} {
		if strings.Count(tables, want+"\n") != 1 {
			t.Errorf("nft list tables: want %q once, got\n%s", want, tables)
		}
	}
	if !strings.Contains(in("nft", "list", "table", "inet", "other"), "hook input") {
		t.Error("the other table's chain was disturbed")
	}
	why, err := Diff(ctx, l.vpcPath(), d)
	if err != nil || why != "" {
		t.Fatalf("after Apply: Diff = %q, %v; want no drift", why, err)
	}
	in("nft", "flush", "ruleset")
	if drifted, err := Check(ctx, l.vpcPath(), d); err != nil || !drifted {
		t.Fatalf("after flush: Check = %v, %v; want drift", drifted, err)
	}
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		t.Fatal(err)
	}
	in("sh", "-c", "echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables")
	if why, _ := Diff(ctx, l.vpcPath(), d); !strings.Contains(why, "bridge-nf-call-iptables") {
		t.Errorf("br_netfilter off: Diff = %q", why)
	}
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		t.Fatal(err)
	}
	// An edited element (another member) and a deleted rule are drift too.
	d2 := d
	d2.Interfaces = []Interface{l.iface(0, "sg-open")}
	if drifted, _ := Check(ctx, l.vpcPath(), d2); !drifted {
		t.Error("Check with a different desired state: no drift")
	}
	in("nft", "delete", "rule", "inet", "kumo_sg", "forward", "handle", firstHandle(t, in("nft", "-a", "list", "chain", "inet", "kumo_sg", "forward")))
	if drifted, _ := Check(ctx, l.vpcPath(), d); !drifted {
		t.Error("a deleted rule is not drift")
	}
}

func firstHandle(t *testing.T, listing string) string {
	for line := range strings.Lines(listing) {
		if i := strings.Index(line, "# handle "); i >= 0 && !strings.Contains(line, "chain ") {
			return strings.TrimSpace(line[i+len("# handle "):])
		}
	}
	t.Fatalf("no rule handle in\n%s", listing)
	return ""
}

// TestReplaceWhileTrafficFlows applies again and again (membership changes)
// while a guest keeps connecting: no connection may fail, as each Apply
// swaps whole tables in one transaction.
func TestReplaceWhileTrafficFlows(t *testing.T) {
	l := newLab(t, 2)
	ctx := context.Background()
	l.serve(1, 80)
	web := Group{ID: "sg-web", Egress: allowAllEgress(), Ingress: []Rule{{Protocol: "tcp", FromPort: 80, ToPort: 80, Groups: []string{"sg-web"}}}}
	d := Desired{
		Interfaces: []Interface{l.iface(0, "sg-web"), l.iface(1, "sg-web")},
		Groups:     map[string]Group{"sg-web": web},
		Members:    map[string][]netip.Addr{"sg-web": {l.guests[0].ip, l.guests[1].ip}},
	}
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		defer close(done)
		for i := range 40 {
			m := []netip.Addr{l.guests[0].ip, l.guests[1].ip, netip.AddrFrom4([4]byte{10, 9, 1, byte(i)})}
			dd := d
			dd.Members = map[string][]netip.Addr{"sg-web": m}
			if err := Apply(ctx, l.vpcPath(), dd); err != nil {
				done <- err
				return
			}
		}
	}()
	conns, failed := 0, 0
	for running := true; running; {
		select {
		case err, ok := <-done:
			if ok && err != nil {
				t.Fatal(err)
			}
			running = false
		default:
			conns++
			if !l.connect(0, 1, 80, netip.Addr{}) {
				failed++
			}
		}
	}
	t.Logf("%d connections during 40 replaces", conns)
	if failed > 0 || conns == 0 {
		t.Errorf("%d of %d connections failed during replaces", failed, conns)
	}
	tables := run(t, "ip", "netns", "exec", l.vpc, "nft", "list", "tables")
	if strings.Count(tables, "kumo_sg") != 2 {
		t.Errorf("tables after replaces:\n%s", tables)
	}
}
