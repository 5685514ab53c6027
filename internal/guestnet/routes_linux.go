//go:build linux

package guestnet

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Rule priorities of a subnet's routing in its VPC namespace: first the
// main table without its default route (the VPC's "local" routes win, as
// in EC2), then the subnet's own table; what neither routes takes main's
// default route to the host (the public path decides what passes there).
const (
	prioLocal  = 1000
	prioSubnet = 1001
)

// subnetTable is the routing table number of a subnet's bridge.
func subnetTable(bridge string) int {
	h := fnv.New32a()
	h.Write([]byte(bridge))
	return 1000 + int(h.Sum32()%0x7fff0000)
}

// EnsureSubnetRoutes makes the routes of a subnet's route table that
// are neither local nor to an internet gateway route its guests' traffic
// in the VPC namespace: a route to a next hop (an instance's private
// address: a NAT or firewall guest) or a blackhole, looked up for packets
// arriving on the subnet's bridge after the VPC's own addresses. No routes
// removes the subnet's table and rules.
func (m *Manager) EnsureSubnetRoutes(ctx context.Context, s Subnet, routes []SubnetRoute) error {
	_, err := m.subnetRoutes(ctx, s, routes, true)
	return err
}

// CheckSubnetRoutes reports whether EnsureSubnetRoutes would change anything.
func (m *Manager) CheckSubnetRoutes(ctx context.Context, s Subnet, routes []SubnetRoute) (bool, error) {
	drift, err := m.subnetRoutes(ctx, s, routes, false)
	if len(drift) > 0 {
		m.log.Debug("subnet routes drifted", "bridge", s.Bridge, "changes", strings.Join(drift, "; "))
	}
	return len(drift) > 0, err
}

func (m *Manager) subnetRoutes(ctx context.Context, s Subnet, routes []SubnetRoute, fix bool) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var drift []string
	err := withNetns(s.Netns, func(_ netns.NsHandle, h *netlink.Handle) error {
		table := subnetTable(s.Bridge)
		want, err := wantedRoutes(h, table, routes)
		if err != nil {
			return err
		}
		d, err := convergeTable(h, table, want, fix)
		drift = append(drift, d...)
		if err != nil {
			return err
		}
		d, err = convergeRules(h, s.Bridge, table, len(want) > 0, fix)
		drift = append(drift, d...)
		return err
	})
	if err != nil {
		return drift, fmt.Errorf("routes of subnet bridge %s: %w", s.Bridge, err)
	}
	return drift, nil
}

// wantedRoutes turns routes into netlink routes of table: a next hop on
// one of the namespace's bridges goes out there, any other by the overlay
// (where the next hop has its /32 route).
func wantedRoutes(h *netlink.Handle, table int, routes []SubnetRoute) (map[string]*netlink.Route, error) {
	want := map[string]*netlink.Route{}
	for _, r := range routes {
		dst := r.Destination.Masked()
		if !dst.Addr().Is4() {
			continue
		}
		nr := &netlink.Route{Table: table, Dst: ipNet(dst), Protocol: rtprotKumo}
		if !r.NextHop.IsValid() {
			nr.Type = unix.RTN_BLACKHOLE
		} else {
			link, onlink, err := nextHopLink(h, r.NextHop)
			if err != nil {
				return nil, err
			}
			if link == nil {
				continue // the next hop is nowhere (yet): like AWS, such a route is a blackhole
			}
			nr.Type, nr.LinkIndex, nr.Gw = unix.RTN_UNICAST, link.Attrs().Index, r.NextHop.AsSlice()
			if onlink {
				nr.Flags = int(netlink.FLAG_ONLINK)
			}
		}
		want[dst.String()] = nr
	}
	return want, nil
}

// nextHopLink is the link the namespace's main table reaches ip by: a
// bridge whose subnet holds it, or the overlay device (onlink) when ip is a
// guest on another node; nil when neither.
func nextHopLink(h *netlink.Handle, ip netip.Addr) (netlink.Link, bool, error) {
	routes, err := h.RouteGet(ip.AsSlice())
	if err != nil {
		if errors.Is(err, unix.ENETUNREACH) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("route to next hop %s: %w", ip, err)
	}
	for _, r := range routes {
		link, err := h.LinkByIndex(r.LinkIndex)
		if err != nil {
			continue
		}
		switch {
		case link.Type() == "bridge" && r.Gw == nil:
			return link, false, nil
		case link.Attrs().Name == overlayLink:
			return link, true, nil
		}
	}
	return nil, false, nil
}

func convergeTable(h *netlink.Handle, table int, want map[string]*netlink.Route, fix bool) ([]string, error) {
	have, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list table %d: %w", table, err)
	}
	var drift []string
	seen := map[string]bool{}
	for _, r := range have {
		key := "0.0.0.0/0"
		if r.Dst != nil {
			key = r.Dst.String()
		}
		w, ok := want[key]
		if ok && sameRoute(r, w) {
			seen[key] = true
			continue
		}
		drift = append(drift, "stale route "+key)
		if fix {
			if err := h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
				return drift, fmt.Errorf("delete route %s: %w", key, err)
			}
		}
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if seen[k] {
			continue
		}
		drift = append(drift, "missing route "+k)
		if fix {
			if err := h.RouteReplace(want[k]); err != nil {
				return drift, fmt.Errorf("route %s: %w", k, err)
			}
		}
	}
	return drift, nil
}

func sameRoute(have netlink.Route, want *netlink.Route) bool {
	return have.Type == want.Type && have.LinkIndex == want.LinkIndex &&
		((have.Gw == nil && want.Gw == nil) || have.Gw.Equal(want.Gw))
}

// convergeRules keeps (on) or removes the subnet's two rules.
func convergeRules(h *netlink.Handle, bridge string, table int, on, fix bool) ([]string, error) {
	rules, err := h.RuleList(netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	local := netlink.NewRule()
	local.IifName, local.Priority, local.Table, local.SuppressPrefixlen = bridge, prioLocal, unix.RT_TABLE_MAIN, 0
	own := netlink.NewRule()
	own.IifName, own.Priority, own.Table = bridge, prioSubnet, table
	var drift []string
	for _, w := range []*netlink.Rule{local, own} {
		found := false
		for _, r := range rules {
			if r.IifName != bridge || r.Priority != w.Priority {
				continue
			}
			if on && r.Table == w.Table && !found {
				found = true
				continue
			}
			drift = append(drift, fmt.Sprintf("stale rule %d iif %s", r.Priority, bridge))
			if fix {
				if err := h.RuleDel(&r); err != nil && !errors.Is(err, unix.ENOENT) {
					return drift, fmt.Errorf("delete rule %d: %w", r.Priority, err)
				}
			}
		}
		if on && !found {
			drift = append(drift, fmt.Sprintf("missing rule %d iif %s", w.Priority, bridge))
			if fix {
				if err := h.RuleAdd(w); err != nil {
					return drift, fmt.Errorf("add rule %d: %w", w.Priority, err)
				}
			}
		}
	}
	return drift, nil
}
