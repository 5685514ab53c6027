//go:build linux

package guestnet

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/dhcpd"
)

// udhcpcScript configures the interface with what udhcpc was given, as a
// distribution's script would, and records it.
const udhcpcScript = `#!/bin/sh
case "$1" in
deconfig)
	ip -4 addr flush dev "$interface"
	;;
bound|renew)
	echo "ip=$ip mask=$mask router=$router staticroutes=$staticroutes" > "$DHCP_OUT"
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	set -- $staticroutes
	while [ $# -ge 2 ]; do
		ip route replace "$1" via "$2" dev "$interface"
		shift 2
	done
	;;
esac
`

// TestDHCPAndIMDSThroughBridge: a DHCP server on the subnet's bridge leases
// an address to busybox udhcpc in a guest, whose metadata request then
// reaches ListenIMDS by the route the lease gave it.
func TestDHCPAndIMDSThroughBridge(t *testing.T) {
	m, _ := testManager(t, false)
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("skipping: busybox not found (udhcpc is the DHCP client)")
	}
	ctx := context.Background()
	s, err := m.EnsureSubnet(ctx, testVPC, "10.69.0.0/16", testSubnet, "10.69.1.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	g := addGuest(t, s, "", "")
	const mac = "02:00:0a:45:01:17"
	run(t, "ip", "-n", g.name, "link", "set", "eth0", "address", mac)
	hw, _ := net.ParseMAC(mac)
	leases := dhcpd.NewStaticLeases(dhcpd.Lease{
		MAC:    hw,
		IP:     netip.MustParseAddr("10.69.1.23"),
		Prefix: netip.MustParsePrefix("10.69.1.0/24"),
		Router: s.Gateway.Addr(),
	})
	srv, err := dhcpd.New(s.Bridge, s.Gateway.Addr(), leases, nil, dhcpd.InNetns(s.Netns))
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("dhcp server did not stop")
		}
	})

	got := udhcpc(t, g.name)
	if !strings.Contains(got, "ip=10.69.1.23 ") || !strings.Contains(got, "router=10.69.1.1") ||
		!strings.Contains(got, "169.254.169.254/32 10.69.1.1") {
		t.Fatalf("lease = %q; want 10.69.1.23 via router 10.69.1.1 with a metadata route", got)
	}

	ln, err := m.ListenIMDS(ctx, testVPC)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 1)
	go serveOnce(ln, seen)
	if body := getFromGuest(t, g, "169.254.169.254:80", "/"); body != "ok\n" {
		t.Errorf("metadata body = %q", body)
	}
	if from := <-seen; !strings.HasPrefix(from, "10.69.1.23:") {
		t.Errorf("metadata request from %s, want the leased 10.69.1.23", from)
	}
}

// serveOnce answers one HTTP request on ln with "ok" and reports its
// source address, then closes ln.
func serveOnce(ln net.Listener, seen chan<- string) {
	defer ln.Close()
	c, err := ln.Accept()
	if err != nil {
		seen <- err.Error()
		return
	}
	defer c.Close()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	c.Read(buf) // the request fits one read here
	c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"))
	seen <- c.RemoteAddr().String()
}

// udhcpc runs busybox's DHCP client once on eth0 in the guest namespace
// and returns what its script was given.
func udhcpc(t *testing.T, guestNs string) string {
	t.Helper()
	dir := t.TempDir()
	script, out := dir+"/script", dir+"/lease"
	if err := os.WriteFile(script, []byte(udhcpcScript), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", guestNs, "busybox", "udhcpc",
		"-f", "-q", "-n", "-i", "eth0", "-t", "5", "-T", "1", "-s", script)
	cmd.Env = append(os.Environ(), "DHCP_OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("udhcpc: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("udhcpc got no lease: %v", err)
	}
	return strings.TrimSpace(string(b))
}
