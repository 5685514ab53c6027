package dhcpd

import (
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// configOptions are the options that configure a client from its lease,
// sent in OFFER, ACK and (without lease times) the ACK to an INFORM.
func (s *responder) configOptions(l Lease) []dhcpv4.Modifier {
	mods := []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(ipOf(s.serverIP))),
		dhcpv4.WithNetmask(net.CIDRMask(l.Prefix.Bits(), 32)),
		dhcpv4.WithOption(dhcpv4.OptBroadcastAddress(ipOf(broadcastOf(l.Prefix)))),
	}
	if l.Router.IsValid() {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptRouter(ipOf(l.Router))))
	}
	if routes := l.routes(); len(routes) > 0 {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(libRoutes(routes)...)))
	}
	if len(l.DNS) > 0 {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptDNS(ipsOf(l.DNS)...)))
	}
	if l.DomainName != "" {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptDomainName(l.DomainName)))
	}
	if l.Hostname != "" {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptHostName(l.Hostname)))
	}
	if l.MTU > 0 {
		mtu := binary.BigEndian.AppendUint16(nil, uint16(l.MTU))
		mods = append(mods, dhcpv4.WithGeneric(dhcpv4.OptionInterfaceMTU, mtu))
	}
	return mods
}

// leaseTimeOptions are the lease, renewal (T1) and rebinding (T2) times,
// with T1 and T2 at RFC 2131's defaults of 1/2 and 7/8 of the lease.
func leaseTimeOptions(l Lease) []dhcpv4.Modifier {
	d := l.leaseTime()
	return []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(d)),
		dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(d / 2)),
		dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(d * 7 / 8)),
	}
}

func libRoutes(routes []Route) []*dhcpv4.Route {
	out := make([]*dhcpv4.Route, 0, len(routes))
	for _, r := range routes {
		p := r.Dest.Masked()
		out = append(out, &dhcpv4.Route{
			Dest:   &net.IPNet{IP: ipOf(p.Addr()), Mask: net.CIDRMask(p.Bits(), 32)},
			Router: ipOf(r.Gateway),
		})
	}
	return out
}

func broadcastOf(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits() // 0 for a /32
	binary.BigEndian.PutUint32(a[:], binary.BigEndian.Uint32(a[:])|host)
	return netip.AddrFrom4(a)
}

func ipOf(a netip.Addr) net.IP {
	b := a.As4()
	return net.IPv4(b[0], b[1], b[2], b[3]).To4()
}

func ipsOf(addrs []netip.Addr) []net.IP {
	out := make([]net.IP, 0, len(addrs))
	for _, a := range addrs {
		if a.Is4() {
			out = append(out, ipOf(a))
		}
	}
	return out
}

func addrOf(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip.To4())
	return a, ok && !a.IsUnspecified()
}
