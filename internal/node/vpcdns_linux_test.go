//go:build linux

package node

// The VPC resolver on a real host, as root: the agent's DHCP hands a
// "guest" (a namespace on a veth in the tap's place, running busybox's
// udhcpc and nslookup, as the demo guest does) the resolver and the
// domain, and the guest resolves its neighbour's private name (by the
// short name through the search domain) and its reverse, a public name
// and a name only the test's own upstream resolver on this host's
// loopback knows, at the VPC's base+2 and at 169.254.169.253, through the
// security groups (which let no UDP in). No DNS leaves the machine.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/vpcdns/vpcdnstest"
)

const leaseScript = `#!/bin/sh
[ "$1" = bound ] && printf 'dns=%s\ndomain=%s\nhostname=%s\n' "$dns" "$domain" "$hostname" >"$LEASE_OUT"
exit 0
`

// guestLease runs busybox udhcpc once in the guest namespace and returns
// the options its script was given (dns, domain, hostname).
func guestLease(t *testing.T, guestNs string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	script, out := filepath.Join(dir, "script"), filepath.Join(dir, "lease")
	if err := os.WriteFile(script, []byte(leaseScript), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", guestNs, "busybox", "udhcpc", "-f", "-q", "-n", "-i", "eth0", "-t", "5", "-T", "1", "-s", script)
	cmd.Env = append(os.Environ(), "LEASE_OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("udhcpc: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("udhcpc got no lease: %v", err)
	}
	lease := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		lease[k] = strings.TrimSpace(v)
	}
	return lease
}

