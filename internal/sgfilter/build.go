package sgfilter

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// TableName is the name of both tables this package owns in a namespace.
const TableName = "kumo_sg"

// Mark layout: the bridge table writes the index (1-based, in Tap order) of
// the guest port a frame came in on into the low 16 bits and the one it
// leaves by into the high 16 bits; 0 means "not a guest port".
const (
	markIn  uint32 = 0x0000ffff
	markOut uint32 = 0xffff0000
)

// Ruleset is what Apply installs: whole tables, replaced atomically.
type Ruleset struct {
	Tables []Table
	// BridgeHooks: the rules must see bridged traffic (br_netfilter on in
	// the namespace). Build's need it; the public path's do not.
	BridgeHooks bool
}

// Table is one nftables table.
type Table struct {
	Name   string
	Family nftables.TableFamily
	Sets   []Set
	Chains []Chain
}

// Chain is a chain; base chains have a hook and priority and accept by
// policy, and are filter chains unless Type says otherwise.
type Chain struct {
	Name     string
	Hook     *nftables.ChainHook
	Priority *nftables.ChainPriority
	Type     nftables.ChainType
	Rules    []NftRule
}

// NftRule is one nftables rule: Text is its nft-like rendering, stored as
// the rule's comment so that Check can compare what is installed.
type NftRule struct {
	Text  string
	Exprs []expr.Any
}

// Set is a named set, or a verdict map when Verdicts.
type Set struct {
	Name     string
	Key      nftables.SetDatatype
	Verdicts bool
	Elements []Element
}

// Element is a set element; for verdict maps, Chain is where it jumps (or
// goes, when Goto).
type Element struct {
	Key   []byte
	Text  string
	Chain string
	Goto  bool
}

// Build computes the tables for d. It touches nothing.
func Build(d Desired) (*Ruleset, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	ifcs := slices.Clone(d.Interfaces)
	slices.SortFunc(ifcs, func(a, b Interface) int { return cmp.Compare(a.Tap, b.Tap) })
	inet, err := buildInet(d, ifcs)
	if err != nil {
		return nil, err
	}
	acls, err := buildACLs(d.ACLs)
	if err != nil {
		return nil, err
	}
	inet.Chains = append(inet.Chains, acls...)
	return &Ruleset{Tables: []Table{buildBridge(ifcs), inet}, BridgeHooks: true}, nil
}

// String renders the ruleset in an nft-like syntax, for logs and tests.
func (r *Ruleset) String() string {
	var s strings.Builder
	for _, t := range r.Tables {
		fam := map[nftables.TableFamily]string{nftables.TableFamilyBridge: "bridge", nftables.TableFamilyINet: "inet", nftables.TableFamilyIPv4: "ip"}[t.Family]
		fmt.Fprintf(&s, "table %s %s {\n", fam, t.Name)
		for _, st := range t.Sets {
			fmt.Fprintf(&s, "  set %s {", st.Name)
			for i, e := range st.Elements {
				if i > 0 {
					s.WriteString(",")
				}
				s.WriteString(" " + e.Text)
			}
			s.WriteString(" }\n")
		}
		for _, c := range t.Chains {
			fmt.Fprintf(&s, "  chain %s {\n", c.Name)
			if c.Hook != nil {
				fmt.Fprintf(&s, "    type %s hook %d priority %d policy accept\n", cmp.Or(c.Type, nftables.ChainTypeFilter), *c.Hook, *c.Priority)
			}
			for _, r := range c.Rules {
				fmt.Fprintf(&s, "    %s\n", r.Text)
			}
			s.WriteString("  }\n")
		}
		s.WriteString("}\n")
	}
	return s.String()
}

func portIndex(i int) uint32 { return uint32(i + 1) }

func ifnameKey(name string) []byte {
	k := make([]byte, 16)
	copy(k, name)
	return k
}

func jump(key []byte, text, chain string, gotoChain bool) Element {
	return Element{Key: key, Text: text, Chain: chain, Goto: gotoChain}
}

