package sgfilter

import (
	"context"
	"net/netip"
	"testing"
)

// TestNetworkACLsStateless runs the ACLs on real nftables between veth
// "guests" in two subnets (10.9.0.0/24: guests 1 and 2, 10.9.1.0/24: the
// routed guest), with security groups that let everything through so that
// only the ACLs decide: a deny with a lower number beats a later allow,
// and the return traffic of an allowed connection needs its own entry.
func TestNetworkACLsStateless(t *testing.T) {
	l := newLab(t, 2)
	r := l.addRoutedGuest()
	ctx := context.Background()
	for i := range l.guests {
		l.serve(i, 80)
	}
	open := Group{ID: "sg-open", Egress: allowAllEgress(), Ingress: []Rule{{Protocol: "-1", CIDRs: []netip.Prefix{prefix("0.0.0.0/0")}}}}
	subnetB := SubnetACL{SubnetID: "subnet-b", CIDR: prefix("10.9.1.0/24"), Entries: []ACLEntry{
		{RuleNumber: 100, Protocol: "6", CIDR: prefix("10.9.0.11/32"), FromPort: 80, ToPort: 80},             // deny guest 1
		{RuleNumber: 110, Allow: true, Protocol: "6", CIDR: prefix("10.9.0.0/24"), FromPort: 80, ToPort: 80}, // allow its subnet
		{RuleNumber: 32767, Protocol: "-1", CIDR: prefix("0.0.0.0/0")},
		{RuleNumber: 32767, Egress: true, Protocol: "-1", CIDR: prefix("0.0.0.0/0")}, // nothing may leave
	}}
	d := Desired{
		Interfaces: []Interface{l.iface(0, "sg-open"), l.iface(1, "sg-open"), l.iface(r, "sg-open")},
		Groups:     map[string]Group{"sg-open": open},
		ACLs:       []SubnetACL{defaultACL("subnet-a", "10.9.0.0/24"), subnetB},
	}
	apply := func() {
		t.Helper()
		if err := Apply(ctx, l.vpcPath(), d); err != nil {
			t.Fatal(err)
		}
		if why, err := Diff(ctx, l.vpcPath(), d); err != nil || why != "" {
			t.Fatalf("installed ruleset differs right after Apply: %q %v", why, err)
		}
	}
	apply()
	l.expect(0, r, 80, false) // rule 100 denies guest 1 before rule 110 allows its subnet
	// Guest 2's SYN is let in by rule 110, but the SYN-ACK leaving the
	// subnet meets only "*": stateless, the reply needs an egress entry.
	l.expect(1, r, 80, false)
	l.expect(r, 0, 80, false) // and the routed guest cannot start anything either

	// A flushed ACL chain is drift (the agent re-applies what Diff finds).
	run(t, "ip", "netns", "exec", l.vpc, "nft", "flush", "chain", "inet", TableName, "nacl_in_2")
	if why, err := Diff(ctx, l.vpcPath(), d); err != nil || why == "" {
		t.Errorf("flushed nacl_in_2 not found as drift: %q %v", why, err)
	}
	apply()
	l.expect(0, r, 80, false)

	subnetB.Entries = append(subnetB.Entries, ACLEntry{RuleNumber: 100, Egress: true, Allow: true, Protocol: "6", CIDR: prefix("10.9.0.0/24"),
		FromPort: 1024, ToPort: 65535})
	d.ACLs[1] = subnetB
	apply()
	l.expect(1, r, 80, true)  // the replies to ephemeral ports may now leave
	l.expect(0, r, 80, false) // rule 100 still comes first
	l.expect(r, 0, 80, false) // a SYN to port 80 is not an ephemeral port

	// The deny moved after the allow: the allow decides.
	subnetB.Entries[0].RuleNumber = 120
	d.ACLs[1] = subnetB
	apply()
	l.expect(0, r, 80, true)

	// The client's side is stateless too: a first subnet that may send
	// anything but lets nothing in loses the replies, until an ingress
	// entry admits the ephemeral ports.
	d.ACLs[0] = SubnetACL{SubnetID: "subnet-a", CIDR: prefix("10.9.0.0/24"), Entries: []ACLEntry{
		{RuleNumber: 100, Egress: true, Allow: true, Protocol: "-1", CIDR: prefix("0.0.0.0/0")},
		{RuleNumber: 32767, Protocol: "-1", CIDR: prefix("0.0.0.0/0")},
		{RuleNumber: 32767, Egress: true, Protocol: "-1", CIDR: prefix("0.0.0.0/0")},
	}}
	apply()
	l.expect(0, r, 80, false)
	d.ACLs[0].Entries = append(d.ACLs[0].Entries, ACLEntry{RuleNumber: 100, Allow: true, Protocol: "6", CIDR: prefix("10.9.1.0/24"),
		FromPort: 1024, ToPort: 65535})
	apply()
	l.expect(0, r, 80, true)

	// A deny-all ACL on the first subnet: its guests still reach each
	// other (traffic inside a subnet is not filtered), not the other subnet.
	d.ACLs[0] = SubnetACL{SubnetID: "subnet-a", CIDR: prefix("10.9.0.0/24"), Entries: []ACLEntry{
		{RuleNumber: 32767, Protocol: "-1", CIDR: prefix("0.0.0.0/0")},
		{RuleNumber: 32767, Egress: true, Protocol: "-1", CIDR: prefix("0.0.0.0/0")},
	}}
	apply()
	l.expect(0, 1, 80, true)
	l.expect(1, 0, 80, true)
	l.expect(0, r, 80, false)

	// Without ACLs everything the groups allow passes again.
	d.ACLs = nil
	apply()
	l.expect(r, 0, 80, true)
	if t.Failed() {
		t.Log(run(t, "ip", "netns", "exec", l.vpc, "nft", "list", "ruleset"))
	}
}
