package sgfilter

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// rb builds one rule: its nft-like text (kept in the rule's comment, and
// compared by Check) and its expressions, side by side.
type rb struct {
	words []string
	exprs []expr.Any
}

func (b *rb) add(text string, e ...expr.Any) *rb {
	b.words = append(b.words, text)
	b.exprs = append(b.exprs, e...)
	return b
}

func (b *rb) rule() NftRule {
	return NftRule{Text: strings.Join(b.words, " "), Exprs: b.exprs}
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func ne32(v uint32) []byte { return binaryutil.NativeEndian.PutUint32(v) }

func cmpReg(op expr.CmpOp, data []byte) *expr.Cmp {
	return &expr.Cmp{Op: op, Register: 1, Data: data}
}

func load(base expr.PayloadBase, off, n uint32) *expr.Payload {
	return &expr.Payload{DestRegister: 1, Base: base, Offset: off, Len: n}
}

func verdict(k expr.VerdictKind) *expr.Verdict { return &expr.Verdict{Kind: k} }

func (b *rb) accept() NftRule { return b.add("accept", verdict(expr.VerdictAccept)).rule() }
func (b *rb) drop() NftRule   { return b.add("drop", verdict(expr.VerdictDrop)).rule() }
func (b *rb) ret() NftRule    { return b.add("return", verdict(expr.VerdictReturn)).rule() }

// ctState matches when the conntrack state has any of the bits.
func (b *rb) ctState(text string, bits uint32) *rb {
	return b.add("ct state "+text,
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: ne32(bits), Xor: ne32(0)},
		cmpReg(expr.CmpOpNeq, ne32(0)))
}

func (b *rb) nfproto(v4 bool) *rb {
	if v4 {
		return b.add("meta nfproto ipv4", &expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1}, cmpReg(expr.CmpOpEq, []byte{unix.NFPROTO_IPV4}))
	}
	return b.add("meta nfproto ipv6", &expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1}, cmpReg(expr.CmpOpEq, []byte{unix.NFPROTO_IPV6}))
}

func (b *rb) l4proto(p int) *rb {
	return b.add(fmt.Sprintf("meta l4proto %d", p), &expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, cmpReg(expr.CmpOpEq, []byte{byte(p)}))
}

// addr matches the source (src) or destination address against a prefix of
// the packet's family (the caller matched the family first).
func (b *rb) addr(src bool, p netip.Prefix) *rb {
	p = p.Masked()
	fam, off, n := "ip", uint32(16), uint32(4)
	if p.Addr().Is6() {
		fam, off, n = "ip6", 24, 16
	}
	dir := "daddr"
	if src {
		dir = "saddr"
		off -= n
	}
	if p.Bits() == 0 {
		return b
	}
	es := []expr.Any{load(expr.PayloadBaseNetworkHeader, off, n)}
	if p.Bits() < p.Addr().BitLen() {
		mask := net.CIDRMask(p.Bits(), p.Addr().BitLen())
		es = append(es, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: mask, Xor: make([]byte, n)})
	}
	es = append(es, cmpReg(expr.CmpOpEq, p.Addr().AsSlice()))
	return b.add(fmt.Sprintf("%s %s %s", fam, dir, p), es...)
}

// inSet matches an IPv4 address against a named set (or its complement).
func (b *rb) inSet(src bool, set string, invert bool) *rb {
	dir, off, op := "daddr", uint32(16), ""
	if src {
		dir, off = "saddr", 12
	}
	if invert {
		op = "!= "
	}
	return b.add(fmt.Sprintf("ip %s %s@%s", dir, op, set),
		load(expr.PayloadBaseNetworkHeader, off, 4),
		&expr.Lookup{SourceRegister: 1, SetName: set, Invert: invert})
}

// ports matches the transport destination (or source) port range.
func (b *rb) port(dst bool, from, to int) *rb {
	name, off := "th sport", uint32(0)
	if dst {
		name, off = "th dport", 2
	}
	if from == to {
		return b.add(fmt.Sprintf("%s %d", name, from), load(expr.PayloadBaseTransportHeader, off, 2), cmpReg(expr.CmpOpEq, be16(uint16(from))))
	}
	return b.add(fmt.Sprintf("%s %d-%d", name, from, to), load(expr.PayloadBaseTransportHeader, off, 2),
		&expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: be16(uint16(from)), ToData: be16(uint16(to))})
}