// buildBridge makes the bridge table: anti-spoofing on frames from guest
// ports and the port indexes in the mark.
func buildBridge(ifcs []Interface) Table {
	t := Table{Name: TableName, Family: nftables.TableFamilyBridge}
	in := Set{Name: "ports_in", Key: nftables.TypeIFName, Verdicts: true}
	out := Set{Name: "ports_out", Key: nftables.TypeIFName, Verdicts: true}
	var chains []Chain
	for i, ifc := range ifcs {
		n := portIndex(i)
		in.Elements = append(in.Elements, jump(ifnameKey(ifc.Tap), fmt.Sprintf("%q : jump port_%d", ifc.Tap, n), fmt.Sprintf("port_%d", n), false))
		out.Elements = append(out.Elements, jump(ifnameKey(ifc.Tap), fmt.Sprintf("%q : jump out_%d", ifc.Tap, n), fmt.Sprintf("out_%d", n), false))
		ips := Set{Name: fmt.Sprintf("ips_%d", n), Key: nftables.TypeIPAddr}
		for _, ip := range ifc.IPs {
			ips.Elements = append(ips.Elements, Element{Key: ip.AsSlice(), Text: ip.String()})
		}
		t.Sets = append(t.Sets, ips)
		chains = append(chains,
			Chain{Name: fmt.Sprintf("port_%d", n), Rules: antiSpoof(ifc, n, ips.Name)},
			Chain{Name: fmt.Sprintf("out_%d", n), Rules: []NftRule{new(rb).setMark(markIn, n<<16).rule()}})
	}
	t.Sets = append(t.Sets, in, out)
	raw := nftables.ChainPriorityRaw
	t.Chains = append([]Chain{
		{Name: "prerouting", Hook: nftables.ChainHookPrerouting, Priority: raw, Rules: []NftRule{
			new(rb).setMark(0, 0).rule(),
			new(rb).ifMap(true, in.Name).rule(),
		}},
		{Name: "forward", Hook: nftables.ChainHookForward, Priority: raw, Rules: []NftRule{
			new(rb).ifMap(false, out.Name).rule(),
		}},
	}, chains...)
	return t
}

const (
	ethIP   = 0x0800
	ethARP  = 0x0806
	ethIPv6 = 0x86dd
)

// antiSpoof is the chain for frames from one guest port.
func antiSpoof(ifc Interface, n uint32, ips string) []NftRule {
	arp := func() *rb { return new(rb).etherType("arp", ethARP) }
	ip := func() *rb { return new(rb).etherType("ip", ethIP) }
	ip6 := func() *rb { return new(rb).etherType("ip6", ethIPv6) }
	rs := []NftRule{
		new(rb).etherSaddrNot(ifc.MAC).drop(),
		new(rb).setMark(0, n).rule(),
		arp().arpShaNot(ifc.MAC).drop(),
		arp().arpSpa(netip.IPv4Unspecified()).ret(),
		arp().arpSpaNotIn(ips).drop(),
		arp().ret(),
		// A guest is never a DHCP server.
		ip().l4proto(protoUDP).port(false, 67, 67).drop(),
		// DHCP discover and request come from 0.0.0.0.
		ip().ipSaddr(netip.IPv4Unspecified()).l4proto(protoUDP).port(false, 68, 68).port(true, 67, 67).ret(),
	}
	if ifc.SourceDestCheck {
		rs = append(rs, ip().inSet(true, ips, true).drop())
	}
	rs = append(rs,
		ip().ret(),
		// Nor a DHCPv6 server or an IPv6 router.
		ip6().l4proto(protoUDP).port(false, 547, 547).drop(),
		ip6().l4proto(protoICMPv6).icmp6Type(134).drop(),
		ip6().ret(),
		new(rb).drop(), // anything but IPv4, ARP and IPv6 (VLAN tags too)
	)
	return rs
}

// buildInet makes the inet table: stateful security groups on forwarded
// traffic (bridged traffic reaches it through br_netfilter).
func buildInet(d Desired, ifcs []Interface) (Table, error) {
	t := Table{Name: TableName, Family: nftables.TableFamilyINet}
	egress := Set{Name: "egress", Key: nftables.TypeMark, Verdicts: true}
	inPort := Set{Name: "ingress_port", Key: nftables.TypeMark, Verdicts: true}
	inAddr := Set{Name: "ingress_addr", Key: nftables.TypeIPAddr, Verdicts: true}
	var chains []Chain
	for i, ifc := range ifcs {
		n := portIndex(i)
		eg, in := fmt.Sprintf("eg_%d", n), fmt.Sprintf("in_%d", n)
		egress.Elements = append(egress.Elements, jump(ne32(n), fmt.Sprintf("0x%08x : jump %s", n, eg), eg, false))
		inPort.Elements = append(inPort.Elements, jump(ne32(n<<16), fmt.Sprintf("0x%08x : goto %s", n<<16, in), in, true))
		for _, ip := range ifc.IPs {
			inAddr.Elements = append(inAddr.Elements, jump(ip.AsSlice(), fmt.Sprintf("%s : goto %s", ip, in), in, true))
		}
		egRules, err := permissions(d, ifc, false)
		if err != nil {
			return t, err
		}
		inRules, err := permissions(d, ifc, true)
		if err != nil {
			return t, err
		}
		chains = append(chains,
			Chain{Name: eg, Rules: append(egRules, new(rb).drop())},
			Chain{Name: in, Rules: append(inRules, new(rb).drop())})
	}
	t.Sets = append(groupSets(d, ifcs), egress, inPort, inAddr)
	t.Chains = append([]Chain{{Name: "forward", Hook: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Rules: []NftRule{
		new(rb).ctState("established,related", expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED).accept(),
		new(rb).ctState("invalid", expr.CtStateBitINVALID).drop(),
		new(rb).markMap(markIn, egress.Name).rule(),
		new(rb).markMap(markOut, inPort.Name).rule(),
		new(rb).nfproto(true).daddrMap(inAddr.Name).rule(),
	}}}, chains...)
	return t, nil
}

