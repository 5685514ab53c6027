package nettest

import (
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"testing"
)

// Host is a namespace standing in for a node's host namespace, with an
// underlay address on ul0, a veth to a switch shared by the hosts of one
// Hosts call.
type Host struct {
	Name, Path string
	Underlay   netip.Addr
}

// Hosts makes n hosts joined by a bridge in a switch namespace, with
// underlay addresses 198.18.0.1, .2, … /24 (RFC 2544's benchmarking
// range). IPv6 is off in the switch and the hosts, so that the underlay
// carries only the traffic tests make. All is deleted when t ends.
func Hosts(t testing.TB, n int) []Host {
	t.Helper()
	RequireRoot(t)
	if _, err := exec.LookPath("sysctl"); err != nil {
		t.Skip("skipping: needs sysctl on PATH")
	}
	sw := "ntsw-" + Suffix()
	addNetnsNoIPv6(t, sw)
	Run(t, "ip", "-n", sw, "link", "add", "br0", "type", "bridge")
	Run(t, "ip", "-n", sw, "link", "set", "br0", "up")
	hosts := make([]Host, n)
	for i := range hosts {
		h := Host{Name: "nthost-" + Suffix(), Underlay: netip.AddrFrom4([4]byte{198, 18, 0, byte(i + 1)})}
		h.Path = addNetnsNoIPv6(t, h.Name)
		port := fmt.Sprintf("p%d", i)
		Run(t, "ip", "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "ul0", "netns", h.Name)
		Run(t, "ip", "-n", sw, "link", "set", port, "master", "br0", "up")
		Run(t, "ip", "-n", h.Name, "addr", "add", h.Underlay.String()+"/24", "dev", "ul0")
		Run(t, "ip", "-n", h.Name, "link", "set", "ul0", "up")
		hosts[i] = h
	}
	return hosts
}

func addNetnsNoIPv6(t testing.TB, name string) string {
	t.Helper()
	path := AddNetns(t, name)
	Run(t, "ip", "netns", "exec", name, "sysctl", "-qw",
		"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	return path
}

// Guest is a namespace standing in for a QEMU guest: its eth0 is a veth
// whose other end, Port, is a port of a bridge, as the guest's tap would
// be.
type Guest struct {
	Name, Path string
	// Port is the bridge-side end of the veth, in the bridge's namespace.
	Port string
	MAC  net.HardwareAddr
	IP   netip.Addr
}

// AddGuest makes a guest with address ip on eth0 and a default route via
// gateway (if valid), plugged into bridge in the namespace at bridgeNetns
// (under NetnsDir). Its MAC is 02:6b followed by the four bytes of ip, so
// guests of one network have distinct MACs. All is deleted when t ends.
func AddGuest(t testing.TB, bridgeNetns, bridge string, ip netip.Prefix, gateway netip.Addr) Guest {
	t.Helper()
	a := ip.Addr().As4()
	g := Guest{Name: "ntguest-" + Suffix(), Port: "gv" + Suffix(), MAC: net.HardwareAddr{0x02, 0x6b, a[0], a[1], a[2], a[3]}, IP: ip.Addr()}
	g.Path = AddNetns(t, g.Name)
	brNs := NetnsName(t, bridgeNetns)
	Run(t, "ip", "-n", brNs, "link", "add", g.Port, "type", "veth", "peer", "name", "eth0", "netns", g.Name)
	Run(t, "ip", "-n", brNs, "link", "set", g.Port, "master", bridge, "up")
	Run(t, "ip", "-n", g.Name, "link", "set", "eth0", "address", g.MAC.String(), "up")
	Run(t, "ip", "-n", g.Name, "addr", "add", ip.String(), "dev", "eth0")
	if gateway.IsValid() {
		Run(t, "ip", "-n", g.Name, "route", "add", "default", "via", gateway.String())
	}
	return g
}
