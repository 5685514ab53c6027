//go:build linux

package guestnet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

// TestClaimPrefix: a running owner's prefix is refused to another, and
// Owners tells running owners from gone ones.
func TestClaimPrefix(t *testing.T) {
	dir := t.TempDir()
	c, err := ClaimPrefix(dir, Owner{Prefix: "ktown1", PID: os.Getpid(), DataDir: "/srv/a"})
	if err != nil {
		t.Fatal(err)
	}
	var inUse *InUseError
	if _, err := ClaimPrefix(dir, Owner{Prefix: "ktown1", PID: 1, DataDir: "/srv/b"}); !errors.As(err, &inUse) ||
		inUse.Owner.DataDir != "/srv/a" || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Fatalf("second claim: %v, want InUseError naming /srv/a and pid %d", err, os.Getpid())
	}
	owners, err := Owners(dir)
	if err != nil || len(owners) != 1 || !owners[0].Alive || owners[0].DataDir != "/srv/a" {
		t.Fatalf("owners = %+v, %v; want ktown1 alive", owners, err)
	}
	c.Release()
	if owners, _ := Owners(dir); len(owners) != 1 || owners[0].Alive {
		t.Fatalf("owners after release = %+v; want ktown1 recorded, not alive", owners)
	}
	c, err = ClaimPrefix(dir, Owner{Prefix: "ktown1", PID: os.Getpid(), DataDir: "/srv/b"})
	if err != nil {
		t.Fatalf("claim of a released prefix: %v", err)
	}
	if err := c.Forget(dir); err != nil {
		t.Fatal(err)
	}
	if owners, _ := Owners(dir); len(owners) != 0 {
		t.Fatalf("owners after forget = %+v", owners)
	}
}

// TestDeadOwnersRoutesTakenOver reproduces kumo dev's leftovers in a fake
// host namespace: owner A exposes its VPC (a host route to its CIDR) and
// publishes an address (route, proxy entry on the uplink, host table),
// then dies. B's VPC with the same CIDR is not exposed while A runs (the
// log names A), and takes A's host side over once A is gone; removing A's
// host state with its namespaces (kumo dev --reset) leaves B's alone.
func TestDeadOwnersRoutesTakenOver(t *testing.T) {
	requireNetns(t)
	host := "kthost-" + randomSuffix()
	addTestNetns(t, host)
	hostPath := defaultNetnsDir + "/" + host
	run(t, "ip", "-n", host, "link", "add", "ul0", "type", "veth", "peer", "name", "ul0p")
	run(t, "ip", "-n", host, "link", "set", "ul0", "up")
	run(t, "ip", "-n", host, "link", "set", "lo", "up")
	owners := t.TempDir()
	ctx := context.Background()
	const cidr, subnet = "10.72.0.0/16", "10.72.1.0/24"

	a, _ := nodeManagerExpose(t, hostPath, true)
	a.ownersDir = owners
	claimA, err := ClaimPrefix(owners, Owner{Prefix: a.prefix, PID: os.Getpid(), DataDir: "/srv/a", HostNetns: hostPath, Uplink: "ul0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.EnsureSubnet(ctx, testVPC, cidr, testSubnet, subnet, ""); err != nil {
		t.Fatal(err)
	}
	if err := a.EnsurePublic(ctx, "ul0", testPool, []PublicAddr{{VPCID: testVPC, Addr: testPublic}}); err != nil {
		t.Fatal(err)
	}
	rs, err := sgfilter.BuildHostPolicy(a.prefix, []string{a.HostPort(testVPC)}, "ul0")
	if err != nil {
		t.Fatal(err)
	}
	if err := sgfilter.ApplyRuleset(ctx, hostPath, rs); err != nil {
		t.Fatal(err)
	}
	routeDev := func(dst string) string {
		return run(t, "ip", "-n", host, "-4", "route", "show", "exact", dst)
	}
	if !strings.Contains(routeDev(cidr), a.HostPort(testVPC)) || !strings.Contains(routeDev(testPublic.String()), a.HostPort(testVPC)) {
		t.Fatalf("A's routes are not in place:\n%s", run(t, "ip", "-n", host, "route"))
	}

	b, bLogs := nodeManagerExpose(t, hostPath, true)
	b.ownersDir = owners
	if _, err := b.EnsureSubnet(ctx, testVPC, cidr, testSubnet, subnet, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(routeDev(cidr), a.HostPort(testVPC)) {
		t.Fatalf("B took the route of a running A:\n%s", routeDev(cidr))
	}
	if want := fmt.Sprintf("of the running kumo pid %d (data dir /srv/a)", os.Getpid()); !strings.Contains(bLogs.String(), want) {
		t.Errorf("B's overlap message does not name A (%q):\n%s", want, bLogs)
	}

	claimA.Release() // A dies
	if _, err := b.EnsureSubnet(ctx, testVPC, cidr, testSubnet, subnet, ""); err != nil {
		t.Fatal(err)
	}
	if got := routeDev(cidr); !strings.Contains(got, b.HostPort(testVPC)) {
		t.Fatalf("B's VPC route after A died = %q, want via %s; log:\n%s", got, b.HostPort(testVPC), bLogs)
	}
	if got := routeDev(testPublic.String()); got != "" {
		t.Errorf("A's published address is still routed: %q", got)
	}
	if got := run(t, "ip", "-n", host, "neigh", "show", "proxy"); strings.Contains(got, testPublic.String()) {
		t.Errorf("A's proxy entry stays: %q", got)
	}
	if got := run(t, "ip", "netns", "exec", host, "nft", "list", "tables"); strings.Contains(got, "kumo_public_"+a.prefix) {
		t.Errorf("A's host table stays: %q", got)
	}
	if !strings.Contains(bLogs.String(), "removed host routes left by a kumo that is no longer running") {
		t.Errorf("B did not log the takeover:\n%s", bLogs)
	}
	if ok, _ := isNetns(a.NetnsPath(testVPC)); !ok {
		t.Error("A's namespace was removed by the takeover; it stays for A's restart or reset")
	}

	// kumo dev --reset of A.
	claimA, err = ClaimPrefix(owners, Owner{Prefix: a.prefix, PID: os.Getpid(), DataDir: "/srv/a", HostNetns: hostPath})
	if err != nil {
		t.Fatal(err)
	}
	removed, err := a.RemoveHostState(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed.Namespaces) != 1 {
		t.Errorf("reset removed %s, want A's namespace", removed)
	}
	if ok, _ := isNetns(a.NetnsPath(testVPC)); ok {
		t.Error("A's namespace survived the reset")
	}
	if err := claimA.Forget(owners); err != nil {
		t.Fatal(err)
	}
	if got := routeDev(cidr); !strings.Contains(got, b.HostPort(testVPC)) {
		t.Errorf("A's reset took B's route: %q", got)
	}
}
