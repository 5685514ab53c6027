//go:build linux

package guestnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// overlayLink is the VPC's vxlan device inside its namespace.
const overlayLink = "vxlan-vpc"

// VXLAN's encapsulation overhead: outer Ethernet 14 + IP (20 or 40) +
// UDP 8 + VXLAN 8.
const (
	vxlanOverhead4 = 50
	vxlanOverhead6 = 70
)

const ipv6AddrGenModeNone = 1 // IN6_ADDR_GEN_MODE_NONE

// EnsureOverlay makes the VPC's namespace (which EnsureSubnet must have
// made) reach the given peers' guests over VXLAN, and converges the
// forwarding state to exactly them: the vxlan device (VNI vni, local
// address underlay, UDP VXLANPort, no learning, no default destination,
// its socket in the host's namespace), one FDB entry per peer, and per
// remote guest a /32 route and a permanent neighbour entry. Entries for
// peers and guests no longer listed are removed; a device of the wrong
// shape is recreated. Every bridge of the namespace answers ARP for the
// remote guests (proxy ARP), so guests of one subnet reach each other
// across nodes. A peer whose underlay is the local address is ignored.
// The guest addresses of peers must not be those of local guests.
func (m *Manager) EnsureOverlay(ctx context.Context, vpcID string, vni uint32, underlay netip.Addr, peers []Peer) error {
	changes, err := m.overlay(ctx, vpcID, vni, underlay, peers, true)
	if err != nil {
		return fmt.Errorf("ensure overlay of vpc %s: %w", vpcID, err)
	}
	if len(changes) > 0 {
		m.log.Info("converged vpc overlay", "vpc", vpcID, "vni", vni,
			"changes", len(changes), "first", changes[:min(len(changes), 10)])
	}
	return nil
}

// CheckOverlay reports whether EnsureOverlay with the same arguments would
// change anything (a missing namespace counts as drift), changing nothing.
// Neighbour entries the kernel learnt on its own are not drift.
func (m *Manager) CheckOverlay(ctx context.Context, vpcID string, vni uint32, underlay netip.Addr, peers []Peer) (bool, error) {
	changes, err := m.overlay(ctx, vpcID, vni, underlay, peers, false)
	if err != nil {
		return false, fmt.Errorf("check overlay of vpc %s: %w", vpcID, err)
	}
	if len(changes) > 0 {
		m.log.Debug("vpc overlay drifted", "vpc", vpcID, "vni", vni, "drift", changes[:min(len(changes), 10)])
	}
	return len(changes) > 0, nil
}

// DeleteOverlay removes the VPC's vxlan device and, with it, its FDB
// entries, neighbours and routes. A missing device or namespace is fine.
func (m *Manager) DeleteOverlay(ctx context.Context, vpcID string) error {
	if err := checkID("vpc", vpcID); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	path := m.NetnsPath(vpcID)
	if ok, err := isNetns(path); err != nil || !ok {
		return err
	}
	if err := deleteLinkIn(path, overlayLink); err != nil {
		return fmt.Errorf("delete overlay of vpc %s: %w", vpcID, err)
	}
	return nil
}

// overlay compares (and with fix, converges) the VPC's overlay with the
// desired one, and returns what differed.
func (m *Manager) overlay(ctx context.Context, vpcID string, vni uint32, underlay netip.Addr, peers []Peer, fix bool) ([]string, error) {
	spec, err := newOverlaySpec(vpcID, vni, underlay, peers)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	path := m.NetnsPath(vpcID)
	if ok, err := isNetns(path); err != nil {
		return nil, err
	} else if !ok {
		if fix {
			return nil, fmt.Errorf("no namespace %s: EnsureSubnet first", path)
		}
		return []string{"namespace missing"}, nil
	}
	r := &overlayRun{spec: spec, fix: fix, path: path, log: m.log}
	err = m.withHost(func(hostNs netns.NsHandle, hh *netlink.Handle) error {
		return withNetns(path, func(ns netns.NsHandle, h *netlink.Handle) error {
			r.hostNs, r.hh, r.ns, r.h = hostNs, hh, ns, h
			return r.run()
		})
	})
	return r.changes, err
}

// overlayRun is one comparison of a VPC's overlay with its spec.
type overlayRun struct {
	spec overlaySpec
	fix  bool
	path string // the VPC's namespace
	log  *slog.Logger

	hostNs netns.NsHandle
	hh     *netlink.Handle // in the host's namespace
	ns     netns.NsHandle
	h      *netlink.Handle // in the VPC's namespace

	changes []string // differences found (and, with fix, repaired)
}

