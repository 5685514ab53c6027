//go:build linux

package guestnet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// rtprotKumo marks the host routes of published addresses (a routing
// protocol number of our own, as routing daemons do), so that the ones
// no longer wanted are found again after a restart.
const rtprotKumo netlink.RouteProtocol = 75

// EnsurePublic publishes exactly the given public addresses on the host:
// a route for each to its VPC's namespace (where sgfilter.BuildPublic's
// NAT maps it to the guest), and, with an uplink, a proxy neighbour entry
// on it so that the uplink's network reaches the host for the address and
// IPv4 forwarding on; an address newly published is announced by
// gratuitous ARP (it may have moved from another node). Routes of
// addresses no longer wanted are removed, and so are proxy entries on the
// uplink inside pool that are not wanted.
func (m *Manager) EnsurePublic(ctx context.Context, uplink string, pool []netip.Prefix, addrs []PublicAddr) error {
	_, err := m.public(ctx, uplink, pool, addrs, true)
	return err
}

// CheckPublic reports whether EnsurePublic would change anything.
func (m *Manager) CheckPublic(ctx context.Context, uplink string, pool []netip.Prefix, addrs []PublicAddr) (bool, error) {
	drift, err := m.public(ctx, uplink, pool, addrs, false)
	if len(drift) > 0 {
		m.log.Debug("public addresses drifted", "changes", strings.Join(drift, "; "))
	}
	return len(drift) > 0, err
}

func (m *Manager) public(ctx context.Context, uplink string, pool []netip.Prefix, addrs []PublicAddr, fix bool) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var drift, announce []string
	var upIndex int
	err := m.withHost(func(_ netns.NsHandle, hh *netlink.Handle) error {
		ports, err := m.hostPorts(hh)
		if err != nil {
			return err
		}
		want := map[netip.Addr]int{}
		for _, a := range addrs {
			idx, ok := ports[m.hostVethName(a.VPCID)]
			if !ok || !a.Addr.Is4() {
				m.log.Warn("not publishing an address: its vpc has no port on this host, or it is not IPv4", "vpc", a.VPCID, "addr", a.Addr)
				continue
			}
			want[a.Addr] = idx
		}
		d, err := publicRoutes(hh, ports, want, fix)
		drift = append(drift, d...)
		if err != nil || uplink == "" {
			return err
		}
		link, err := hh.LinkByName(uplink)
		if err != nil {
			return fmt.Errorf("uplink %s: %w", uplink, err)
		}
		upIndex = link.Attrs().Index
		d, announce, err = proxyEntries(hh, upIndex, pool, want, fix)
		drift = append(drift, d...)
		return err
	})
	if err != nil {
		return drift, fmt.Errorf("publish public addresses: %w", err)
	}
	if uplink == "" {
		return drift, nil
	}
	d, err := m.hostForwarding(fix)
	drift = append(drift, d...)
	if err == nil && fix && len(announce) > 0 {
		go m.announce(upIndex, announce)
	}
	return drift, err
}

// hostPorts are the host ends of this manager's VPC veths, by name.
func (m *Manager) hostPorts(hh *netlink.Handle) (map[string]int, error) {
	vpcs, err := m.VPCs()
	if err != nil {
		return nil, err
	}
	ports := map[string]int{}
	for _, v := range vpcs {
		name := m.hostVethName(v)
		if link, err := hh.LinkByName(name); err == nil {
			ports[name] = link.Attrs().Index
		}
	}
	return ports, nil
}

// publicRoutes converges the host's routes of published addresses (ours:
// protocol rtprotKumo through one of ports) to want (address → port index).
func publicRoutes(hh *netlink.Handle, ports map[string]int, want map[netip.Addr]int, fix bool) ([]string, error) {
	routes, err := hh.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN, Protocol: rtprotKumo},
		netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return nil, fmt.Errorf("list host routes: %w", err)
	}
	ours := map[int]bool{}
	for _, idx := range ports {
		ours[idx] = true
	}
	var drift []string
	have := map[netip.Addr]bool{}
	for _, r := range routes {
		if !ours[r.LinkIndex] || r.Dst == nil {
			continue
		}
		p, ok := prefixOf(r.Dst)
		gwOK := r.Gw != nil && r.Gw.Equal(nsSideAddr.AsSlice())
		if ok && p.Bits() == 32 && want[p.Addr()] == r.LinkIndex && gwOK {
			have[p.Addr()] = true
			continue
		}
		drift = append(drift, "stale route "+r.Dst.String())
		if fix {
			if err := hh.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
				return drift, fmt.Errorf("delete route %s: %w", r.Dst, err)
			}
		}
	}
	for _, a := range sortedAddrs(want) {
		if have[a] {
			continue
		}
		drift = append(drift, "missing route "+a.String())
		if !fix {
			continue
		}
		r := &netlink.Route{LinkIndex: want[a], Dst: ipNet(netip.PrefixFrom(a, 32)), Gw: nsSideAddr.AsSlice(),
			Flags: int(netlink.FLAG_ONLINK), Protocol: rtprotKumo, Table: unix.RT_TABLE_MAIN}
		if err := hh.RouteReplace(r); err != nil {
			return drift, fmt.Errorf("route %s: %w", a, err)
		}
	}
	return drift, nil
}

