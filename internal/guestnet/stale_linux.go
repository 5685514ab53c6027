//go:build linux

package guestnet

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// RemoveHostState removes what this manager's prefix put on the host: the
// host veths of its VPC namespaces (with the routes through them: the
// VPCs' CIDRs and published addresses), the proxy entries of those
// addresses, the host forwarding table (sgfilter.BuildHostPolicy's) and,
// with namespaces, the namespaces themselves (their bridges, taps and
// tables go with them).
func (m *Manager) RemoveHostState(namespaces bool) (Removed, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out Removed
	vpcs, err := m.VPCs()
	if err != nil {
		return out, err
	}
	err = m.withHost(func(_ netns.NsHandle, hh *netlink.Handle) error {
		for _, vpc := range vpcs {
			if err := m.removePort(hh, vpc, &out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	table, err := m.deleteHostTable()
	if err != nil {
		return out, err
	}
	out.Table = table
	if !namespaces {
		return out, nil
	}
	for _, vpc := range vpcs {
		if err := removeNetns(m.NetnsPath(vpc)); err != nil {
			return out, err
		}
		out.Namespaces = append(out.Namespaces, m.netnsName(vpc))
	}
	return out, nil
}

// removePort deletes a VPC's host veth and the proxy entries of the
// addresses published through it.
func (m *Manager) removePort(hh *netlink.Handle, vpc string, out *Removed) error {
	name := m.hostVethName(vpc)
	link, err := hh.LinkByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find host veth %s: %w", name, err)
	}
	routes, err := hh.RouteList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("routes of %s: %w", name, err)
	}
	var published []netip.Addr
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		out.Routes = append(out.Routes, r.Dst.String())
		if p, ok := prefixOf(r.Dst); ok && r.Protocol == rtprotKumo && p.Bits() == 32 {
			published = append(published, p.Addr())
		}
	}
	if err := deleteProxyEntries(hh, published, out); err != nil {
		return err
	}
	if err := hh.LinkDel(link); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete host veth %s: %w", name, err)
	}
	out.Veths = append(out.Veths, name)
	return nil
}

// deleteProxyEntries removes the proxy neighbour entries of addrs, on any
// interface of the host.
func deleteProxyEntries(hh *netlink.Handle, addrs []netip.Addr, out *Removed) error {
	if len(addrs) == 0 {
		return nil
	}
	list, err := hh.NeighProxyList(0, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list proxy entries: %w", err)
	}
	for _, n := range list {
		a, ok := netip.AddrFromSlice(n.IP)
		if !ok || !slices.Contains(addrs, a.Unmap()) {
			continue
		}
		n.Flags = netlink.NTF_PROXY
		if err := hh.NeighDel(&n); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete proxy entry %s: %w", a, err)
		}
		out.ProxyEntries = append(out.ProxyEntries, a.Unmap().String())
	}
	return nil
}

// deleteHostTable deletes the prefix's host forwarding table, if any, and
// returns its name.
func (m *Manager) deleteHostTable() (string, error) {
	path := m.hostNetns
	if path == "" {
		path = "/proc/self/ns/net"
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open host netns: %w", err)
	}
	defer f.Close()
	c, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())))
	if err != nil {
		return "", fmt.Errorf("nftables: %w", err)
	}
	name := publicTableName + "_" + m.prefix
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return "", fmt.Errorf("list nftables tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == name {
			c.DelTable(t)
			if err := c.Flush(); err != nil {
				return "", fmt.Errorf("delete table inet %s: %w", name, err)
			}
			return "inet " + name, nil
		}
	}
	return "", nil
}

// ReclaimStale removes the host side (veths, routes, proxy entries, the
// forwarding table) of every prefix recorded in ownersDir whose owner is
// no longer running, other than this manager's own: its routes would
// shadow this node's VPCs and published addresses. Their namespaces and
// guests stay, for their own data dir's next start or reset.
func (m *Manager) ReclaimStale(ownersDir string) ([]Owner, error) {
	owners, err := Owners(ownersDir)
	if err != nil {
		return nil, err
	}
	var reclaimed []Owner
	var errs []error
	for _, o := range owners {
		if o.Alive || o.Prefix == m.prefix {
			continue
		}
		if o.HostNetns != "" {
			if ok, _ := isNetns(o.HostNetns); !ok {
				continue // its simulated host is gone, and all of it with it
			}
		}
		dead, err := New(Config{Prefix: o.Prefix, HostNetns: o.HostNetns, Logger: m.log})
		if err != nil {
			continue
		}
		removed, err := dead.RemoveHostState(false)
		if err != nil {
			errs = append(errs, fmt.Errorf("reclaim the host routes of prefix %s: %w", o.Prefix, err))
			continue
		}
		if !removed.Empty() {
			m.log.Warn("removed host routes left by a kumo that is no longer running; its namespaces and guests stay until it starts again or `kumo dev --reset` with its data dir",
				"prefix", o.Prefix, "dataDir", o.DataDir, "pid", o.PID, "removed", removed.String())
			reclaimed = append(reclaimed, o)
		}
	}
	return reclaimed, errors.Join(errs...)
}

// describeRoute names who owns the host route r: the namespace at the
// other end of its veth and that namespace's owner, for the message of a
// VPC not exposed because of it.
func describeRoute(hh *netlink.Handle, ownersDir, netnsDir string, r netlink.Route) string {
	link, err := hh.LinkByIndex(r.LinkIndex)
	if err != nil || link.Type() != "veth" {
		return "a route of this host"
	}
	ns := peerNamespace(hh, netnsDir, link.Attrs().NetNsID)
	if ns == "" {
		return fmt.Sprintf("a route through veth %s", link.Attrs().Name)
	}
	prefix, _, _ := strings.Cut(ns, "-")
	owners, _ := Owners(ownersDir)
	for _, o := range owners {
		if o.Prefix != prefix {
			continue
		}
		if o.Alive {
			return fmt.Sprintf("a route into namespace %s of the running kumo pid %d (data dir %s)", ns, o.PID, o.DataDir)
		}
		return fmt.Sprintf("a route into namespace %s of a kumo no longer running (data dir %s): `kumo dev --reset --data-dir %s` removes it", ns, o.DataDir, o.DataDir)
	}
	return fmt.Sprintf("a route into namespace %s that no Kumo on this host claims (left by an older version?): `ip netns del %s; ip link del %s` removes it",
		ns, ns, link.Attrs().Name)
}

// peerNamespace finds the name under netnsDir of the namespace with id
// nsid (as the host namespace numbers it).
func peerNamespace(hh *netlink.Handle, netnsDir string, nsid int) string {
	if nsid < 0 {
		return ""
	}
	ents, err := os.ReadDir(netnsDir)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		f, err := os.Open(netnsDir + "/" + e.Name())
		if err != nil {
			continue
		}
		id, err := hh.GetNetNsIdByFd(int(f.Fd()))
		f.Close()
		if err == nil && id == nsid {
			return e.Name()
		}
	}
	return ""
}
