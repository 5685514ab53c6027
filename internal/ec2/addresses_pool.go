package ec2

import (
	"fmt"
	"net/netip"
	"strings"
)

// AddressPool is the operator's public IPv4 addresses that AllocateAddress
// hands out (kumo server --public-ips). The zero pool is empty.
type AddressPool struct {
	ranges []addrRange
}

// addrRange is an inclusive range of IPv4 addresses.
type addrRange struct{ first, last netip.Addr }

// ParseAddressPool reads a comma-separated list of CIDR blocks
// (192.0.2.0/24) and ranges (198.51.100.10-198.51.100.20) of IPv4
// addresses; single addresses are ranges of one. A CIDR block of /30 or
// wider leaves out its network and broadcast addresses; name the block as
// a range to use them too. An empty string is an empty pool.
func ParseAddressPool(s string) (AddressPool, error) {
	var p AddressPool
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r, err := parseAddrRange(part)
		if err != nil {
			return AddressPool{}, fmt.Errorf("public address pool %q: %w", part, err)
		}
		p.ranges = append(p.ranges, r)
	}
	return p, nil
}

func parseAddrRange(s string) (addrRange, error) {
	if strings.Contains(s, "/") {
		prefix, err := netip.ParsePrefix(s)
		if err != nil || !prefix.Addr().Is4() {
			return addrRange{}, fmt.Errorf("not an IPv4 CIDR block")
		}
		prefix = prefix.Masked()
		r := addrRange{first: prefix.Addr(), last: lastAddr(prefix)}
		if prefix.Bits() <= 30 {
			r.first, r.last = r.first.Next(), r.last.Prev()
		}
		return r, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	first, err1 := netip.ParseAddr(strings.TrimSpace(lo))
	last, err2 := netip.ParseAddr(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || !first.Is4() || !last.Is4() {
		return addrRange{}, fmt.Errorf("not an IPv4 address or range")
	}
	if last.Less(first) {
		return addrRange{}, fmt.Errorf("range ends before it starts")
	}
	return addrRange{first: first, last: last}, nil
}

// Empty reports whether the pool has no addresses.
func (p AddressPool) Empty() bool { return len(p.ranges) == 0 }

// Size counts the pool's addresses (ranges that overlap count twice).
func (p AddressPool) Size() int {
	n := 0
	for _, r := range p.ranges {
		n += int(v4(r.last)-v4(r.first)) + 1
	}
	return n
}

// Contains reports whether ip is in the pool.
func (p AddressPool) Contains(ip netip.Addr) bool {
	for _, r := range p.ranges {
		if !ip.Less(r.first) && !r.last.Less(ip) {
			return true
		}
	}
	return false
}

// Free returns the pool's first address, in the order configured, that is
// not in taken; false when every one is.
func (p AddressPool) Free(taken map[string]bool) (netip.Addr, bool) {
	for _, r := range p.ranges {
		for ip := r.first; ; ip = ip.Next() {
			if !taken[ip.String()] {
				return ip, true
			}
			if ip == r.last {
				break
			}
		}
	}
	return netip.Addr{}, false
}

// String lists the pool as it is configured.
func (p AddressPool) String() string {
	parts := make([]string, 0, len(p.ranges))
	for _, r := range p.ranges {
		parts = append(parts, r.first.String()+"-"+r.last.String())
	}
	return strings.Join(parts, ",")
}

func v4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
