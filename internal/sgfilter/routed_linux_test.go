package sgfilter

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"testing"
)

// addRoutedGuest puts a guest on a second bridge (subnet 10.9.1.0/24,
// gateway 10.9.1.1) of the VPC namespace, which routes between subnets.
func (l *lab) addRoutedGuest() int {
	t := l.t
	in := func(args ...string) { run(t, append([]string{"ip", "netns", "exec", l.vpc}, args...)...) }
	in("ip", "link", "add", "br1", "type", "bridge")
	in("ip", "addr", "add", "10.9.1.1/24", "dev", "br1")
	in("ip", "link", "set", "br1", "up")
	in("sysctl", "-qw", "net.ipv4.ip_forward=1")
	i := len(l.guests)
	g := guest{
		ns:  l.vpc + "r",
		tap: l.vpc + "r",
		mac: net.HardwareAddr{2, 0, 0, 0, 1, 1},
		ip:  netip.MustParseAddr("10.9.1.21"),
	}
	run(t, "ip", "netns", "add", g.ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", g.ns).Run() })
	run(t, "ip", "link", "add", g.tap, "netns", l.vpc, "type", "veth", "peer", "name", "eth0", "netns", g.ns)
	in("ip", "link", "set", g.tap, "master", "br1", "up")
	gin := func(args ...string) { run(t, append([]string{"ip", "netns", "exec", g.ns}, args...)...) }
	gin("ip", "link", "set", "eth0", "address", g.mac.String(), "up")
	gin("ip", "addr", "add", g.ip.String()+"/24", "dev", "eth0")
	gin("ip", "route", "add", "default", "via", "10.9.1.1")
	for _, o := range l.guests {
		run(t, "ip", "netns", "exec", o.ns, "ip", "route", "add", "default", "via", "10.9.0.1")
	}
	l.guests = append(l.guests, g)
	return i
}

// TestRoutedTrafficAndAgentServices covers traffic routed between two
// subnets (ingress found by destination address) and a guest reaching the
// agent's services on the gateway whatever its egress rules say.
func TestRoutedTrafficAndAgentServices(t *testing.T) {
	l := newLab(t, 2)
	r := l.addRoutedGuest()
	ctx := context.Background()
	for i := range l.guests {
		l.serve(i, 80)
	}
	// The "agent" listens on the gateway address in the VPC namespace.
	var agent net.Listener
	if err := inNetns(l.vpcPath(), func() (err error) {
		agent, err = net.Listen("tcp", "10.9.0.1:8080")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	go func() {
		for {
			c, err := agent.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	fromSubnet0 := Group{ID: "sg-a", Egress: allowAllEgress(), Ingress: []Rule{
		{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{prefix("10.9.0.11/32")}},
	}}
	none := Group{ID: "sg-none"} // no ingress, no egress
	d := Desired{
		Interfaces: []Interface{l.iface(0, "sg-none"), l.iface(1, "sg-none"), l.iface(r, "sg-a")},
		Groups:     map[string]Group{"sg-a": fromSubnet0, "sg-none": none},
	}
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		t.Fatal(err)
	}
	l.expect(r, 0, 80, false) // guest 1 has no ingress rule
	// guest 1 has no egress rule either: its routed connection is blocked...
	l.expect(0, r, 80, false)
	// ...but it still reaches the agent on its gateway.
	if !l.connectAddr(0, netip.MustParseAddrPort("10.9.0.1:8080"), netip.Addr{}) {
		t.Error("guest without egress rules cannot reach the agent")
	}
	d.Groups["sg-none"] = Group{ID: "sg-none", Egress: allowAllEgress()}
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		t.Fatal(err)
	}
	l.expect(0, r, 80, true)  // routed, allowed by the routed guest's CIDR rule
	l.expect(1, r, 80, false) // 10.9.0.12 is not in it
	if t.Failed() {
		t.Log(fmt.Sprint(run(t, "ip", "netns", "exec", l.vpc, "nft", "list", "ruleset")))
	}
}

// TestICMPRule: an icmp rule with type 8 (echo request) lets pings in and
// their replies back; without it pings are dropped.
func TestICMPRule(t *testing.T) {
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("needs busybox for ping")
	}
	l := newLab(t, 2)
	ctx := context.Background()
	ping := func() bool {
		return exec.Command("ip", "netns", "exec", l.guests[0].ns, "busybox", "ping", "-c", "1", "-W", "1", l.guests[1].ip.String()).Run() == nil
	}
	g := Group{ID: "sg-p", Egress: allowAllEgress()}
	d := Desired{Interfaces: []Interface{l.iface(0, "sg-p"), l.iface(1, "sg-p")}, Groups: map[string]Group{"sg-p": g}}
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		t.Fatal(err)
	}
	if ping() {
		t.Error("ping passed without an icmp rule")
	}
	g.Ingress = []Rule{{Protocol: "icmp", FromPort: 8, ToPort: -1, CIDRs: []netip.Prefix{prefix("0.0.0.0/0")}}}
	d.Groups["sg-p"] = g
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		t.Fatal(err)
	}
	if !ping() {
		t.Error("ping blocked with an icmp echo-request rule")
	}
	g.Ingress[0].FromPort = 0 // echo reply only: requests are not let in
	d.Groups["sg-p"] = g
	if err := Apply(ctx, l.vpcPath(), d); err != nil {
		t.Fatal(err)
	}
	if ping() {
		t.Error("ping passed with an icmp type 0 rule")
	}
}
