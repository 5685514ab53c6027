package sgfilter

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// Network ACLs, as EC2 has them: each subnet has one ACL, a list of
// numbered entries per direction evaluated lowest number first, the first
// match deciding (allow or deny), and "*" denying what no entry matched.
// They are stateless: a reply is judged like any other packet, so the
// return traffic of an allowed flow needs an entry of its own.
//
// In the namespace they live in the inet kumo_sg table, as one base chain
// on the forward hook that runs before the security groups' (priority -10,
// so before their "ct state established accept"):
//
//	chain nacl (hook forward priority -10)
//	  meta nfproto ipv4 ip saddr 10.0.1.0/24 ip daddr != 10.0.1.0/24 jump nacl_out_1
//	  meta nfproto ipv4 ip daddr 10.0.1.0/24 ip saddr != 10.0.1.0/24 jump nacl_in_1
//	  … the same for every other subnet
//	chain nacl_out_1: the egress entries, in rule-number order
//	  ip daddr 10.0.2.0/24 meta l4proto 6 th dport 22 drop      (deny)
//	  meta l4proto 6 th dport 1024-65535 return                 (allow)
//	  drop                                                      ("*")
//
// Egress is traffic leaving the subnet (source inside, destination
// outside), ingress traffic entering it; traffic between two addresses of
// one subnet is not filtered, as in EC2. An allowed packet returns to the
// base chain, so a packet from one subnet to another is checked against the
// egress of the first and the ingress of the second, and then by the
// security groups. Matching by address covers every path a packet takes in
// the namespace: bridge to bridge on the node, to and from the overlay
// (other nodes), the host and the public path (after its DNAT, before its
// SNAT). A subnet whose ACL allows all IPv4 in a direction before anything
// else (the default ACL) gets no rule for that direction. Only IPv4 is
// filtered (the overlay carries IPv4 only); IPv6 entries are left out.

// SubnetACL is the network ACL of one subnet.
type SubnetACL struct {
	SubnetID string
	// CIDR is the subnet's IPv4 range.
	CIDR netip.Prefix
	// Entries in any order; Build sorts them by rule number.
	Entries []ACLEntry
}

// ACLEntry is one numbered entry of a network ACL.
type ACLEntry struct {
	RuleNumber int // 1..32766; 32767 ("*") is implied and may be given
	Egress     bool
	Allow      bool
	// Protocol is "-1" (all), a protocol number or a name parseProtocol knows.
	Protocol string
	// CIDR is the peer range: the destination of egress, the source of
	// ingress traffic.
	CIDR netip.Prefix
	// FromPort and ToPort are the destination port range for tcp and udp
	// (-1: all); for icmp the type and code (-1: any).
	FromPort, ToPort int
}

// naclPriority runs the ACLs before the security groups' forward chain.
var naclPriority = nftables.ChainPriorityRef(-10)

func validateACLs(acls []SubnetACL) error {
	seen := map[string]bool{}
	for _, a := range acls {
		if a.SubnetID == "" || seen[a.SubnetID] {
			return fmt.Errorf("network acl of subnet %q: missing or repeated subnet id", a.SubnetID)
		}
		seen[a.SubnetID] = true
		if !a.CIDR.IsValid() || !a.CIDR.Addr().Is4() {
			return fmt.Errorf("network acl of subnet %s: CIDR %s is not IPv4", a.SubnetID, a.CIDR)
		}
		for _, e := range a.Entries {
			if err := e.Validate(); err != nil {
				return fmt.Errorf("network acl of subnet %s: %w", a.SubnetID, err)
			}
		}
	}
	return nil
}

// Validate reports why Build would refuse the entry.
func (e ACLEntry) Validate() error {
	if e.RuleNumber < 1 || e.RuleNumber > 32767 || !e.CIDR.IsValid() {
		return fmt.Errorf("entry %d: bad rule number or CIDR", e.RuleNumber)
	}
	proto, err := parseProtocol(e.Protocol)
	if err != nil {
		return fmt.Errorf("entry %d: %w", e.RuleNumber, err)
	}
	if err := matchProto(new(rb), proto, e.FromPort, e.ToPort); err != nil {
		return fmt.Errorf("entry %d: %w", e.RuleNumber, err)
	}
	return nil
}

