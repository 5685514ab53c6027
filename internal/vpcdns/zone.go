// Package vpcdns is a VPC's resolver (AmazonProvidedDNS), served by the
// node agent at the VPC's base address plus two (172.31.0.2) and at
// 169.254.169.253 inside each VPC's network namespace. It answers the
// private names of the VPC's addresses (ip-172-31-0-4.<region>.compute.internal,
// and their reverse), the public names of public and elastic IPs
// (ec2-198-51-100-2.<region>.compute.kumo: from inside the VPC the
// private address of the VPC's own, as AWS), and forwards every other
// question to the operator's upstream resolvers, or refuses it when there
// are none. Names come from dnsname, as DescribeInstances and the
// metadata service show them.
package vpcdns

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/kumo-cloud/kumo/internal/dnsname"
)

// LinkLocal is the resolver's link-local address, the same in every VPC.
var LinkLocal = netip.MustParseAddr("169.254.169.253")

// Address is the resolver's address in a VPC: the CIDR's base plus two
// (172.31.0.0/16 → 172.31.0.2).
func Address(vpcCIDR netip.Prefix) netip.Addr {
	return vpcCIDR.Masked().Addr().Next().Next()
}

// Config describes one VPC's names.
type Config struct {
	// Support is the VPC's enableDnsSupport: off, the resolver answers
	// nothing at all (queries are dropped, as the resolver is absent).
	Support bool
	// Hostnames is enableDnsHostnames: off, the VPC's public addresses
	// have no public names.
	Hostnames bool
	Region    string
	VPC       []netip.Prefix // the VPC's CIDR blocks: reverse names in them are answered here
	Names     []Name         // every private address of the VPC's interfaces
	// PublicPool is the operator's public address pool: names of its
	// addresses not mapped in this VPC resolve to the public address.
	PublicPool []netip.Prefix
}

// Name is one private address of the VPC and the public address mapped to
// it (invalid: none).
type Name struct {
	Private netip.Addr
	Public  netip.Addr
}

// Zone is a Config prepared for lookups. It is immutable.
type Zone struct {
	cfg       Config
	private   map[netip.Addr]bool
	public    map[netip.Addr]netip.Addr // public → private, of this VPC
	privateTo map[netip.Addr]netip.Addr // private → public
}

// NewZone prepares a Config.
func NewZone(c Config) *Zone {
	z := &Zone{cfg: c, private: map[netip.Addr]bool{}, public: map[netip.Addr]netip.Addr{}, privateTo: map[netip.Addr]netip.Addr{}}
	for _, n := range c.Names {
		if !n.Private.IsValid() {
			continue
		}
		z.private[n.Private.Unmap()] = true
		if n.Public.IsValid() {
			z.public[n.Public.Unmap()] = n.Private.Unmap()
			z.privateTo[n.Private.Unmap()] = n.Public.Unmap()
		}
	}
	return z
}

// Hostnames reports whether the VPC's public addresses have names
// (enableDnsHostnames).
func (z *Zone) Hostnames() bool { return z != nil && z.cfg.Hostnames }

// Enabled reports whether the resolver answers at all.
func (z *Zone) Enabled() bool { return z != nil && z.cfg.Support }

// lookupA is the address a name stands for. ours reports whether the
// name is in a domain the resolver owns (then !ok means NXDOMAIN).
func (z *Zone) lookupA(name string) (ip netip.Addr, ours, ok bool) {
	if ip, match := dnsname.ParsePrivate(z.cfg.Region, name); match {
		return ip, true, z.private[ip]
	}
	if inDomain(name, dnsname.PrivateDomain(z.cfg.Region)) {
		return netip.Addr{}, true, false
	}
	if ip, match := dnsname.ParsePublic(z.cfg.Region, name); match {
		if priv, mine := z.public[ip]; mine {
			return priv, true, z.cfg.Hostnames // the VPC's own: its private address, as AWS answers inside
		}
		return ip, true, z.inPool(ip)
	}
	return netip.Addr{}, inDomain(name, dnsname.PublicDomain(z.cfg.Region)), false
}

// lookupPTR is the name of an address. ours reports whether the address
// is one the resolver answers for (then !ok means NXDOMAIN).
func (z *Zone) lookupPTR(ip netip.Addr) (name string, ours, ok bool) {
	if z.private[ip] {
		return dnsname.Private(z.cfg.Region, ip.String()), true, true
	}
	if _, mine := z.public[ip]; mine {
		return dnsname.Public(z.cfg.Region, ip.String()), true, z.cfg.Hostnames
	}
	if z.inPool(ip) {
		return dnsname.Public(z.cfg.Region, ip.String()), true, true
	}
	inVPC := slices.ContainsFunc(z.cfg.VPC, func(p netip.Prefix) bool { return p.Contains(ip) })
	return "", inVPC, false
}

func (z *Zone) inPool(ip netip.Addr) bool {
	return slices.ContainsFunc(z.cfg.PublicPool, func(p netip.Prefix) bool { return p.Contains(ip) })
}

// inDomain reports whether name is domain or under it (name lower case,
// with or without the final dot).
func inDomain(name, domain string) bool {
	name, domain = strings.TrimSuffix(name, "."), strings.ToLower(domain)
	return name == domain || strings.HasSuffix(name, "."+domain)
}
