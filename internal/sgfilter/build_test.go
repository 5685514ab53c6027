package sgfilter

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
)

func testDesired() Desired {
	return Desired{
		Interfaces: []Interface{
			{Tap: "tb", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, IPs: []netip.Addr{netip.MustParseAddr("10.0.0.12")}, Groups: []string{"sg-b"}, SourceDestCheck: true},
			{Tap: "ta", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, IPs: []netip.Addr{netip.MustParseAddr("10.0.0.11")}, Groups: []string{"sg-a", "sg-b"}},
		},
		Groups: map[string]Group{
			"sg-a": {ID: "sg-a",
				Ingress: []Rule{
					{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("2001:db8::/32")}},
					{Protocol: "icmp", FromPort: 8, ToPort: -1, CIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}},
				},
				Egress: []Rule{{Protocol: "udp", FromPort: 1000, ToPort: 2000, Groups: []string{"sg-b"}}},
			},
			"sg-b": {ID: "sg-b",
				Ingress: []Rule{{Protocol: "-1", Groups: []string{"sg-b"}}},
				Egress:  []Rule{{Protocol: "-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}},
			},
		},
		Members: map[string][]netip.Addr{"sg-b": {netip.MustParseAddr("10.0.0.12"), netip.MustParseAddr("10.0.0.11"), netip.MustParseAddr("10.0.0.12")}},
	}
}

func chain(t *testing.T, rs *Ruleset, fam nftables.TableFamily, name string) []string {
	t.Helper()
	for _, tb := range rs.Tables {
		if tb.Family != fam {
			continue
		}
		for _, c := range tb.Chains {
			if c.Name == name {
				var out []string
				for _, r := range c.Rules {
					out = append(out, r.Text)
				}
				return out
			}
		}
	}
	t.Fatalf("no chain %s in\n%s", name, rs)
	return nil
}