// aclEntries are the IPv4 entries of one direction, by rule number, "*" left out.
func aclEntries(a SubnetACL, egress bool) []ACLEntry {
	var out []ACLEntry
	for _, e := range a.Entries {
		if e.Egress == egress && e.CIDR.Addr().Is4() && e.RuleNumber < 32767 {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(x, y ACLEntry) int { return cmp.Compare(x.RuleNumber, y.RuleNumber) })
	return out
}

// allowsAll reports whether the first entry lets every IPv4 packet through.
func allowsAll(entries []ACLEntry) bool {
	if len(entries) == 0 {
		return false
	}
	e := entries[0]
	p, err := parseProtocol(e.Protocol)
	return err == nil && e.Allow && p == protoAll && e.CIDR.Bits() == 0
}

// buildACLs makes the nacl base chain and one chain per filtered
// direction of each subnet (none when no subnet is filtered).
func buildACLs(acls []SubnetACL) ([]Chain, error) {
	if err := validateACLs(acls); err != nil {
		return nil, err
	}
	acls = slices.Clone(acls)
	slices.SortFunc(acls, func(x, y SubnetACL) int { return cmp.Compare(x.SubnetID, y.SubnetID) })
	base := Chain{Name: "nacl", Hook: nftables.ChainHookForward, Priority: naclPriority}
	var chains []Chain
	for i, a := range acls {
		cidr := a.CIDR.Masked()
		for _, egress := range []bool{true, false} {
			entries := aclEntries(a, egress)
			if allowsAll(entries) {
				continue
			}
			name := fmt.Sprintf("nacl_in_%d", i+1)
			if egress {
				name = fmt.Sprintf("nacl_out_%d", i+1)
			}
			rules, err := aclRules(entries, egress)
			if err != nil {
				return nil, fmt.Errorf("network acl of subnet %s: %w", a.SubnetID, err)
			}
			chains = append(chains, Chain{Name: name, Rules: rules})
			// Leaving: source inside, destination outside; entering: the reverse.
			base.Rules = append(base.Rules, new(rb).nfproto(true).addr(egress, cidr).addrNot(!egress, cidr).jumpTo(name))
		}
	}
	if len(chains) == 0 {
		return nil, nil
	}
	return append([]Chain{base}, chains...), nil
}

// aclRules are one direction's entries in order: allow returns to the
// base chain, deny drops, and "*" drops what is left.
func aclRules(entries []ACLEntry, egress bool) ([]NftRule, error) {
	var out []NftRule
	for _, e := range entries {
		proto, err := parseProtocol(e.Protocol)
		if err != nil {
			return nil, err
		}
		b := new(rb).addr(!egress, e.CIDR)
		if err := matchProto(b, proto, e.FromPort, e.ToPort); err != nil {
			return nil, fmt.Errorf("entry %d: %w", e.RuleNumber, err)
		}
		if e.Allow {
			out = append(out, b.ret())
		} else {
			out = append(out, b.drop())
		}
	}
	return append(out, new(rb).drop()), nil
}

// addrNot matches an IPv4 source (src) or destination outside a prefix.
func (b *rb) addrNot(src bool, p netip.Prefix) *rb {
	p = p.Masked()
	dir, off := "daddr", uint32(16)
	if src {
		dir, off = "saddr", 12
	}
	es := []expr.Any{load(expr.PayloadBaseNetworkHeader, off, 4)}
	if p.Bits() < 32 {
		es = append(es, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: net.CIDRMask(p.Bits(), 32), Xor: make([]byte, 4)})
	}
	es = append(es, cmpReg(expr.CmpOpNeq, p.Addr().AsSlice()))
	return b.add(fmt.Sprintf("ip %s != %s", dir, p), es...)
}

// jumpTo ends a rule with a jump to a chain.
func (b *rb) jumpTo(chain string) NftRule {
	return b.add("jump "+chain, &expr.Verdict{Kind: expr.VerdictJump, Chain: chain}).rule()
}