func (r *overlayRun) change(format string, args ...any) {
	r.changes = append(r.changes, fmt.Sprintf(format, args...))
}

func (r *overlayRun) run() error {
	vx, err := r.ensureLink()
	if err != nil || vx == nil {
		return err
	}
	idx := vx.Attrs().Index
	if err := r.convergeFDB(idx); err != nil {
		return err
	}
	if err := r.convergeNeighbours(idx); err != nil {
		return err
	}
	if err := r.convergeRoutes(idx); err != nil {
		return err
	}
	bridges, err := bridgesIn(r.h)
	if err != nil {
		return err
	}
	changes, err := syncProxyARP(r.path, bridges, r.fix)
	r.changes = append(r.changes, changes...)
	return err
}

// ensureLink returns the VPC's vxlan device, up, making it anew unless it
// has the right shape. Without fix it returns nil when the device would be
// made.
func (r *overlayRun) ensureLink() (netlink.Link, error) {
	mtu, err := r.underlayMTU()
	if err != nil {
		return nil, err
	}
	link, err := r.h.LinkByName(overlayLink)
	switch {
	case isNotFound(err):
		r.change("vxlan device missing")
	case err != nil:
		return nil, fmt.Errorf("find %s: %w", overlayLink, err)
	default:
		wrong, err := r.linkMismatch(link)
		if err != nil {
			return nil, err
		}
		if wrong == "" {
			return link, r.tuneLink(link, mtu)
		}
		r.change("vxlan device %s", wrong)
		if r.fix {
			if err := r.h.LinkDel(link); err != nil {
				return nil, fmt.Errorf("delete %s: %w", overlayLink, err)
			}
		}
	}
	if !r.fix {
		return nil, nil
	}
	return r.addLink(mtu)
}

// linkMismatch says what makes link not the device the spec wants, or ""
// when it is.
func (r *overlayRun) linkMismatch(link netlink.Link) (string, error) {
	vx, ok := link.(*netlink.Vxlan)
	if !ok {
		return "is a " + link.Type(), nil
	}
	src, _ := netip.AddrFromSlice(vx.SrcAddr)
	switch {
	case vx.VxlanId != int(r.spec.vni):
		return fmt.Sprintf("has vni %d", vx.VxlanId), nil
	case src.Unmap() != r.spec.local:
		return fmt.Sprintf("has local address %s", src), nil
	case vx.Port != VXLANPort:
		return fmt.Sprintf("has port %d", vx.Port), nil
	case vx.Learning, vx.FlowBased:
		return "learns or is external", nil
	case vx.Group != nil && !vx.Group.IsUnspecified():
		return "has a default destination " + vx.Group.String(), nil
	case !bytes.Equal(vx.HardwareAddr, r.spec.mac):
		return "has address " + vx.HardwareAddr.String(), nil
	}
	// The device's "link netns" is where its UDP socket lives.
	hostID, err := r.h.GetNetNsIdByFd(int(r.hostNs))
	if err != nil {
		return "", fmt.Errorf("id of the host netns: %w", err)
	}
	if vx.NetNsID < 0 || vx.NetNsID != hostID {
		return "has its socket outside the host namespace", nil
	}
	return "", nil
}

// tuneLink sets what can change in place: the MTU and the up flag.
func (r *overlayRun) tuneLink(link netlink.Link, mtu int) error {
	if link.Attrs().MTU != mtu {
		r.change("vxlan device mtu %d, want %d", link.Attrs().MTU, mtu)
		if r.fix {
			if err := r.h.LinkSetMTU(link, mtu); err != nil {
				return fmt.Errorf("set %s mtu: %w", overlayLink, err)
			}
		}
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		r.change("vxlan device down")
		if r.fix {
			if err := r.h.LinkSetUp(link); err != nil {
				return fmt.Errorf("set %s up: %w", overlayLink, err)
			}
		}
	}
	return nil
}

