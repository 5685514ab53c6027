package sgfilter

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// PublicTableName is the table of a VPC namespace's public path (BuildPublic)
// and the prefix of the host's forwarding policy table (BuildHostPolicy).
const PublicTableName = "kumo_public"

// Mapping is one public address translated 1:1 to a guest's private one.
type Mapping struct {
	Public, Private netip.Addr
	// Routes are the destinations the guest's subnet routes to an
	// internet gateway: the only peers the public address may talk to.
	Routes []netip.Prefix
}

// Public is the public path of one VPC namespace: its port to the host
// and the elastic IPs of this node's guests in the VPC.
type Public struct {
	// Port is the namespace's interface to the host (guestnet's veth).
	Port     string
	Mappings []Mapping
	// AllowPrivate lets traffic that is not translated through Port (the
	// host reaching guests by their private addresses: kumo dev).
	AllowPrivate bool
}

func (p Public) validate() error {
	if p.Port == "" || len(p.Port) > 15 {
		return fmt.Errorf("public path: bad port name %q", p.Port)
	}
	pubs, privs := map[netip.Addr]bool{}, map[netip.Addr]bool{}
	for _, m := range p.Mappings {
		if !m.Public.Is4() || !m.Private.Is4() {
			return fmt.Errorf("mapping %s → %s: not IPv4 addresses", m.Public, m.Private)
		}
		if pubs[m.Public] || privs[m.Private] {
			return fmt.Errorf("mapping %s → %s: address mapped twice", m.Public, m.Private)
		}
		pubs[m.Public], privs[m.Private] = true, true
		for _, r := range m.Routes {
			if !r.Addr().Is4() {
				return fmt.Errorf("mapping %s: route %s is not IPv4", m.Public, r)
			}
		}
	}
	return nil
}

// BuildPublic computes the table of a VPC namespace's public path: 1:1
// NAT between each public address and its guest (destination NAT on the
// way in, whatever the interface, so guests of the VPC on this node reach
// each other's public addresses too; source NAT on the way out through
// Port), and a forward filter that lets through Port only translated
// traffic to and from the internet-gateway routes of the guest's subnet
// (plus private traffic with AllowPrivate, and replies).
func BuildPublic(p Public) (*Ruleset, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	ms := slices.Clone(p.Mappings)
	slices.SortFunc(ms, func(a, b Mapping) int { return a.Public.Compare(b.Public) })
	pre, post := natHook(nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest), natHook(nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)
	pre.Name, post.Name = "prerouting", "postrouting"
	fwd := Chain{Name: "forward", Hook: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter}
	fwd.Rules = append(fwd.Rules, new(rb).ctState("established,related", expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED).accept())
	for _, m := range ms {
		pre.Rules = append(pre.Rules, new(rb).addr(false, netip.PrefixFrom(m.Public, 32)).nat(false, m.Private))
		post.Rules = append(post.Rules, new(rb).ifname(false, p.Port).addr(true, netip.PrefixFrom(m.Private, 32)).nat(true, m.Public))
		routes := slices.Clone(m.Routes)
		slices.SortFunc(routes, func(a, b netip.Prefix) int { return cmp.Or(a.Addr().Compare(b.Addr()), a.Bits()-b.Bits()) })
		for _, r := range routes {
			priv := netip.PrefixFrom(m.Private, 32)
			fwd.Rules = append(fwd.Rules,
				new(rb).ifname(false, p.Port).addr(true, priv).addr(false, r.Masked()).accept(),
				new(rb).ifname(true, p.Port).addr(false, priv).addr(true, r.Masked()).accept())
		}
	}
	if p.AllowPrivate {
		fwd.Rules = append(fwd.Rules, new(rb).ifname(true, p.Port).accept(), new(rb).ifname(false, p.Port).accept())
	} else {
		fwd.Rules = append(fwd.Rules, new(rb).ifname(true, p.Port).drop(), new(rb).ifname(false, p.Port).drop())
	}
	t := Table{Name: PublicTableName, Family: nftables.TableFamilyIPv4, Chains: []Chain{pre, post, fwd}}
	return &Ruleset{Tables: []Table{t}}, nil
}

// BuildHostPolicy computes the host's forwarding policy for guests'
// traffic, table "<PublicTableName>_<name>" (one per node sharing the
// host): forwarding between the VPC namespaces' host ports (ports) and the
// uplink, and between two such ports, is allowed; any other forwarding to
// or from a port is dropped, so guests reach nothing beyond the host but
// through the operator's uplink (none when uplink is empty). Traffic of
// the host itself is not forwarding and is left alone.
func BuildHostPolicy(name string, ports []string, uplink string) (*Ruleset, error) {
	if name == "" || len(uplink) > 15 {
		return nil, fmt.Errorf("host policy: bad name %q or uplink %q", name, uplink)
	}
	set := Set{Name: "ports", Key: nftables.TypeIFName}
	sorted := slices.Clone(ports)
	slices.Sort(sorted)
	for _, p := range slices.Compact(sorted) {
		if p == "" || len(p) > 15 {
			return nil, fmt.Errorf("host policy: bad port name %q", p)
		}
		set.Elements = append(set.Elements, Element{Key: ifnameKey(p), Text: fmt.Sprintf("%q", p)})
	}
	fwd := Chain{Name: "forward", Hook: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter}
	fwd.Rules = append(fwd.Rules,
		new(rb).ifSet(true, "ports").ifSet(false, "ports").accept())
	if uplink != "" {
		fwd.Rules = append(fwd.Rules,
			new(rb).ifSet(true, "ports").ifname(false, uplink).accept(),
			new(rb).ifname(true, uplink).ifSet(false, "ports").accept())
	}
	fwd.Rules = append(fwd.Rules, new(rb).ifSet(true, "ports").drop(), new(rb).ifSet(false, "ports").drop())
	t := Table{Name: PublicTableName + "_" + name, Family: nftables.TableFamilyINet, Sets: []Set{set}, Chains: []Chain{fwd}}
	return &Ruleset{Tables: []Table{t}}, nil
}

func natHook(h *nftables.ChainHook, p *nftables.ChainPriority) Chain {
	return Chain{Hook: h, Priority: p, Type: nftables.ChainTypeNAT}
}

// ifname matches the input (in) or output interface's name.
func (b *rb) ifname(in bool, name string) *rb {
	key, word := expr.MetaKeyOIFNAME, "oifname"
	if in {
		key, word = expr.MetaKeyIIFNAME, "iifname"
	}
	return b.add(fmt.Sprintf("%s %q", word, name), &expr.Meta{Key: key, Register: 1}, cmpReg(expr.CmpOpEq, ifnameKey(name)))
}

// ifSet matches the input (in) or output interface's name against a set.
func (b *rb) ifSet(in bool, set string) *rb {
	key, word := expr.MetaKeyOIFNAME, "oifname"
	if in {
		key, word = expr.MetaKeyIIFNAME, "iifname"
	}
	return b.add(fmt.Sprintf("%s @%s", word, set), &expr.Meta{Key: key, Register: 1},
		&expr.Lookup{SourceRegister: 1, SetName: set})
}

// nat ends the rule with source (src) or destination NAT to an IPv4 address.
func (b *rb) nat(src bool, to netip.Addr) NftRule {
	typ, word := expr.NATTypeDestNAT, "dnat"
	if src {
		typ, word = expr.NATTypeSourceNAT, "snat"
	}
	return b.add(fmt.Sprintf("%s to %s", word, to),
		&expr.Immediate{Register: 1, Data: to.AsSlice()},
		&expr.NAT{Type: typ, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}).rule()
}
