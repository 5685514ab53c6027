package node

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"slices"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

// repairPublic labels repairs of the public path (NAT, host routes and
// proxy entries, the host's forwarding policy).
const repairPublic = "public"

// PublicNetwork is what the agent needs to publish guests' elastic IPs
// (GuestNet implements it). A Network without it publishes nothing.
type PublicNetwork interface {
	// ApplyPublic installs a VPC namespace's NAT and internet-route
	// filter (sgfilter.BuildPublic); CheckPublicPath reports drift.
	ApplyPublic(ctx context.Context, vpcID string, p sgfilter.Public) error
	CheckPublicPath(ctx context.Context, vpcID string, p sgfilter.Public) (bool, error)
	// EnsurePublic and CheckPublic are guestnet.Manager's: the host's
	// routes and uplink proxy entries of the published addresses.
	EnsurePublic(ctx context.Context, uplink string, pool []netip.Prefix, addrs []guestnet.PublicAddr) error
	CheckPublic(ctx context.Context, uplink string, pool []netip.Prefix, addrs []guestnet.PublicAddr) (bool, error)
	// ApplyHostPolicy installs the host's forwarding policy for the VPC
	// ports (sgfilter.BuildHostPolicy); CheckHostPolicy reports drift.
	ApplyHostPolicy(ctx context.Context, vpcIDs []string, uplink string) error
	CheckHostPolicy(ctx context.Context, vpcIDs []string, uplink string) (bool, error)
}

// publicState is what the public path was last applied from.
type publicState struct {
	vpc  map[string][sha256.Size]byte // by VPC id
	host [sha256.Size]byte
}

// mappings are the public addresses of a VPC's running guests on this node.
func (v *vpcNet) mappings(vpcID string, specs []nodeapi.InstanceSpec) []sgfilter.Mapping {
	var out []sgfilter.Mapping
	for _, s := range specs {
		if s.Power != nodeapi.PowerRunning {
			continue
		}
		for _, n := range append([]nodeapi.NetworkInterface{s.Network}, s.Extra...) {
			if n.VPCID != vpcID {
				continue
			}
			routes := v.internetRoutes(s.ID, n.InternetRoutes)
			if n.PublicIP != "" {
				out = v.appendMapping(out, s.ID, n.PublicIP, n.PrivateIP, routes)
			}
			for pub, priv := range n.PublicIPs {
				out = v.appendMapping(out, s.ID, pub, priv, routes)
			}
		}
	}
	slices.SortFunc(out, func(a, b sgfilter.Mapping) int { return a.Public.Compare(b.Public) })
	return slices.CompactFunc(out, func(a, b sgfilter.Mapping) bool { return a.Public == b.Public })
}

func (v *vpcNet) appendMapping(out []sgfilter.Mapping, id, pub, priv string, routes []netip.Prefix) []sgfilter.Mapping {
	p, err1 := netip.ParseAddr(pub)
	q, err2 := netip.ParseAddr(priv)
	if err1 != nil || err2 != nil || !p.Unmap().Is4() || !q.Unmap().Is4() {
		v.a.log.Warn("skipping a bad public address mapping", "instance", id, "public", pub, "private", priv)
		return out
	}
	return append(out, sgfilter.Mapping{Public: p.Unmap(), Private: q.Unmap(), Routes: routes})
}

func (v *vpcNet) internetRoutes(id string, in []string) []netip.Prefix {
	var out []netip.Prefix
	for _, r := range in {
		p, err := netip.ParsePrefix(r)
		if err != nil || !p.Addr().Unmap().Is4() {
			v.a.log.Warn("skipping a bad internet route", "instance", id, "route", r)
			continue
		}
		out = append(out, netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked())
	}
	return out
}

// syncPublic applies (or, with check, repairs) a VPC namespace's public
// path and returns its mappings.
func (v *vpcNet) syncPublic(ctx context.Context, pn PublicNetwork, vpcID string, specs []nodeapi.InstanceSpec, check bool) []sgfilter.Mapping {
	p := sgfilter.Public{Port: guestnet.NamespacePort, Mappings: v.mappings(vpcID, specs), AllowPrivate: v.a.cfg.HostReachesGuests}
	key := hashOf(p)
	if v.public.vpc[vpcID] == key {
		if !check {
			return p.Mappings
		}
		drift, err := pn.CheckPublicPath(ctx, vpcID, p)
		if err != nil {
			v.a.log.Warn("check public path", "vpc", vpcID, "err", err)
		}
		if !drift {
			return p.Mappings
		}
		v.a.log.Warn("public path (NAT) drifted; re-applying", "vpc", vpcID)
		v.repairs.WithLabelValues(repairPublic).Inc()
	}
	if err := pn.ApplyPublic(ctx, vpcID, p); err != nil {
		v.a.log.Error("apply public path", "vpc", vpcID, "err", err)
		delete(v.public.vpc, vpcID)
		return p.Mappings
	}
	v.public.vpc[vpcID] = key
	return p.Mappings
}

// syncHost applies (or repairs) the host's side: routes and proxy entries
// of every published address, and the forwarding policy of the VPC ports.
func (v *vpcNet) syncHost(ctx context.Context, pn PublicNetwork, vpcIDs []string, addrs []guestnet.PublicAddr, check bool) {
	pool := v.pool()
	uplink := v.a.cfg.Uplink
	key := hashOf(struct {
		VPCs  []string
		Addrs []guestnet.PublicAddr
		Pool  []netip.Prefix
	}{vpcIDs, addrs, pool})
	if v.public.host == key {
		if !check {
			return
		}
		d1, err1 := pn.CheckPublic(ctx, uplink, pool, addrs)
		d2, err2 := pn.CheckHostPolicy(ctx, vpcIDs, uplink)
		if err1 != nil || err2 != nil {
			v.a.log.Warn("check public addresses on the host", "err1", err1, "err2", err2)
		}
		if !d1 && !d2 {
			return
		}
		v.a.log.Warn("public addresses or forwarding policy on the host drifted; re-applying", "routes", d1, "policy", d2)
		v.repairs.WithLabelValues(repairPublic).Inc()
	}
	err := pn.ApplyHostPolicy(ctx, vpcIDs, uplink)
	if err == nil {
		err = pn.EnsurePublic(ctx, uplink, pool, addrs)
	}
	if err != nil {
		v.a.log.Error("publish public addresses on the host", "err", err)
		v.public.host = [sha256.Size]byte{}
		return
	}
	v.public.host = key
}

// pool is the operator's public pool from the last Desired.
func (v *vpcNet) pool() []netip.Prefix {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []netip.Prefix
	for _, s := range v.publicPool {
		if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() {
			out = append(out, p.Masked())
		}
	}
	return out
}