// addLink creates the vxlan device from the host's namespace directly
// into the VPC's: the kernel keeps a vxlan device's UDP socket in the
// namespace that created it, so encapsulated packets use the host's
// underlay while the device routes inside the VPC.
func (r *overlayRun) addLink(mtu int) (netlink.Link, error) {
	s := r.spec
	err := r.hh.LinkAdd(&netlink.Vxlan{
		LinkAttrs: netlink.LinkAttrs{
			Name:         overlayLink,
			HardwareAddr: s.mac,
			MTU:          mtu,
			Namespace:    netlink.NsFd(int(r.ns)),
		},
		VxlanId: int(s.vni),
		SrcAddr: s.local.AsSlice(),
		Port:    VXLANPort,
	})
	if err != nil {
		return nil, fmt.Errorf("add vxlan %s (vni %d, local %s): %w", overlayLink, s.vni, s.local, err)
	}
	link, err := r.h.LinkByName(overlayLink)
	if err != nil {
		return nil, fmt.Errorf("find new %s: %w", overlayLink, err)
	}
	// No IPv6 link-local address: the device would only send router
	// solicitations and MLD reports that no FDB entry matches.
	if err := r.h.LinkSetIP6AddrGenMode(link, ipv6AddrGenModeNone); err != nil {
		r.log.Debug("cannot turn off ipv6 addresses on the vxlan device", "vpc", s.vpcID, "err", err)
	}
	if err := r.h.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("set %s up: %w", overlayLink, err)
	}
	r.log.Info("created vxlan device", "vpc", s.vpcID, "vni", s.vni, "local", s.local, "mtu", mtu)
	return link, nil
}

// underlayMTU is the MTU left for guests' packets by the host interface
// that carries the local underlay address.
func (r *overlayRun) underlayMTU() (int, error) {
	family, overhead := netlink.FAMILY_V4, vxlanOverhead4
	if r.spec.local.Is6() {
		family, overhead = netlink.FAMILY_V6, vxlanOverhead6
	}
	addrs, err := r.hh.AddrList(nil, family)
	if err != nil {
		return 0, fmt.Errorf("list host addresses: %w", err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == r.spec.local {
			link, err := r.hh.LinkByIndex(a.LinkIndex)
			if err != nil {
				return 0, fmt.Errorf("find the underlay interface: %w", err)
			}
			return link.Attrs().MTU - overhead, nil
		}
	}
	return 0, fmt.Errorf("underlay address %s is on no interface of the host", r.spec.local)
}

// convergeFDB keeps exactly one permanent FDB entry per peer on the vxlan
// device: its endpoint MAC → its underlay address. With no all-zeros
// entry, frames to any other MAC are dropped, never flooded.
func (r *overlayRun) convergeFDB(idx int) error {
	have, err := r.h.NeighList(idx, unix.AF_BRIDGE)
	if err != nil {
		return fmt.Errorf("list fdb of %s: %w", overlayLink, err)
	}
	want := maps.Clone(r.spec.fdb)
	for _, n := range have {
		dst, _ := netip.AddrFromSlice(n.IP)
		dst = dst.Unmap()
		mac := n.HardwareAddr.String()
		if w, ok := want[mac]; ok && w == dst && n.State&netlink.NUD_PERMANENT != 0 &&
			(n.VNI == 0 || n.VNI == int(r.spec.vni)) {
			delete(want, mac)
			continue
		}
		r.change("stale fdb entry %s dst %s", mac, dst)
		if !r.fix {
			continue
		}
		del := &netlink.Neigh{LinkIndex: idx, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF,
			HardwareAddr: n.HardwareAddr, IP: n.IP, VNI: n.VNI}
		if err := r.h.NeighDel(del); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete fdb entry %s dst %s: %w", mac, dst, err)
		}
	}
	for _, mac := range slices.Sorted(maps.Keys(want)) {
		dst := want[mac]
		r.change("missing fdb entry %s dst %s", mac, dst)
		if !r.fix {
			continue
		}
		hw, _ := net.ParseMAC(mac)
		if err := r.h.NeighSet(&netlink.Neigh{LinkIndex: idx, Family: unix.AF_BRIDGE,
			Flags: netlink.NTF_SELF, State: netlink.NUD_PERMANENT, HardwareAddr: hw, IP: dst.AsSlice()}); err != nil {
			return fmt.Errorf("add fdb entry %s dst %s: %w", mac, dst, err)
		}
	}
	return nil
}

