//go:build linux

package guestnet

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

// TestSubnetRoutes: a subnet's routes to a next hop (a "NAT" guest on
// another subnet) and blackholes steer its guests' traffic; the VPC's own
// addresses still win; drift is found and repaired; no routes leave
// nothing behind.
func TestSubnetRoutes(t *testing.T) {
	m, _ := testManager(t, false)
	ctx := context.Background()
	a, err := m.EnsureSubnet(ctx, testVPC, "10.72.0.0/16", "subnet-aaaaaaaaaaaaaaaaa", "10.72.1.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.EnsureSubnet(ctx, testVPC, "10.72.0.0/16", "subnet-bbbbbbbbbbbbbbbbb", "10.72.2.0/24", "")
	if err != nil {
		t.Fatal(err)
	}
	client := addGuest(t, a, "10.72.1.10/24", "10.72.1.1")
	nat := addGuest(t, b, "10.72.2.10/24", "10.72.2.1")
	run(t, "ip", "-n", nat.name, "addr", "add", "192.0.2.1/32", "dev", "lo") // stands for the outside, behind the NAT guest
	vpcNs := nsName(a.Netns)
	routeGet := func(dst string) string {
		return run(t, "ip", "-n", vpcNs, "route", "get", dst, "from", "10.72.1.10", "iif", a.Bridge)
	}
	mustNotPing(t, client, "192.0.2.1")

	routes := []SubnetRoute{
		{Destination: netip.MustParsePrefix("192.0.2.0/24"), NextHop: netip.MustParseAddr("10.72.2.10")},
		{Destination: netip.MustParsePrefix("198.51.100.0/24")}, // blackhole
		{Destination: netip.MustParsePrefix("10.72.0.0/16"), NextHop: netip.MustParseAddr("10.72.2.10")},
	}
	if err := m.EnsureSubnetRoutes(ctx, a, routes); err != nil {
		t.Fatal(err)
	}
	mustPing(t, client, "192.0.2.1")
	if got := routeGet("192.0.2.1"); !strings.Contains(got, "via 10.72.2.10 dev "+b.Bridge) {
		t.Errorf("route to the outside: %s", got)
	}
	if got := run(t, "ip", "-n", vpcNs, "route", "show", "table", "all", "198.51.100.0/24"); !strings.HasPrefix(got, "blackhole 198.51.100.0/24") {
		t.Errorf("blackhole route: %q", got)
	}
	if out, err := exec.Command("ip", "-n", vpcNs, "route", "get", "198.51.100.1", "from", "10.72.1.10", "iif", a.Bridge).CombinedOutput(); err == nil {
		t.Errorf("a blackholed destination is routed: %s", out)
	}
	if got := routeGet("10.72.2.99"); strings.Contains(got, "via") {
		t.Errorf("the VPC's own subnet must win over a route to the NAT guest: %s", got)
	}
	if got := run(t, "ip", "-n", vpcNs, "route", "get", "192.0.2.1", "from", "10.72.2.10", "iif", b.Bridge); strings.Contains(got, "via 10.72.2.10") {
		t.Errorf("subnet b has no such route, yet: %s", got)
	}
	if drift, err := m.CheckSubnetRoutes(ctx, a, routes); err != nil || drift {
		t.Fatalf("drift right after Ensure: %v, %v", drift, err)
	}

	run(t, "ip", "-n", vpcNs, "rule", "del", "priority", "1001")
	run(t, "ip", "-n", vpcNs, "route", "del", "blackhole", "198.51.100.0/24", "table", fmt.Sprint(subnetTable(a.Bridge)))
	if drift, err := m.CheckSubnetRoutes(ctx, a, routes); err != nil || !drift {
		t.Fatalf("a deleted rule and route not seen: %v, %v", drift, err)
	}
	if err := m.EnsureSubnetRoutes(ctx, a, routes); err != nil {
		t.Fatal(err)
	}
	mustPing(t, client, "192.0.2.1")
	if drift, _ := m.CheckSubnetRoutes(ctx, a, routes); drift {
		t.Error("drift left after repair")
	}

	if err := m.EnsureSubnetRoutes(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	mustNotPing(t, client, "192.0.2.1")
	if out := run(t, "ip", "-n", vpcNs, "rule", "show"); strings.Contains(out, a.Bridge) {
		t.Errorf("rules left:\n%s", out)
	}
}