func set(t *testing.T, rs *Ruleset, fam nftables.TableFamily, name string) []string {
	t.Helper()
	for _, tb := range rs.Tables {
		for _, s := range tb.Sets {
			if tb.Family == fam && s.Name == name {
				var out []string
				for _, e := range s.Elements {
					out = append(out, e.Text)
				}
				return out
			}
		}
	}
	t.Fatalf("no set %s in\n%s", name, rs)
	return nil
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestBuildSecurityGroupChains(t *testing.T) {
	rs, err := Build(testDesired())
	if err != nil {
		t.Fatal(err)
	}
	inet := nftables.TableFamilyINet
	same(t, "forward", chain(t, rs, inet, "forward"), []string{
		"ct state established,related accept",
		"ct state invalid drop",
		"meta mark & 0x0000ffff vmap @egress",
		"meta mark & 0xffff0000 vmap @ingress_port",
		"meta nfproto ipv4 ip daddr vmap @ingress_addr",
	})
	// Interfaces are numbered in tap order: ta = 1, tb = 2.
	same(t, "ta ingress (sg-a ∪ sg-b)", chain(t, rs, inet, "in_1"), []string{
		"meta nfproto ipv4 ip saddr 192.168.0.0/16 meta l4proto 6 th dport 22 accept",
		"meta nfproto ipv6 ip6 saddr 2001:db8::/32 meta l4proto 6 th dport 22 accept",
		"meta nfproto ipv4 meta l4proto 1 icmp type 8 accept",
		"meta nfproto ipv4 ip saddr @sg-b accept",
		"drop",
	})
	same(t, "ta egress", chain(t, rs, inet, "eg_1"), []string{
		"meta nfproto ipv4 ip daddr @sg-b meta l4proto 17 th dport 1000-2000 return",
		"meta nfproto ipv4 return",
		"drop",
	})
	same(t, "tb ingress", chain(t, rs, inet, "in_2"), []string{"meta nfproto ipv4 ip saddr @sg-b accept", "drop"})
	same(t, "group set (sorted, no duplicates)", set(t, rs, inet, "sg-b"), []string{"10.0.0.11", "10.0.0.12"})
	same(t, "egress map", set(t, rs, inet, "egress"), []string{"0x00000001 : jump eg_1", "0x00000002 : jump eg_2"})
	same(t, "ingress by port", set(t, rs, inet, "ingress_port"), []string{"0x00010000 : goto in_1", "0x00020000 : goto in_2"})
	same(t, "ingress by address", set(t, rs, inet, "ingress_addr"), []string{"10.0.0.11 : goto in_1", "10.0.0.12 : goto in_2"})
}

func TestBuildAntiSpoofing(t *testing.T) {
	rs, err := Build(testDesired())
	if err != nil {
		t.Fatal(err)
	}
	br := nftables.TableFamilyBridge
	same(t, "prerouting", chain(t, rs, br, "prerouting"), []string{"meta mark set 0x00000000", "iifname vmap @ports_in"})
	same(t, "forward", chain(t, rs, br, "forward"), []string{"oifname vmap @ports_out"})
	same(t, "out_2", chain(t, rs, br, "out_2"), []string{"meta mark set meta mark & 0x0000ffff | 0x00020000"})
	tb := chain(t, rs, br, "port_2")
	same(t, "port_2 (source/dest check)", tb, []string{
		"ether saddr != 02:00:00:00:00:02 drop",
		"meta mark set 0x00000002",
		"ether type arp arp saddr ether != 02:00:00:00:00:02 drop",
		"ether type arp arp saddr ip 0.0.0.0 return",
		"ether type arp arp saddr ip != @ips_2 drop",
		"ether type arp return",
		"ether type ip meta l4proto 17 th sport 67 drop",
		"ether type ip ip saddr 0.0.0.0 meta l4proto 17 th sport 68 th dport 67 return",
		"ether type ip ip saddr != @ips_2 drop",
		"ether type ip return",
		"ether type ip6 meta l4proto 17 th sport 547 drop",
		"ether type ip6 meta l4proto 58 icmpv6 type 134 drop",
		"ether type ip6 return",
		"drop",
	})
	ta := chain(t, rs, br, "port_1")
	if slices.Contains(ta, "ether type ip ip saddr != @ips_1 drop") {
		t.Error("source/dest check off: source address still checked")
	}
	same(t, "ips_1", set(t, rs, br, "ips_1"), []string{"10.0.0.11"})
	same(t, "ports_in", set(t, rs, br, "ports_in"), []string{`"ta" : jump port_1`, `"tb" : jump port_2`})
}

func TestBuildRuleVariants(t *testing.T) {
	cases := []struct {
		rule Rule
		want string
	}{
		{Rule{Protocol: "tcp", FromPort: 0, ToPort: 65535, CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, "meta nfproto ipv4 ip saddr 10.0.0.0/8 meta l4proto 6 accept"},
		{Rule{Protocol: "udp", FromPort: -1, ToPort: -1, CIDRs: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32")}}, "meta nfproto ipv4 ip saddr 10.1.2.3/32 meta l4proto 17 accept"},
		{Rule{Protocol: "icmp", FromPort: -1, ToPort: -1, CIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}, "meta nfproto ipv4 meta l4proto 1 accept"},
		{Rule{Protocol: "icmp", FromPort: 3, ToPort: 4, CIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}, "meta nfproto ipv4 meta l4proto 1 icmp type 3 icmp code 4 accept"},
		{Rule{Protocol: "47", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.9/8")}}, "meta nfproto ipv4 ip saddr 10.0.0.0/8 meta l4proto 47 accept"},
		{Rule{Protocol: "6", FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}, "meta nfproto ipv4 meta l4proto 6 th dport 80 accept"},
	}
	for _, c := range cases {
		rs, err := permission(c.rule, true)
		if err != nil || len(rs) != 1 || rs[0].Text != c.want {
			t.Errorf("%+v: got %+v, %v; want %q", c.rule, rs, err, c.want)
		}
	}
	bad := []Rule{
		{Protocol: "sctpx"},
		{Protocol: "tcp", FromPort: 90, ToPort: 80, CIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}},
		{Protocol: "icmp", FromPort: 300, ToPort: -1, CIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}},
	}
	for _, r := range bad {
		if _, err := permission(r, true); err == nil {
			t.Errorf("%+v: no error", r)
		}
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	for name, d := range map[string]Desired{
		"unknown group": {Interfaces: []Interface{{Tap: "t", MAC: mac, Groups: []string{"sg-x"}}}},
		"bad mac":       {Interfaces: []Interface{{Tap: "t", MAC: mac[:3]}}},
		"ipv6 address":  {Interfaces: []Interface{{Tap: "t", MAC: mac, IPs: []netip.Addr{netip.MustParseAddr("::1")}}}},
		"duplicate tap": {Interfaces: []Interface{{Tap: "t", MAC: mac}, {Tap: "t", MAC: mac}}},
		"long tap":      {Interfaces: []Interface{{Tap: strings.Repeat("t", 16), MAC: mac}}},
	} {
		if _, err := Build(d); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestBuildNoGroupsDeniesAll(t *testing.T) {
	d := Desired{Interfaces: []Interface{{Tap: "t", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}}}}
	rs, err := Build(d)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "egress", chain(t, rs, nftables.TableFamilyINet, "eg_1"), []string{"drop"})
	same(t, "ingress", chain(t, rs, nftables.TableFamilyINet, "in_1"), []string{"drop"})
}
