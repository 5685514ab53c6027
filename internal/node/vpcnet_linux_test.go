//go:build linux

package node

// The agent's network layer on a real host, as root, without QEMU: a fake
// hypervisor, but guestnet's namespaces, bridges and taps and sgfilter's
// nftables. A flushed ruleset and a deleted bridge come back by the repair
// loop.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

func requireRootNet(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces and nftables")
	}
	for _, tool := range []string{"ip", "nft", "ping"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
}

func randHex() string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// realSpec is testSpec with AWS-shaped ids guestnet accepts.
func realSpec(id, ip, mac string) nodeapi.InstanceSpec {
	s := testSpec()
	s.ID = id
	s.SecurityGroupIDs = []string{"sg-0123456789abcdef0"}
	s.Network = nodeapi.NetworkInterface{InterfaceID: "eni-0123456789abcdef0", MAC: mac, PrivateIP: ip,
		SubnetID: "subnet-0123456789abcdef0", SubnetCIDR: "10.7.1.0/24", Gateway: "10.7.1.1",
		VPCID: "vpc-0123456789abcdef0", VPCCIDR: "10.7.0.0/16"}
	return s
}

func realVPC() nodeapi.VPCNetwork {
	return nodeapi.VPCNetwork{VPCID: "vpc-0123456789abcdef0", VNI: 4242, SecurityGroups: []nodeapi.SecurityGroup{{
		ID:      "sg-0123456789abcdef0",
		Ingress: []nodeapi.SGRule{{Protocol: "icmp", FromPort: -1, ToPort: -1, CIDRs: []string{"10.7.0.0/16"}}},
		Egress:  []nodeapi.SGRule{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}},
	}}}
}

// realHarness runs an agent with a fake hypervisor and a real guestnet
// Manager (its own prefix; hostNetns "" = this process's namespace).
func realHarness(t *testing.T, hostNetns, underlay string) (*harness, *guestnet.Manager, *prometheus.Registry) {
	prefix := "kt" + randHex()
	mgr, err := guestnet.New(guestnet.Config{Prefix: prefix, HostNetns: hostNetns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mgr.DeleteVPC(context.Background(), "vpc-0123456789abcdef0")
		if hostNetns == "" {
			// The agent's host forwarding policy lives in this namespace:
			// leave no table of the test behind on the machine.
			exec.Command("nft", "delete", "table", "inet", sgfilter.PublicTableName+"_"+prefix).Run()
		}
	})
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	h.cfgHook = func(c *Config) {
		c.Network, c.Metrics = GuestNet{mgr}, reg
		if underlay != "" {
			c.Underlay = mustAddr(underlay)
		}
	}
	return h, mgr, reg
}

func nsName(mgr *guestnet.Manager, vpcID string) string {
	p := mgr.NetnsPath(vpcID)
	return p[strings.LastIndex(p, "/")+1:]
}

func TestRepairRealNetwork(t *testing.T) {
	requireRootNet(t)
	h, mgr, reg := realHarness(t, "", "")
	h.start()
	spec := realSpec(testID, "10.7.1.5", "02:00:0a:07:01:05")
	h.srv.desired <- &nodeapi.Desired{NodeID: "n-1", Instances: []nodeapi.InstanceSpec{spec}, VPCs: []nodeapi.VPCNetwork{realVPC()}}
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	ns := nsName(mgr, spec.Network.VPCID)
	ruleset := func() string { return sh(t, "ip", "netns", "exec", ns, "nft", "list", "ruleset") }
	waitUntil(t, "security groups installed", func() bool { return strings.Contains(ruleset(), "table inet kumo_sg") })

	sh(t, "ip", "netns", "exec", ns, "nft", "flush", "ruleset")
	if strings.Contains(ruleset(), "kumo_sg") {
		t.Fatal("flush left the tables")
	}
	waitUntil(t, "ruleset restored within 5 s", func() bool {
		return strings.Contains(ruleset(), "table inet kumo_sg") && strings.Contains(ruleset(), "table bridge kumo_sg")
	})
	waitUntil(t, "security_groups repair counted", func() bool { return repairs(t, reg, "security_groups") == 1 })

	bridge := bridgeOf(t, ns, guestnet.TapName(testID))
	sh(t, "ip", "-n", ns, "link", "del", bridge)
	waitUntil(t, "bridge and tap restored within 5 s", func() bool { return bridgeOf(t, ns, guestnet.TapName(testID)) == bridge })
	if n := repairs(t, reg, "bridge"); n != 1 {
		t.Errorf("repairs{bridge} = %v", n)
	}
	if n := repairs(t, reg, "overlay"); n != 0 {
		t.Errorf("repairs{overlay} = %v without an underlay", n)
	}
}

// bridgeOf is the master of a link in a namespace ("" when none).
func bridgeOf(t *testing.T, ns, link string) string {
	out, err := exec.Command("ip", "-n", ns, "-j", "link", "show", "dev", link).Output()
	if err != nil {
		return ""
	}
	var ls []struct {
		Master string `json:"master"`
	}
	if json.Unmarshal(out, &ls) != nil || len(ls) != 1 {
		return ""
	}
	return ls[0].Master
}

// serialNet serialises ApplyFilter between the agents of one test
// process (github.com/google/nftables allocates set ids from a package
// variable without a lock).
type serialNet struct {
	Network
	mu *sync.Mutex
}

func (n serialNet) ApplyFilter(ctx context.Context, vpcID string, d sgfilter.Desired) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.Network.ApplyFilter(ctx, vpcID, d)
}

// fakeHost is a namespace standing in for a node's host namespace.
type fakeHost struct{ name, path, underlay string }