// groupSets makes one set per security group referenced by a rule of a
// group in use, holding its members' addresses.
func groupSets(d Desired, ifcs []Interface) []Set {
	refs := map[string]bool{}
	for _, ifc := range ifcs {
		for _, g := range ifc.Groups {
			for _, r := range slices.Concat(d.Groups[g].Ingress, d.Groups[g].Egress) {
				for _, ref := range r.Groups {
					refs[ref] = true
				}
			}
		}
	}
	var sets []Set
	for _, id := range slices.Sorted(maps.Keys(refs)) {
		s := Set{Name: id, Key: nftables.TypeIPAddr}
		ips := slices.Clone(d.Members[id])
		slices.SortFunc(ips, netip.Addr.Compare)
		for _, ip := range slices.Compact(ips) {
			s.Elements = append(s.Elements, Element{Key: ip.AsSlice(), Text: ip.String()})
		}
		sets = append(sets, s)
	}
	return sets
}

// permissions turns the union of the interface's groups' rules of one
// direction into nft rules: ingress ones accept, egress ones return (to the
// ingress check of the destination).
func permissions(d Desired, ifc Interface, ingress bool) ([]NftRule, error) {
	var out []NftRule
	seen := map[string]bool{}
	for _, gid := range ifc.Groups {
		g := d.Groups[gid]
		rules := g.Egress
		if ingress {
			rules = g.Ingress
		}
		for _, r := range rules {
			rs, err := permission(r, ingress)
			if err != nil {
				return nil, fmt.Errorf("group %s: %w", gid, err)
			}
			for _, nr := range rs {
				if !seen[nr.Text] {
					seen[nr.Text] = true
					out = append(out, nr)
				}
			}
		}
	}
	return out, nil
}

// permission is one rule per peer (CIDR or group) of r.
func permission(r Rule, ingress bool) ([]NftRule, error) {
	proto, err := parseProtocol(r.Protocol)
	if err != nil {
		return nil, err
	}
	var peers []func() *rb
	for _, p := range r.CIDRs {
		if !p.IsValid() {
			return nil, fmt.Errorf("rule %s: invalid CIDR", r.Protocol)
		}
		peers = append(peers, func() *rb { return new(rb).nfproto(p.Addr().Is4()).addr(ingress, p) })
	}
	for _, g := range r.Groups {
		peers = append(peers, func() *rb { return new(rb).nfproto(true).inSet(ingress, g, false) })
	}
	var out []NftRule
	for _, peer := range peers {
		b := peer()
		if err := matchProto(b, proto, r.FromPort, r.ToPort); err != nil {
			return nil, err
		}
		if ingress {
			out = append(out, b.accept())
		} else {
			out = append(out, b.ret())
		}
	}
	return out, nil
}

func matchProto(b *rb, proto, from, to int) error {
	switch proto {
	case protoAll:
		return nil
	case protoTCP, protoUDP:
		b.l4proto(proto)
		if from == -1 || (from <= 0 && to >= 65535) {
			return nil
		}
		if from < 0 || to > 65535 || from > to {
			return fmt.Errorf("port range %d-%d: invalid", from, to)
		}
		b.port(true, from, to)
	case protoICMP, protoICMPv6:
		if from > 255 || to > 255 || from < -1 || to < -1 {
			return fmt.Errorf("icmp type %d code %d: invalid", from, to)
		}
		b.l4proto(proto).icmp(from, to)
	default:
		b.l4proto(proto)
	}
	return nil
}
