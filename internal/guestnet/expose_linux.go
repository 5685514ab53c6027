//go:build linux

package guestnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The same pair on every VPC's veth: the host side carries no address, so
// nothing is allocated on the host.
var (
	hostSideAddr = netip.MustParseAddr("169.254.0.1") // the namespace's gateway, resolved statically
	nsSideAddr   = netip.MustParseAddr("169.254.0.2") // on the namespace's end; the host routes the VPC to it
)

// ensureHostPort joins the VPC's namespace to the host by a veth (the
// path of its public addresses, and with ExposeToHost of the host's
// traffic to its guests) and, with ExposeToHost, routes the VPC's CIDR to
// it from the host unless that CIDR overlaps a route the host already
// has. hh is a netlink handle in the host's namespace.
func (m *Manager) ensureHostPort(hh *netlink.Handle, vpcID string, vpcNet netip.Prefix, ns netns.NsHandle, h *netlink.Handle) error {
	name := m.hostVethName(vpcID)
	hostEnd, peer, err := ensureVethPair(hh, name, ns, h)
	if err != nil {
		return err
	}
	if err := hh.LinkSetUp(hostEnd); err != nil {
		return fmt.Errorf("set host veth %s up: %w", name, err)
	}
	if err := configureNsEnd(h, peer, hostEnd.Attrs().HardwareAddr); err != nil {
		return err
	}
	route := &netlink.Route{
		LinkIndex: hostEnd.Attrs().Index,
		Dst:       ipNet(vpcNet),
		Gw:        nsSideAddr.AsSlice(),
		Flags:     int(netlink.FLAG_ONLINK),
	}
	if !m.expose {
		return deleteRoute(hh, route)
	}
	other, ok, err := overlappingHostRoute(hh, vpcNet, name)
	if err == nil && ok {
		// A Kumo that died since this one started may have left it.
		if reclaimed, _ := m.ReclaimStale(m.ownersDir); len(reclaimed) > 0 {
			other, ok, err = overlappingHostRoute(hh, vpcNet, name)
		}
	}
	if err != nil {
		return err
	}
	if ok {
		if !m.overlapLogged[vpcID] {
			m.log.Warn("not exposing vpc to the host: its cidr overlaps a host route; the host cannot reach its guests",
				"vpc", vpcID, "cidr", vpcNet, "route", other.String(), "owner", describeRoute(hh, m.ownersDir, m.netnsDir, other))
			m.overlapLogged[vpcID] = true
		}
		return deleteRoute(hh, route)
	}
	delete(m.overlapLogged, vpcID)
	if err := hh.RouteReplace(route); err != nil {
		return fmt.Errorf("host route %s via %s: %w", vpcNet, name, err)
	}
	return nil
}

// deleteRoute removes a route; missing is fine.
func deleteRoute(hh *netlink.Handle, r *netlink.Route) error {
	if err := hh.RouteDel(r); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("delete host route %s: %w", r.Dst, err)
	}
	return nil
}

// overlappingHostRoute returns a route of the host's main table, other
// than the default route and the routes through our own veth, whose
// destination overlaps p.
func overlappingHostRoute(hh *netlink.Handle, p netip.Prefix, ourVeth string) (netlink.Route, bool, error) {
	ours := 0
	if link, err := hh.LinkByName(ourVeth); err == nil {
		ours = link.Attrs().Index
	}
	routes, err := hh.RouteListFiltered(netlink.FAMILY_V4,
		&netlink.Route{Table: 254}, netlink.RT_FILTER_TABLE) // main
	if err != nil {
		return netlink.Route{}, false, fmt.Errorf("list host routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst == nil || r.LinkIndex == ours && ours != 0 {
			continue
		}
		dst, ok := prefixOf(r.Dst)
		if ok && dst.Bits() > 0 && dst.Overlaps(p) {
			return r, true, nil
		}
	}
	return netlink.Route{}, false, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones).Masked(), true
}

// ensureVethPair returns the host end (called name) and the namespace's
// end of the VPC's veth, making the pair unless both ends are there.
func ensureVethPair(hh *netlink.Handle, name string, ns netns.NsHandle, h *netlink.Handle) (netlink.Link, netlink.Link, error) {
	hostEnd, hostErr := hh.LinkByName(name)
	peer, peerErr := h.LinkByName(nsVethName)
	if hostErr == nil && peerErr == nil && hostEnd.Type() == "veth" && peer.Type() == "veth" {
		return hostEnd, peer, nil
	}
	if hostErr == nil {
		if err := hh.LinkDel(hostEnd); err != nil {
			return nil, nil, fmt.Errorf("delete stale host veth %s: %w", name, err)
		}
	}
	if peerErr == nil {
		if err := h.LinkDel(peer); err != nil && !isNotFound(err) {
			return nil, nil, fmt.Errorf("delete stale %s: %w", nsVethName, err)
		}
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: name},
		PeerName:      nsVethName,
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	if err := hh.LinkAdd(veth); err != nil {
		return nil, nil, fmt.Errorf("add veth %s: %w", name, err)
	}
	hostEnd, err := hh.LinkByName(name)
	if err != nil {
		return nil, nil, fmt.Errorf("find new host veth %s: %w", name, err)
	}
	peer, err = h.LinkByName(nsVethName)
	if err != nil {
		return nil, nil, fmt.Errorf("find new %s: %w", nsVethName, err)
	}
	return hostEnd, peer, nil
}

// configureNsEnd gives the namespace's end its address, a permanent
// neighbour entry for the host side and the default route through it.
func configureNsEnd(h *netlink.Handle, peer netlink.Link, hostMAC net.HardwareAddr) error {
	if err := h.AddrReplace(peer, addr(netip.PrefixFrom(nsSideAddr, 32))); err != nil {
		return fmt.Errorf("add %s to %s: %w", nsSideAddr, nsVethName, err)
	}
	if err := h.LinkSetUp(peer); err != nil {
		return fmt.Errorf("set %s up: %w", nsVethName, err)
	}
	neigh := &netlink.Neigh{
		LinkIndex:    peer.Attrs().Index,
		Family:       netlink.FAMILY_V4,
		State:        netlink.NUD_PERMANENT,
		IP:           hostSideAddr.AsSlice(),
		HardwareAddr: hostMAC,
	}
	if err := h.NeighSet(neigh); err != nil {
		return fmt.Errorf("neighbour %s on %s: %w", hostSideAddr, nsVethName, err)
	}
	route := &netlink.Route{
		LinkIndex: peer.Attrs().Index,
		Gw:        hostSideAddr.AsSlice(),
		Flags:     int(netlink.FLAG_ONLINK),
	}
	if err := h.RouteReplace(route); err != nil {
		return fmt.Errorf("default route via %s: %w", nsVethName, err)
	}
	return nil
}
