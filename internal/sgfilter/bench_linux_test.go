package sgfilter

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"testing"
	"time"
)

// bareNetns makes an empty namespace (no taps are needed to load rules).
func bareNetns(t testing.TB) string {
	needRoot(t)
	name := fmt.Sprintf("sgtb%d", time.Now().UnixNano()%1e6)
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	run(t, "ip", "netns", "exec", name, "ip", "link", "add", "br0", "type", "bridge")
	return "/run/netns/" + name
}

// bigDesired is n interfaces, each in its own group of rules rules, one of
// which references the next group.
func bigDesired(n, rules int) Desired {
	d := Desired{Groups: map[string]Group{}, Members: map[string][]netip.Addr{}}
	for i := range n {
		id := fmt.Sprintf("sg-%017x", i)
		ip := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		g := Group{ID: id, Egress: allowAllEgress()}
		for r := range rules - 1 {
			g.Ingress = append(g.Ingress, Rule{Protocol: "tcp", FromPort: 1000 + r, ToPort: 1000 + r,
				CIDRs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(r), 0}), 24)}})
		}
		g.Ingress = append(g.Ingress, Rule{Protocol: "-1", Groups: []string{fmt.Sprintf("sg-%017x", (i+1)%n)}})
		d.Groups[id] = g
		d.Members[id] = []netip.Addr{ip}
		d.Interfaces = append(d.Interfaces, Interface{Tap: fmt.Sprintf("t%d", i), MAC: net.HardwareAddr{2, 0, 0, 1, byte(i >> 8), byte(i)},
			IPs: []netip.Addr{ip}, Groups: []string{id}, SourceDestCheck: true})
	}
	return d
}

// TestEveryExpressionLoads applies rules of every kind (ranges, ICMP type
// and code, IPv6 CIDRs, group sets) to the kernel and checks them back.
func TestEveryExpressionLoads(t *testing.T) {
	ns := bareNetns(t)
	ctx := context.Background()
	for _, d := range []Desired{testDesired(), bigDesired(20, 10)} {
		if err := Apply(ctx, ns, d); err != nil {
			t.Fatal(err)
		}
		if why, err := Diff(ctx, ns, d); err != nil || why != "" {
			t.Fatalf("Diff = %q, %v", why, err)
		}
	}
	// nft itself can read what the library wrote.
	run(t, "ip", "netns", "exec", ns[len("/run/netns/"):], "nft", "list", "ruleset")
}

func BenchmarkApply100x10(b *testing.B) {
	ns := bareNetns(b)
	d := bigDesired(100, 10)
	ctx := context.Background()
	for b.Loop() {
		if err := Apply(ctx, ns, d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck100x10(b *testing.B) {
	ns := bareNetns(b)
	d := bigDesired(100, 10)
	ctx := context.Background()
	if err := Apply(ctx, ns, d); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if drifted, err := Check(ctx, ns, d); err != nil || drifted {
			b.Fatal(drifted, err)
		}
	}
}

// BenchmarkApplyToReachable measures, once, the time from calling Apply
// with a rule that opens a port to the first successful connection.
func BenchmarkApplyToReachable(b *testing.B) {
	l := newLab(b, 2)
	ctx := context.Background()
	l.serve(1, 80)
	closed := Group{ID: "sg-x", Egress: allowAllEgress()}
	d := Desired{Interfaces: []Interface{l.iface(0, "sg-x"), l.iface(1, "sg-x")}, Groups: map[string]Group{"sg-x": closed}}
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		b.Fatal(err)
	}
	if l.connect(0, 1, 80, netip.Addr{}) {
		b.Fatal("port open before the rule")
	}
	open := closed
	open.Ingress = []Rule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{prefix("10.9.0.0/24")}}}
	d.Groups = map[string]Group{"sg-x": open}
	var took time.Duration
	for b.Loop() {
		start := time.Now()
		if err := Apply(ctx, l.vpcPath(), d); err != nil {
			b.Fatal(err)
		}
		for !l.connect(0, 1, 80, netip.Addr{}) {
			if time.Since(start) > 5*time.Second {
				b.Fatal("port not reachable 5s after Apply")
			}
		}
		took = time.Since(start)
	}
	b.ReportMetric(float64(took.Microseconds()), "µs-to-reachable")
}
