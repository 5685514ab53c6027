package dhcpd

import (
	"fmt"
	"net"
	"net/netip"
	"time"
)

// metadataPrefix is the instance metadata service's address. Every lease
// routes it through the lease's router (option 121), so that the metadata
// service is reachable from cloud-init's early, temporary lease.
func metadataPrefix() netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{169, 254, 169, 254}), 32)
}

// DefaultLeaseTime is used when a Lease has no LeaseTime.
const DefaultLeaseTime = time.Hour

// Route is one classless static route (RFC 3442, option 121).
type Route struct {
	Dest    netip.Prefix
	Gateway netip.Addr
}

// Lease is the fixed configuration of one network interface.
type Lease struct {
	MAC        net.HardwareAddr
	IP         netip.Addr
	Prefix     netip.Prefix // the subnet, e.g. 10.0.1.0/24
	Router     netip.Addr   // the subnet's gateway; may be invalid for none
	DNS        []netip.Addr
	DomainName string
	Hostname   string
	MTU        int           // 0: not sent
	LeaseTime  time.Duration // 0: DefaultLeaseTime
	// ClasslessRoutes are sent as option 121. When Router is set, routes for
	// 169.254.169.254/32 and 0.0.0.0/0 via Router are added if missing: RFC 3442
	// clients ignore option 3 whenever option 121 is present.
	ClasslessRoutes []Route
}

// Leases finds the lease of a client by its hardware address. The node agent
// backs it with the database's view of network interfaces; it must be safe
// for concurrent use.
type Leases interface {
	Lookup(mac net.HardwareAddr) (Lease, bool)
}

// StaticLeases is a fixed set of leases keyed by MAC address, for tests and
// simple set-ups. Build it once, then only read it.
type StaticLeases map[string]Lease

// NewStaticLeases indexes leases by their MAC addresses.
func NewStaticLeases(leases ...Lease) StaticLeases {
	m := make(StaticLeases, len(leases))
	for _, l := range leases {
		m[l.MAC.String()] = l
	}
	return m
}

// Lookup implements Leases.
func (m StaticLeases) Lookup(mac net.HardwareAddr) (Lease, bool) {
	l, ok := m[mac.String()]
	return l, ok
}

// validate reports why a lease cannot be offered.
func (l Lease) validate() error {
	switch {
	case !l.IP.Is4():
		return fmt.Errorf("lease address %v is not IPv4", l.IP)
	case !l.Prefix.IsValid() || !l.Prefix.Addr().Is4():
		return fmt.Errorf("lease subnet %v is not IPv4", l.Prefix)
	case !l.Prefix.Contains(l.IP):
		return fmt.Errorf("lease address %v is outside subnet %v", l.IP, l.Prefix)
	case l.Router.IsValid() && !l.Router.Is4():
		return fmt.Errorf("lease router %v is not IPv4", l.Router)
	}
	for _, r := range l.routes() {
		if !r.Dest.Addr().Is4() || !r.Gateway.Is4() {
			return fmt.Errorf("lease route %v via %v is not IPv4", r.Dest, r.Gateway)
		}
	}
	return nil
}

// leaseTime is the lease's duration with the default applied.
func (l Lease) leaseTime() time.Duration {
	if l.LeaseTime <= 0 {
		return DefaultLeaseTime
	}
	return l.LeaseTime
}

// routes is ClasslessRoutes completed with the metadata and default routes.
func (l Lease) routes() []Route {
	routes := append([]Route(nil), l.ClasslessRoutes...)
	if !l.Router.IsValid() {
		return routes
	}
	metadata := metadataPrefix()
	def := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	for _, want := range []netip.Prefix{metadata, def} {
		if !hasRoute(routes, want) {
			routes = append(routes, Route{Dest: want, Gateway: l.Router})
		}
	}
	return routes
}

func hasRoute(routes []Route, dest netip.Prefix) bool {
	for _, r := range routes {
		if r.Dest.Masked() == dest.Masked() {
			return true
		}
	}
	return false
}