// twoHosts makes two host namespaces joined by a veth underlay,
// 198.18.0.1/24 and 198.18.0.2/24.
func twoHosts(t *testing.T) [2]fakeHost {
	var hs [2]fakeHost
	for i := range hs {
		hs[i] = fakeHost{name: "kth" + randHex(), underlay: fmt.Sprintf("198.18.0.%d", i+1)}
		hs[i].path = "/run/netns/" + hs[i].name
		sh(t, "ip", "netns", "add", hs[i].name)
		name := hs[i].name
		t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
		sh(t, "ip", "-n", name, "link", "set", "lo", "up")
	}
	sh(t, "ip", "-n", hs[0].name, "link", "add", "ul0", "type", "veth", "peer", "name", "ul0", "netns", hs[1].name)
	for _, h := range hs {
		sh(t, "ip", "-n", h.name, "addr", "add", h.underlay+"/24", "dev", "ul0")
		sh(t, "ip", "-n", h.name, "link", "set", "ul0", "up")
	}
	return hs
}

// plugGuest replaces an instance's tap with a veth whose other end is
// eth0 of a new namespace (the "guest") with the instance's MAC and IP.
func plugGuest(t *testing.T, vpcNs string, s nodeapi.InstanceSpec) string {
	tap := guestnet.TapName(s.ID)
	bridge := bridgeOf(t, vpcNs, tap)
	if bridge == "" {
		t.Fatalf("tap %s is on no bridge", tap)
	}
	g := "ktg" + randHex()
	sh(t, "ip", "netns", "add", g)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", g).Run() })
	sh(t, "ip", "-n", vpcNs, "link", "del", tap)
	sh(t, "ip", "-n", vpcNs, "link", "add", tap, "type", "veth", "peer", "name", "eth0", "netns", g)
	sh(t, "ip", "-n", vpcNs, "link", "set", tap, "master", bridge, "up")
	sh(t, "ip", "-n", g, "link", "set", "lo", "up")
	sh(t, "ip", "-n", g, "link", "set", "eth0", "address", s.Network.MAC, "up")
	sh(t, "ip", "-n", g, "addr", "add", s.Network.PrivateIP+"/24", "dev", "eth0")
	sh(t, "ip", "-n", g, "route", "add", "default", "via", s.Network.Gateway)
	return g
}

func TestTwoHostsOverlay(t *testing.T) {
	requireRootNet(t)
	hosts := twoHosts(t)
	specs := [2]nodeapi.InstanceSpec{
		realSpec("i-0123456789abcdea0", "10.7.1.10", "02:00:0a:07:01:0a"),
		realSpec("i-0123456789abcdeb0", "10.7.1.20", "02:00:0a:07:01:14"),
	}
	var applyMu sync.Mutex // nftables' set ids are a package global: one Apply at a time
	var guests [2]string
	var mgrs [2]*guestnet.Manager
	var hs [2]*harness
	for i := range hosts {
		h, mgr, _ := realHarness(t, hosts[i].path, hosts[i].underlay)
		hook := h.cfgHook
		h.cfgHook = func(c *Config) {
			hook(c)
			c.Network = serialNet{c.Network, &applyMu}
			c.RepairInterval = time.Hour // plugGuest swaps the tap for a veth
		}
		h.start()
		hs[i], mgrs[i] = h, mgr
	}
	for i := range hosts {
		other := 1 - i
		vpc := realVPC()
		vpc.Peers = []nodeapi.OverlayPeer{{Underlay: hosts[other].underlay, Guests: []string{specs[other].Network.PrivateIP}}}
		vpc.SecurityGroups[0].Members = []string{"10.7.1.10", "10.7.1.20"}
		hs[i].srv.desired <- &nodeapi.Desired{NodeID: "n", Instances: []nodeapi.InstanceSpec{specs[i]}, VPCs: []nodeapi.VPCNetwork{vpc}}
	}
	for i := range hosts {
		hs[i].srv.waitFor(t, specs[i].ID, nodeapi.ObservedRunning, 30*time.Second)
		ns := nsName(mgrs[i], specs[i].Network.VPCID)
		waitUntil(t, "overlay and security groups", func() bool {
			out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").Output()
			routes, _ := exec.Command("ip", "-n", ns, "route", "show", "dev", "vxlan-vpc").Output()
			return err == nil && strings.Contains(string(out), "table inet kumo_sg") && strings.Contains(string(routes), specs[1-i].Network.PrivateIP)
		})
		guests[i] = plugGuest(t, ns, specs[i])
	}
	for i := range hosts {
		target := specs[1-i].Network.PrivateIP
		waitUntil(t, "ping "+target, func() bool {
			return exec.Command("ip", "netns", "exec", guests[i], "ping", "-c", "1", "-W", "1", target).Run() == nil
		})
	}

	// Host B's security group stops letting ICMP in: A's pings fail.
	vpc := realVPC()
	vpc.Peers = []nodeapi.OverlayPeer{{Underlay: hosts[0].underlay, Guests: []string{specs[0].Network.PrivateIP}}}
	vpc.SecurityGroups[0].Ingress = nil
	hs[1].srv.desired <- &nodeapi.Desired{NodeID: "n", Instances: []nodeapi.InstanceSpec{specs[1]}, VPCs: []nodeapi.VPCNetwork{vpc}}
	waitUntil(t, "ping blocked by B's security group", func() bool {
		return exec.Command("ip", "netns", "exec", guests[0], "ping", "-c", "1", "-W", "1", specs[1].Network.PrivateIP).Run() != nil
	})
	if err := exec.Command("ip", "netns", "exec", guests[1], "ping", "-c", "1", "-W", "1", specs[0].Network.PrivateIP).Run(); err != nil {
		t.Errorf("B to A (egress allowed, A lets ICMP in) fails: %v", err)
	}
}