// convergeNeighbours keeps a permanent ARP entry per remote guest on the
// vxlan device, naming its node's endpoint MAC, so that the device never
// sends ARP. Other entries are removed; only permanent ones count as
// drift, as the kernel makes and ages the others on its own.
func (r *overlayRun) convergeNeighbours(idx int) error {
	have, err := r.h.NeighList(idx, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list neighbours of %s: %w", overlayLink, err)
	}
	want := maps.Clone(r.spec.neigh)
	for _, n := range have {
		ip, _ := netip.AddrFromSlice(n.IP)
		ip = ip.Unmap()
		w, ok := want[ip]
		permanent := n.State&netlink.NUD_PERMANENT != 0
		if ok && permanent && bytes.Equal(n.HardwareAddr, w) {
			delete(want, ip)
			continue
		}
		if permanent || ok {
			r.change("stale neighbour %s lladdr %s", ip, n.HardwareAddr)
		}
		if !r.fix {
			continue
		}
		del := &netlink.Neigh{LinkIndex: idx, Family: netlink.FAMILY_V4, IP: n.IP}
		if err := r.h.NeighDel(del); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete neighbour %s: %w", ip, err)
		}
	}
	for _, ip := range slices.SortedFunc(maps.Keys(want), netip.Addr.Compare) {
		r.change("missing neighbour %s", ip)
		if !r.fix {
			continue
		}
		if err := r.h.NeighSet(&netlink.Neigh{LinkIndex: idx, Family: netlink.FAMILY_V4,
			State: netlink.NUD_PERMANENT, IP: ip.AsSlice(), HardwareAddr: want[ip]}); err != nil {
			return fmt.Errorf("add neighbour %s: %w", ip, err)
		}
	}
	return nil
}

// convergeRoutes keeps exactly a /32 route per remote guest through the
// vxlan device in the namespace's main table.
func (r *overlayRun) convergeRoutes(idx int) error {
	have, err := r.h.RouteListFiltered(netlink.FAMILY_V4,
		&netlink.Route{LinkIndex: idx, Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_OIF|netlink.RT_FILTER_TABLE)
	if err != nil {
		return fmt.Errorf("list routes via %s: %w", overlayLink, err)
	}
	want := maps.Clone(r.spec.neigh)
	for _, rt := range have {
		if dst, ok := routeHost(rt); ok {
			if _, wanted := want[dst]; wanted {
				delete(want, dst)
				continue
			}
		}
		r.change("stale route %s", rt.Dst)
		if r.fix {
			if err := r.h.RouteDel(&rt); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("delete route %s: %w", rt.Dst, err)
			}
		}
	}
	for _, ip := range slices.SortedFunc(maps.Keys(want), netip.Addr.Compare) {
		r.change("missing route %s", ip)
		if !r.fix {
			continue
		}
		rt := &netlink.Route{LinkIndex: idx, Dst: ipNet(netip.PrefixFrom(ip, 32)),
			Scope: netlink.SCOPE_LINK, Table: unix.RT_TABLE_MAIN}
		if err := r.h.RouteReplace(rt); err != nil {
			return fmt.Errorf("add route %s via %s: %w", ip, overlayLink, err)
		}
	}
	return nil
}

// routeHost returns the address of a plain /32 route, one this package
// would have made.
func routeHost(rt netlink.Route) (netip.Addr, bool) {
	if rt.Dst == nil || rt.Gw != nil || len(rt.MultiPath) > 0 || rt.Scope != netlink.SCOPE_LINK {
		return netip.Addr{}, false
	}
	p, ok := prefixOf(rt.Dst)
	if !ok || !p.Addr().Is4() || p.Bits() != 32 {
		return netip.Addr{}, false
	}
	return p.Addr(), true
}

func bridgesIn(h *netlink.Handle) ([]string, error) {
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var names []string
	for _, l := range links {
		if l.Type() == "bridge" {
			names = append(names, l.Attrs().Name)
		}
	}
	return names, nil
}

// syncProxyARP checks (and with fix, sets) proxy ARP without delay on the
// given bridges of the namespace at path, and returns what differed. A
// bridge then answers a guest's ARP request for any address the namespace
// routes through another device — the remote guests of its subnet — with
// its own MAC, and never for guests on the bridge itself.
func syncProxyARP(path string, bridges []string, fix bool) ([]string, error) {
	var changes []string
	err := InNetns(path, func() error {
		for _, br := range bridges {
			for _, kv := range [][2]string{
				{"net/ipv4/conf/" + br + "/proxy_arp", "1"},
				{"net/ipv4/neigh/" + br + "/proxy_delay", "0"},
			} {
				b, err := os.ReadFile("/proc/sys/" + kv[0])
				if err != nil {
					return fmt.Errorf("read sysctl %s: %w", kv[0], err)
				}
				if strings.TrimSpace(string(b)) == kv[1] {
					continue
				}
				changes = append(changes, fmt.Sprintf("sysctl %s=%s", kv[0], strings.TrimSpace(string(b))))
				if !fix {
					continue
				}
				if err := os.WriteFile("/proc/sys/"+kv[0], []byte(kv[1]), 0o644); err != nil {
					return fmt.Errorf("sysctl %s=%s: %w", kv[0], kv[1], err)
				}
			}
		}
		return nil
	})
	return changes, err
}