// proxyEntries converges the uplink's proxy neighbour entries inside pool
// to the addresses of want, and returns those it added.
func proxyEntries(hh *netlink.Handle, uplink int, pool []netip.Prefix, want map[netip.Addr]int, fix bool) (drift, added []string, err error) {
	list, err := hh.NeighProxyList(uplink, netlink.FAMILY_V4)
	if err != nil {
		return nil, nil, fmt.Errorf("list proxy entries: %w", err)
	}
	have := map[netip.Addr]bool{}
	for _, n := range list {
		a, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		a = a.Unmap()
		if _, wanted := want[a]; wanted {
			have[a] = true
			continue
		}
		if !slices.ContainsFunc(pool, func(p netip.Prefix) bool { return p.Contains(a) }) {
			continue // not ours to manage
		}
		drift = append(drift, "stale proxy entry "+a.String())
		if fix {
			if err := hh.NeighDel(&netlink.Neigh{LinkIndex: uplink, Family: netlink.FAMILY_V4, Flags: netlink.NTF_PROXY, IP: a.AsSlice()}); err != nil && !errors.Is(err, unix.ENOENT) {
				return drift, added, fmt.Errorf("delete proxy entry %s: %w", a, err)
			}
		}
	}
	for _, a := range sortedAddrs(want) {
		if have[a] {
			continue
		}
		drift = append(drift, "missing proxy entry "+a.String())
		if !fix {
			continue
		}
		if err := hh.NeighSet(&netlink.Neigh{LinkIndex: uplink, Family: netlink.FAMILY_V4, Flags: netlink.NTF_PROXY, IP: a.AsSlice()}); err != nil {
			return drift, added, fmt.Errorf("proxy entry %s: %w", a, err)
		}
		added = append(added, a.String())
	}
	return drift, added, nil
}

func sortedAddrs(m map[netip.Addr]int) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// hostForwarding makes sure the host forwards IPv4 (the uplink's traffic
// to published addresses crosses it); the forwarding policy (which
// interfaces may talk) is sgfilter.BuildHostPolicy's.
func (m *Manager) hostForwarding(fix bool) ([]string, error) {
	const key = "net/ipv4/ip_forward"
	var on bool
	read := func() error {
		b, err := os.ReadFile("/proc/sys/" + key)
		on = err == nil && strings.TrimSpace(string(b)) == "1"
		return err
	}
	var err error
	if m.hostNetns != "" {
		err = InNetns(m.hostNetns, read)
	} else {
		err = read()
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if on {
		return nil, nil
	}
	if !fix {
		return []string{"host forwarding off"}, nil
	}
	if m.hostNetns != "" {
		err = setSysctl(m.hostNetns, key, "1")
	} else {
		err = os.WriteFile("/proc/sys/"+key, []byte("1"), 0o644)
	}
	return []string{"host forwarding off"}, err
}

// announce sends gratuitous ARP for addresses now published through the
// uplink, three times, so neighbours whose cache names another node (the
// address moved) switch at once.
func (m *Manager) announce(uplink int, addrs []string) {
	send := func() error {
		link, err := netlink.LinkByIndex(uplink)
		if err != nil {
			return err
		}
		return gratuitousARP(link.Attrs().Index, link.Attrs().HardwareAddr, addrs)
	}
	for i, wait := range []time.Duration{0, 300 * time.Millisecond, time.Second} {
		time.Sleep(wait)
		var err error
		if m.hostNetns != "" {
			err = InNetns(m.hostNetns, send)
		} else {
			err = send()
		}
		if err != nil {
			m.log.Warn("gratuitous ARP", "addrs", addrs, "try", i+1, "err", err)
		}
	}
}

// gratuitousARP broadcasts an ARP request from each address to itself
// with the interface's MAC address.
func gratuitousARP(ifindex int, mac net.HardwareAddr, addrs []string) error {
	if len(mac) != 6 {
		return fmt.Errorf("interface %d has no Ethernet address", ifindex)
	}
	proto := htons(unix.ETH_P_ARP)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return fmt.Errorf("packet socket: %w", err)
	}
	defer unix.Close(fd)
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	to := &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifindex, Halen: 6}
	copy(to.Addr[:], bcast)
	var errs []error
	for _, s := range addrs {
		ip, err := netip.ParseAddr(s)
		if err != nil || !ip.Is4() {
			continue
		}
		if err := unix.Sendto(fd, arpFrame(mac, ip), 0, to); err != nil {
			errs = append(errs, fmt.Errorf("send gratuitous ARP for %s: %w", s, err))
		}
	}
	return errors.Join(errs...)
}

// arpFrame is an Ethernet broadcast ARP request "who has ip? tell ip".
func arpFrame(mac net.HardwareAddr, ip netip.Addr) []byte {
	f := make([]byte, 0, 42)
	f = append(f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	f = append(f, mac...)
	f = binary.BigEndian.AppendUint16(f, unix.ETH_P_ARP)
	f = binary.BigEndian.AppendUint16(f, 1)      // Ethernet
	f = binary.BigEndian.AppendUint16(f, 0x0800) // IPv4
	f = append(f, 6, 4)
	f = binary.BigEndian.AppendUint16(f, 1) // request
	f = append(f, mac...)
	f = append(f, ip.AsSlice()...)
	f = append(f, 0, 0, 0, 0, 0, 0)
	return append(f, ip.AsSlice()...)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// HostNetnsPath names the host's network namespace: Config.HostNetns, or
// the calling thread's (a thread not switched by InNetns is in the
// process's own namespace).
func (m *Manager) HostNetnsPath() string {
	if m.hostNetns != "" {
		return m.hostNetns
	}
	return fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
}
