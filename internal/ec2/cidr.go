package ec2

import (
	"net/netip"
)

// parseCIDR parses an IPv4 network in CIDR form whose address is the
// network address (10.0.0.0/16, not 10.0.0.1/16).
func parseCIDR(param, s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, invalid("Value (%s) for parameter %s is invalid. This is not a valid CIDR block.", s, param)
	}
	if p.Masked() != p {
		return netip.Prefix{}, invalid("Value (%s) for parameter %s is invalid. This is not a valid CIDR block: the address has host bits set (did you mean %s?).", s, param, p.Masked())
	}
	return p, nil
}

// within reports whether inner lies entirely inside outer.
func within(inner, outer netip.Prefix) bool {
	return outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// usableAddresses is what AWS reports as a fresh subnet's AvailableIpAddressCount:
// the size less the five addresses AWS reserves.
func usableAddresses(p netip.Prefix) int32 {
	return int32(1)<<(32-p.Bits()) - 5
}
