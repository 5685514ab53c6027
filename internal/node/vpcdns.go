package node

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/vpcdns"
)

// DNSNetwork is a Network that can serve the VPC resolver (GuestNet is
// one): ListenDNS puts the addresses on the VPC namespace's lo and
// listens on UDP and TCP port 53 of each.
type DNSNetwork interface {
	ListenDNS(ctx context.Context, vpcID string, addrs []netip.Addr) ([]net.PacketConn, []net.Listener, error)
}

// ListenDNS implements DNSNetwork.
func (g GuestNet) ListenDNS(ctx context.Context, vpcID string, addrs []netip.Addr) ([]net.PacketConn, []net.Listener, error) {
	return g.M.ListenDNS(ctx, vpcID, addrs)
}

var _ DNSNetwork = GuestNet{}

// ParseUpstreams checks the operator's upstream resolvers (--dns-upstream):
// each an IP address with an optional port (53 by default). Names are
// refused: the resolver would need a resolver to find them.
func ParseUpstreams(list []string) ([]string, error) {
	var out []string
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
			out = append(out, net.JoinHostPort(ip.String(), "53"))
			continue
		}
		ap, err := netip.ParseAddrPort(s)
		if err != nil || ap.Port() == 0 {
			return nil, fmt.Errorf("dns upstream %q: want an IP address, optionally with :port", s)
		}
		out = append(out, net.JoinHostPort(ap.Addr().String(), strconv.Itoa(int(ap.Port()))))
	}
	return out, nil
}

// setZones prepares the resolver's names of every VPC in a Desired.
func (ns *netServices) setZones(vpcs []nodeapi.VPCNetwork, pool []string) {
	var prefixes []netip.Prefix
	for _, p := range pool {
		if pp, err := netip.ParsePrefix(p); err == nil {
			prefixes = append(prefixes, pp.Masked())
		}
	}
	zones := make(map[string]*vpcdns.Zone, len(vpcs))
	for _, v := range vpcs {
		if v.DNS != nil {
			zones[v.VPCID] = vpcdns.NewZone(zoneConfig(v.DNS, prefixes))
		}
	}
	ns.zonesMu.Lock()
	ns.zones = zones
	ns.zonesMu.Unlock()
}

func zoneConfig(d *nodeapi.VPCDNS, pool []netip.Prefix) vpcdns.Config {
	c := vpcdns.Config{Support: d.Support, Hostnames: d.Hostnames, Region: d.Region, PublicPool: pool}
	if p, err := netip.ParsePrefix(d.CIDR); err == nil {
		c.VPC = []netip.Prefix{p.Masked()}
	}
	for _, n := range d.Names {
		priv, err := netip.ParseAddr(n.PrivateIP)
		if err != nil {
			continue
		}
		name := vpcdns.Name{Private: priv.Unmap()}
		if pub, err := netip.ParseAddr(n.PublicIP); err == nil {
			name.Public = pub.Unmap()
		}
		c.Names = append(c.Names, name)
	}
	return c
}

// zone is a VPC's resolver names (nil: not known yet, nothing answers).
func (ns *netServices) zone(vpcID string) *vpcdns.Zone {
	ns.zonesMu.RLock()
	defer ns.zonesMu.RUnlock()
	return ns.zones[vpcID]
}

// ensureDNS serves the VPC's resolver at the VPC's base address plus two
// and at 169.254.169.253 inside its namespace, when the Network can.
// Whether it answers (enableDnsSupport) and what is decided per question
// from the last Desired.
func (ns *netServices) ensureDNS(ctx context.Context, vpcID, vpcCIDR string) error {
	dn, ok := ns.a.cfg.Network.(DNSNetwork)
	if !ok {
		return nil
	}
	p, err := netip.ParsePrefix(vpcCIDR)
	if err != nil {
		return fmt.Errorf("resolver of %s: vpc cidr: %w", vpcID, err)
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.dns[vpcID] != nil {
		return nil
	}
	udp, tcp, err := dn.ListenDNS(ctx, vpcID, []netip.Addr{vpcdns.Address(p), vpcdns.LinkLocal})
	if err != nil {
		return fmt.Errorf("resolver of %s: %w", vpcID, err)
	}
	srv := &vpcdns.Server{Zone: func() *vpcdns.Zone { return ns.zone(vpcID) }, Upstreams: ns.a.cfg.DNSUpstreams,
		Log: ns.a.log.With("vpc", vpcID, "service", "dns")}
	ns.dns[vpcID] = srv.Serve(udp, tcp)
	return nil
}