// icmp matches the ICMP type and code (-1 = any).
func (b *rb) icmp(typ, code int) *rb {
	if typ >= 0 {
		b.add(fmt.Sprintf("icmp type %d", typ), load(expr.PayloadBaseTransportHeader, 0, 1), cmpReg(expr.CmpOpEq, []byte{byte(typ)}))
		if code >= 0 {
			b.add(fmt.Sprintf("icmp code %d", code), load(expr.PayloadBaseTransportHeader, 1, 1), cmpReg(expr.CmpOpEq, []byte{byte(code)}))
		}
	}
	return b
}

// markMap jumps by the masked packet mark through a verdict map.
func (b *rb) markMap(mask uint32, set string) *rb {
	return b.add(fmt.Sprintf("meta mark & 0x%08x vmap @%s", mask, set),
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: ne32(mask), Xor: ne32(0)},
		&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: set})
}

// daddrMap jumps by the IPv4 destination through a verdict map.
func (b *rb) daddrMap(set string) *rb {
	return b.add("ip daddr vmap @"+set,
		load(expr.PayloadBaseNetworkHeader, 16, 4),
		&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: set})
}

// ifMap jumps by the input (or output) port name through a verdict map.
func (b *rb) ifMap(in bool, set string) *rb {
	key, name := expr.MetaKeyOIFNAME, "oifname"
	if in {
		key, name = expr.MetaKeyIIFNAME, "iifname"
	}
	return b.add(fmt.Sprintf("%s vmap @%s", name, set),
		&expr.Meta{Key: key, Register: 1},
		&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: set})
}

// setMark sets the packet mark to (mark & keep) ^ xor.
func (b *rb) setMark(keep, xor uint32) *rb {
	if keep == 0 {
		return b.add(fmt.Sprintf("meta mark set 0x%08x", xor),
			&expr.Immediate{Register: 1, Data: ne32(xor)},
			&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1})
	}
	return b.add(fmt.Sprintf("meta mark set meta mark & 0x%08x | 0x%08x", keep, xor),
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: ne32(keep), Xor: ne32(xor)},
		&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1})
}

// Ethernet and ARP matches, for the bridge family.
func (b *rb) etherType(name string, t uint16) *rb {
	return b.add("ether type "+name, load(expr.PayloadBaseLLHeader, 12, 2), cmpReg(expr.CmpOpEq, be16(t)))
}

func (b *rb) etherSaddrNot(mac net.HardwareAddr) *rb {
	return b.add("ether saddr != "+mac.String(), load(expr.PayloadBaseLLHeader, 6, 6), cmpReg(expr.CmpOpNeq, mac))
}

func (b *rb) arpShaNot(mac net.HardwareAddr) *rb {
	return b.add("arp saddr ether != "+mac.String(), load(expr.PayloadBaseNetworkHeader, 8, 6), cmpReg(expr.CmpOpNeq, mac))
}

func (b *rb) arpSpa(ip netip.Addr) *rb {
	return b.add("arp saddr ip "+ip.String(), load(expr.PayloadBaseNetworkHeader, 14, 4), cmpReg(expr.CmpOpEq, ip.AsSlice()))
}

func (b *rb) arpSpaNotIn(set string) *rb {
	return b.add("arp saddr ip != @"+set, load(expr.PayloadBaseNetworkHeader, 14, 4),
		&expr.Lookup{SourceRegister: 1, SetName: set, Invert: true})
}

func (b *rb) ipSaddr(ip netip.Addr) *rb {
	return b.add("ip saddr "+ip.String(), load(expr.PayloadBaseNetworkHeader, 12, 4), cmpReg(expr.CmpOpEq, ip.AsSlice()))
}

func (b *rb) icmp6Type(t byte) *rb {
	return b.add(fmt.Sprintf("icmpv6 type %d", t), load(expr.PayloadBaseTransportHeader, 0, 1), cmpReg(expr.CmpOpEq, []byte{t}))
}
