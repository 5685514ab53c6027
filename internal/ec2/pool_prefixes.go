package ec2

import "net/netip"

// Prefixes covers the pool with the fewest CIDR blocks: what a node needs
// to know which addresses are the operator's public ones.
func (p AddressPool) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, r := range p.ranges {
		out = append(out, rangePrefixes(r.first, r.last)...)
	}
	return out
}

// rangePrefixes splits first..last (IPv4, inclusive) into CIDR blocks.
func rangePrefixes(first, last netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for first.IsValid() && first.Compare(last) <= 0 {
		bits := 32
		for bits > 0 {
			p := netip.PrefixFrom(first, bits-1).Masked()
			if p.Addr() != first || lastOf(p).Compare(last) > 0 {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(first, bits)
		out = append(out, p)
		next := lastOf(p).Next()
		if !next.IsValid() || next.Is6() {
			break
		}
		first = next
	}
	return out
}

// lastOf is an IPv4 prefix's last address.
func lastOf(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	if p.Bits() == 0 {
		host = ^uint32(0)
	}
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
