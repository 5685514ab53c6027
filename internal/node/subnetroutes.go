package node

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"slices"
	"sort"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// repairRoutes labels repairs of subnets' routes.
const repairRoutes = "routes"

// RouteNetwork is what the agent needs to carry out subnets' route
// tables (GuestNet implements it). A Network without it leaves traffic to
// the main table (the VPC's own addresses, then the host).
type RouteNetwork interface {
	EnsureSubnetRoutes(ctx context.Context, s Subnet, routes []guestnet.SubnetRoute) error
	CheckSubnetRoutes(ctx context.Context, s Subnet, routes []guestnet.SubnetRoute) (bool, error)
}

// subnetRoutes are the routes of each subnet of a VPC this node has a
// bridge for, by subnet id, taken from its guests' interfaces.
func (v *vpcNet) subnetRoutes(vpcID string, specs []nodeapi.InstanceSpec) map[string][]guestnet.SubnetRoute {
	out := map[string][]guestnet.SubnetRoute{}
	for _, s := range specs {
		if s.Power == nodeapi.PowerTerminated {
			continue
		}
		for _, n := range append([]nodeapi.NetworkInterface{s.Network}, s.Extra...) {
			if n.VPCID != vpcID || n.SubnetID == "" {
				continue
			}
			if _, done := out[n.SubnetID]; done {
				continue
			}
			out[n.SubnetID] = v.parseRoutes(s.ID, n.Routes)
		}
	}
	return out
}

func (v *vpcNet) parseRoutes(id string, in []nodeapi.Route) []guestnet.SubnetRoute {
	out := []guestnet.SubnetRoute{}
	for _, r := range in {
		dst, err := netip.ParsePrefix(r.Destination)
		if err != nil || !dst.Addr().Unmap().Is4() {
			v.a.log.Warn("skipping a bad subnet route", "instance", id, "destination", r.Destination)
			continue
		}
		sr := guestnet.SubnetRoute{Destination: netip.PrefixFrom(dst.Addr().Unmap(), dst.Bits()).Masked()}
		if r.NextHop != "" {
			hop, err := netip.ParseAddr(r.NextHop)
			if err != nil || !hop.Unmap().Is4() {
				v.a.log.Warn("subnet route with a bad next hop: a blackhole", "instance", id, "destination", r.Destination, "nextHop", r.NextHop)
			} else {
				sr.NextHop = hop.Unmap()
			}
		}
		out = append(out, sr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination.String() < out[j].Destination.String() })
	return slices.CompactFunc(out, func(a, b guestnet.SubnetRoute) bool { return a.Destination == b.Destination })
}

// syncRoutes applies (or, with check, repairs) the routes of a VPC's
// subnets on this node. Keys include the VPC's peers: a next hop on
// another node is reached through routes the overlay makes.
func (v *vpcNet) syncRoutes(ctx context.Context, rn RouteNetwork, n nodeapi.VPCNetwork, specs []nodeapi.InstanceSpec, check bool) {
	for subnetID, routes := range v.subnetRoutes(n.VPCID, specs) {
		v.mu.Lock()
		sub, ok := v.subnets[subnetID]
		v.mu.Unlock()
		if !ok {
			continue
		}
		key := hashOf(struct {
			Routes []guestnet.SubnetRoute
			Peers  []nodeapi.OverlayPeer
			Local  []string
		}{routes, n.Peers, localGuests(n.VPCID, specs)})
		if v.routes[subnetID] == key {
			if !check {
				continue
			}
			drift, err := rn.CheckSubnetRoutes(ctx, sub, routes)
			if err != nil {
				v.a.log.Warn("check subnet routes", "subnet", subnetID, "err", err)
			}
			if !drift {
				continue
			}
			v.a.log.Warn("subnet routes drifted; re-applying", "vpc", n.VPCID, "subnet", subnetID)
			v.repairs.WithLabelValues(repairRoutes).Inc()
		}
		if err := rn.EnsureSubnetRoutes(ctx, sub, routes); err != nil {
			v.a.log.Error("apply subnet routes", "subnet", subnetID, "err", err)
			delete(v.routes, subnetID)
			continue
		}
		v.routes[subnetID] = key
	}
}

// localGuests are the private addresses of this node's guests in a VPC.
func localGuests(vpcID string, specs []nodeapi.InstanceSpec) []string {
	var out []string
	for _, s := range specs {
		if s.Network.VPCID == vpcID && s.Power == nodeapi.PowerRunning {
			out = append(out, s.Network.PrivateIP)
		}
	}
	sort.Strings(out)
	return out
}

// routesState is what each subnet's routes were last applied from.
type routesState = map[string][sha256.Size]byte