// nslookup runs busybox nslookup in the guest namespace, which reads
// /etc/netns/<guest>/resolv.conf as its /etc/resolv.conf.
func nslookup(t *testing.T, guestNs string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", guestNs, "busybox", "nslookup"}, args...)...).CombinedOutput()
	if err != nil {
		t.Errorf("nslookup %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func dnsSpecAndVPC() (nodeapi.InstanceSpec, nodeapi.VPCNetwork) {
	s := realSpec("i-0123456789abcdea0", "10.7.1.10", "02:00:0a:07:01:0a")
	s.Network.DNS, s.Network.DomainName = []string{"10.7.0.2"}, "kumo-1.compute.internal"
	vpc := realVPC() // its group lets only ICMP in
	vpc.DNS = &nodeapi.VPCDNS{Region: "kumo-1", CIDR: "10.7.0.0/16", Support: true, Hostnames: true, Names: []nodeapi.DNSName{
		{PrivateIP: "10.7.1.10"},
		{PrivateIP: "10.7.1.20", PublicIP: "198.51.100.2"}, // the neighbour, on another node
	}}
	return s, vpc
}

func TestVPCResolverForAGuest(t *testing.T) {
	requireRootNet(t)
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("needs busybox (udhcpc, nslookup)")
	}
	upstream, asked := vpcdnstest.Upstream(t)
	h, mgr, _ := realHarness(t, "", "")
	hook := h.cfgHook
	h.cfgHook = func(c *Config) {
		hook(c)
		c.DNSUpstreams = []string{upstream}
		c.RepairInterval = time.Hour // plugGuest swaps the tap for a veth
	}
	h.start()
	spec, vpc := dnsSpecAndVPC()
	desired := func(vpc nodeapi.VPCNetwork) *nodeapi.Desired {
		d := *vpc.DNS
		vpc.DNS = &d // the agent keeps what it was sent
		return &nodeapi.Desired{NodeID: "n", Instances: []nodeapi.InstanceSpec{spec}, VPCs: []nodeapi.VPCNetwork{vpc},
			PublicPool: []string{"198.51.100.0/24"}}
	}
	h.srv.desired <- desired(vpc)
	h.srv.waitFor(t, spec.ID, nodeapi.ObservedRunning, 30*time.Second)
	ns := nsName(mgr, spec.Network.VPCID)
	waitUntil(t, "security groups", func() bool {
		out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").Output()
		return err == nil && strings.Contains(string(out), "table inet kumo_sg")
	})
	guest := plugGuest(t, ns, spec)

	lease := guestLease(t, guest)
	if lease["dns"] != "10.7.0.2" || lease["domain"] != "kumo-1.compute.internal" || lease["hostname"] != "ip-10-7-1-10" {
		t.Fatalf("DHCP lease %v: want dns 10.7.0.2, domain kumo-1.compute.internal, hostname ip-10-7-1-10", lease)
	}
	etc := filepath.Join("/etc/netns", guest)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	resolv := "search " + lease["domain"] + "\nnameserver " + lease["dns"] + "\n"
	if err := os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte(resolv), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ip-10-7-1-20"}, "Address: 10.7.1.20"}, // the short name, through the search domain
		{[]string{"ip-10-7-1-20.kumo-1.compute.internal", "169.254.169.253"}, "Address: 10.7.1.20"},
		{[]string{"10.7.1.20"}, "ip-10-7-1-20.kumo-1.compute.internal"},
		{[]string{"ip-10-7-1-10.kumo-1.compute.internal"}, "Address: 10.7.1.10"}, // its own, as local-hostname says
		{[]string{"ec2-198-51-100-2.kumo-1.compute.kumo"}, "Address: 10.7.1.20"}, // the VPC's own public name: the private address
		{[]string{"ec2-198-51-100-9.kumo-1.compute.kumo"}, "Address: 198.51.100.9"},
		{[]string{"upstream.example"}, "Address: 192.0.2.99"},
		{[]string{"upstream.example", "169.254.169.253"}, "Address: 192.0.2.99"},
	} {
		if out := nslookup(t, guest, c.args...); !strings.Contains(out, c.want) {
			t.Errorf("nslookup %s: want %q in\n%s", strings.Join(c.args, " "), c.want, out)
		}
	}
	if asked.Load() == 0 {
		t.Error("the upstream was never asked")
	}

	// A group that lets nothing out: the resolver is still reached (AWS's
	// security groups never filter the VPC's DNS either).
	closed := vpc
	closed.SecurityGroups = []nodeapi.SecurityGroup{{ID: vpc.SecurityGroups[0].ID}}
	egress := func() string {
		out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "chain", "inet", "kumo_sg", "eg_1").Output()
		return string(out)
	}
	open := egress()
	if !strings.Contains(open, "return") {
		t.Fatalf("egress chain with the allow-all rule:\n%s", open)
	}
	h.srv.desired <- desired(closed)
	waitUntil(t, "egress closed", func() bool { return !strings.Contains(egress(), "return") })
	if out := nslookup(t, guest, "ip-10-7-1-20"); !strings.Contains(out, "Address: 10.7.1.20") {
		t.Errorf("with no egress rule: nslookup ip-10-7-1-20:\n%s", out)
	}

	// enableDnsSupport off: the resolver is silent.
	vpc.DNS.Support = false
	h.srv.desired <- desired(vpc)
	waitUntil(t, "resolver silent", func() bool {
		_, err := askFrom(guest, "10.7.0.2:53", "ip-10-7-1-20.kumo-1.compute.internal.")
		return err != nil
	})
	vpc.DNS.Support = true
	h.srv.desired <- desired(vpc)
	waitUntil(t, "resolver back", func() bool {
		m, err := askFrom(guest, "169.254.169.253:53", "ip-10-7-1-20.kumo-1.compute.internal.")
		return err == nil && len(m.Answer) == 1
	})
}

// askFrom asks one A question from inside a namespace with the Go client.
func askFrom(guestNs, server, name string) (*dns.Msg, error) {
	var resp *dns.Msg
	err := guestnet.InNetns("/run/netns/"+guestNs, func() error {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		var err error
		resp, _, err = (&dns.Client{Timeout: 300 * time.Millisecond}).Exchange(m, server)
		return err
	})
	return resp, err
}
