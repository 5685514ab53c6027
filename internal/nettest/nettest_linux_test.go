package nettest

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestHostsTCPAcrossUnderlay(t *testing.T) {
	hs := Hosts(t, 2)
	if hs[1].Underlay != netip.MustParseAddr("198.18.0.2") {
		t.Fatalf("second host's underlay = %s", hs[1].Underlay)
	}
	to := netip.AddrPortFrom(hs[1].Underlay, 5201)
	started := false
	n, err := TCPTransfer(hs[0].Path, hs[1].Path, to, 8, func() { started = true })
	if err != nil || n != 8*Chunk || !started {
		t.Fatalf("TCPTransfer = %d, %v (started %v), want %d bytes", n, err, started, 8*Chunk)
	}
	// The address lives only in the second host's namespace.
	if _, err := TCPTransfer(hs[0].Path, hs[0].Path, to, 1, func() {}); err == nil {
		t.Error("listened on the second host's address in the first host")
	}
}

func TestAddGuestOnBridge(t *testing.T) {
	RequireRoot(t)
	br := AddNetns(t, "ntbr-"+Suffix())
	name := NetnsName(t, br)
	Run(t, "ip", "-n", name, "link", "add", "br0", "type", "bridge")
	Run(t, "ip", "-n", name, "addr", "add", "10.77.0.1/24", "dev", "br0")
	Run(t, "ip", "-n", name, "link", "set", "br0", "up")
	gw := netip.MustParseAddr("10.77.0.1")
	a := AddGuest(t, br, "br0", netip.MustParsePrefix("10.77.0.10/24"), gw)
	b := AddGuest(t, br, "br0", netip.MustParsePrefix("10.77.0.11/24"), gw)
	if a.MAC.String() != "02:6b:0a:4d:00:0a" || a.IP != netip.MustParseAddr("10.77.0.10") {
		t.Errorf("guest a: MAC %s IP %s", a.MAC, a.IP)
	}
	if out := Run(t, "ip", "-n", a.Name, "link", "show", "eth0"); !strings.Contains(out, a.MAC.String()) {
		t.Errorf("eth0 of guest a does not have MAC %s:\n%s", a.MAC, out)
	}
	if out := Run(t, "ip", "-n", name, "link", "show", a.Port); !strings.Contains(out, "master br0") {
		t.Errorf("port of guest a not on br0:\n%s", out)
	}
	if n, err := TCPTransfer(a.Path, b.Path, netip.AddrPortFrom(b.IP, 0), 4, func() {}); err != nil || n != 4*Chunk {
		t.Errorf("TCPTransfer = %d, %v", n, err)
	}
}

func TestConnectsSeesDroppedPort(t *testing.T) {
	hs := Hosts(t, 2)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("skipping: needs nft on PATH")
	}
	Run(t, "ip", "netns", "exec", hs[1].Name, "nft", "add table inet t; add chain inet t in { type filter hook input priority 0; }; add rule inet t in tcp dport 5202 drop")
	for _, c := range []struct {
		port    uint16
		timeout time.Duration
		want    bool
	}{{5201, 10 * time.Second, true}, {5202, 300 * time.Millisecond, false}} {
		got, err := Connects(hs[0].Path, hs[1].Path, netip.AddrPortFrom(hs[1].Underlay, c.port), c.timeout)
		if err != nil || got != c.want {
			t.Errorf("Connects to port %d = %v, %v, want %v", c.port, got, err, c.want)
		}
	}
}

func TestInNetnsBadPath(t *testing.T) {
	if err := InNetns("/nonexistent/netns", func() error { return nil }); err == nil {
		t.Error("InNetns of a missing namespace succeeded")
	}
}
