package sgfilter

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/nftables"
)

func naclPfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// defaultACL is AWS's default ACL: 100 allow all, "*" deny, both ways.
func defaultACL(subnet, cidr string) SubnetACL {
	a := SubnetACL{SubnetID: subnet, CIDR: naclPfx(cidr)}
	for _, eg := range []bool{false, true} {
		a.Entries = append(a.Entries,
			ACLEntry{RuleNumber: 32767, Egress: eg, Protocol: "-1", CIDR: naclPfx("0.0.0.0/0")},
			ACLEntry{RuleNumber: 100, Egress: eg, Allow: true, Protocol: "-1", CIDR: naclPfx("0.0.0.0/0")})
	}
	return a
}

func naclDesired() Desired {
	d := testDesired()
	d.ACLs = []SubnetACL{
		defaultACL("subnet-b", "10.0.2.0/24"),
		{SubnetID: "subnet-a", CIDR: naclPfx("10.0.0.0/24"), Entries: []ACLEntry{
			{RuleNumber: 110, Allow: true, Protocol: "6", CIDR: naclPfx("0.0.0.0/0"), FromPort: 22, ToPort: 22},
			{RuleNumber: 100, Protocol: "6", CIDR: naclPfx("10.0.2.0/24"), FromPort: 22, ToPort: 22},
			{RuleNumber: 120, Allow: true, Protocol: "1", CIDR: naclPfx("0.0.0.0/0"), FromPort: 8, ToPort: -1},
			{RuleNumber: 130, Allow: true, Protocol: "17", CIDR: naclPfx("2001:db8::/32"), FromPort: 53, ToPort: 53},
			{RuleNumber: 140, Allow: true, Protocol: "-1", CIDR: naclPfx("192.168.0.0/16")},
			{RuleNumber: 32767, Protocol: "-1", CIDR: naclPfx("0.0.0.0/0")},
			{RuleNumber: 100, Egress: true, Allow: true, Protocol: "tcp", CIDR: naclPfx("0.0.0.0/0"), FromPort: 1024, ToPort: 65535},
			{RuleNumber: 90, Egress: true, Protocol: "17", CIDR: naclPfx("10.0.2.7/32"), FromPort: -1, ToPort: -1},
		}},
	}
	return d
}

// TestBuildNetworkACLs checks the generated chains as text: subnets by id,
// entries by rule number (deny drops, allow returns), "*" last, IPv6
// entries and the default ACL's allow-all directions left out.
func TestBuildNetworkACLs(t *testing.T) {
	rs, err := Build(naclDesired())
	if err != nil {
		t.Fatal(err)
	}
	same(t, "nacl", chain(t, rs, nftables.TableFamilyINet, "nacl"), []string{
		"meta nfproto ipv4 ip saddr 10.0.0.0/24 ip daddr != 10.0.0.0/24 jump nacl_out_1",
		"meta nfproto ipv4 ip daddr 10.0.0.0/24 ip saddr != 10.0.0.0/24 jump nacl_in_1",
	})
	same(t, "nacl_out_1", chain(t, rs, nftables.TableFamilyINet, "nacl_out_1"), []string{
		"ip daddr 10.0.2.7/32 meta l4proto 17 drop",
		"meta l4proto 6 th dport 1024-65535 return",
		"drop",
	})
	same(t, "nacl_in_1", chain(t, rs, nftables.TableFamilyINet, "nacl_in_1"), []string{
		"ip saddr 10.0.2.0/24 meta l4proto 6 th dport 22 drop",
		"meta l4proto 6 th dport 22 return",
		"meta l4proto 1 icmp type 8 return",
		"ip saddr 192.168.0.0/16 return",
		"drop",
	})
	text := rs.String()
	if strings.Contains(text, "nacl_out_2") || strings.Contains(text, "nacl_in_2") {
		t.Errorf("the default ACL's subnet got chains:\n%s", text)
	}
	if !strings.Contains(text, "chain nacl {\n    type filter hook 2 priority -10 policy accept\n") {
		t.Errorf("nacl base chain hook or priority:\n%s", text)
	}
	// The security groups' chains are unchanged.
	plain, err := Build(testDesired())
	if err != nil {
		t.Fatal(err)
	}
	same(t, "forward", chain(t, rs, nftables.TableFamilyINet, "forward"), chain(t, plain, nftables.TableFamilyINet, "forward"))
}

func TestBuildNetworkACLsDefaultOnly(t *testing.T) {
	d := testDesired()
	d.ACLs = []SubnetACL{defaultACL("subnet-a", "10.0.0.0/24")}
	rs, err := Build(d)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Build(testDesired())
	if err != nil {
		t.Fatal(err)
	}
	if rs.String() != plain.String() {
		t.Errorf("a default ACL changed the ruleset:\n%s", rs)
	}
	// A default ACL whose allow-all rule was removed denies everything.
	d.ACLs[0].Entries = d.ACLs[0].Entries[:3]
	if rs, err = Build(d); err != nil {
		t.Fatal(err)
	}
	same(t, "nacl_out_1", chain(t, rs, nftables.TableFamilyINet, "nacl_out_1"), []string{"drop"})
}

func TestBuildNetworkACLsInvalid(t *testing.T) {
	for name, acls := range map[string][]SubnetACL{
		"ipv6 subnet":  {{SubnetID: "s", CIDR: naclPfx("2001:db8::/64")}},
		"twice":        {defaultACL("s", "10.0.0.0/24"), defaultACL("s", "10.0.0.0/24")},
		"rule 0":       {{SubnetID: "s", CIDR: naclPfx("10.0.0.0/24"), Entries: []ACLEntry{{RuleNumber: 0, Protocol: "-1", CIDR: naclPfx("0.0.0.0/0")}}}},
		"bad protocol": {{SubnetID: "s", CIDR: naclPfx("10.0.0.0/24"), Entries: []ACLEntry{{RuleNumber: 1, Protocol: "x", CIDR: naclPfx("0.0.0.0/0")}}}},
		"bad ports": {{SubnetID: "s", CIDR: naclPfx("10.0.0.0/24"), Entries: []ACLEntry{{RuleNumber: 1, Protocol: "6", CIDR: naclPfx("0.0.0.0/0"),
			FromPort: 10, ToPort: 5}}}},
	} {
		d := testDesired()
		d.ACLs = acls
		if _, err := Build(d); err == nil {
			t.Errorf("%s: built", name)
		}
	}
}
