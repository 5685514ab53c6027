//go:build linux

package guestnet

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// imdsAddr is the metadata service's address, on each VPC namespace's lo.
var imdsAddr = netip.MustParseAddr(IMDSAddress)

// EnsureSubnet creates, unless they are there, the VPC's network namespace
// (lo up, ip_forward on, 169.254.169.254/32 on lo, and with ExposeToHost
// the veth to the host) and in it the subnet's bridge, up, carrying the
// gateway address with the subnet's prefix length. An empty gateway means
// the subnet's first address.
func (m *Manager) EnsureSubnet(ctx context.Context, vpcID, vpcCIDR, subnetID, subnetCIDR, gateway string) (Subnet, error) {
	s, vpcNet, err := m.parseSubnet(vpcID, vpcCIDR, subnetID, subnetCIDR, gateway)
	if err != nil {
		return Subnet{}, err
	}
	if err := ctx.Err(); err != nil {
		return Subnet{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.ensureVPC(vpcID, vpcNet); err != nil {
		return Subnet{}, fmt.Errorf("ensure vpc %s: %w", vpcID, err)
	}
	if err := withNetns(s.Netns, func(_ netns.NsHandle, h *netlink.Handle) error {
		return ensureBridge(h, s.Bridge, bridgeMAC(vpcID, subnetID), s.Gateway)
	}); err != nil {
		return Subnet{}, fmt.Errorf("ensure subnet %s in vpc %s: %w", subnetID, vpcID, err)
	}
	// Ready for the overlay: the bridge answers for the subnet's guests on
	// other nodes (see EnsureOverlay).
	if _, err := syncProxyARP(s.Netns, []string{s.Bridge}, true); err != nil {
		return Subnet{}, fmt.Errorf("ensure subnet %s in vpc %s: %w", subnetID, vpcID, err)
	}
	return s, nil
}

func (m *Manager) parseSubnet(vpcID, vpcCIDR, subnetID, subnetCIDR, gateway string) (Subnet, netip.Prefix, error) {
	if err := errors.Join(checkID("vpc", vpcID), checkID("subnet", subnetID)); err != nil {
		return Subnet{}, netip.Prefix{}, err
	}
	vpcNet, err := parseIPv4Prefix(vpcCIDR)
	if err != nil {
		return Subnet{}, netip.Prefix{}, fmt.Errorf("vpc %s cidr: %w", vpcID, err)
	}
	subnet, err := parseIPv4Prefix(subnetCIDR)
	if err != nil {
		return Subnet{}, netip.Prefix{}, fmt.Errorf("subnet %s cidr: %w", subnetID, err)
	}
	gw := subnet.Addr().Next()
	if gateway != "" {
		if gw, err = netip.ParseAddr(gateway); err != nil {
			return Subnet{}, netip.Prefix{}, fmt.Errorf("subnet %s gateway: %w", subnetID, err)
		}
	}
	if !subnet.Contains(gw) || gw == subnet.Addr() {
		return Subnet{}, netip.Prefix{}, fmt.Errorf("subnet %s: gateway %s is not a host of %s", subnetID, gw, subnet)
	}
	return Subnet{
		VPCID:   vpcID,
		Netns:   m.NetnsPath(vpcID),
		Bridge:  bridgeName(subnetID),
		Gateway: netip.PrefixFrom(gw, subnet.Bits()),
	}, vpcNet, nil
}

func parseIPv4Prefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%s is not IPv4", s)
	}
	return p.Masked(), nil
}

// ensureVPC makes the VPC's namespace, its lo and, as configured, its veth
// to the host.
func (m *Manager) ensureVPC(vpcID string, vpcNet netip.Prefix) error {
	path := m.NetnsPath(vpcID)
	created, err := ensureNetns(m.netnsDir, path)
	if err != nil {
		return err
	}
	if created {
		m.log.Info("created vpc network namespace", "vpc", vpcID, "netns", path)
	}
	if err := setSysctl(path, "net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	return withNetns(path, func(ns netns.NsHandle, h *netlink.Handle) error {
		if err := ensureLoopback(h); err != nil {
			return err
		}
		return m.withHost(func(_ netns.NsHandle, hh *netlink.Handle) error {
			return m.ensureHostPort(hh, vpcID, vpcNet, ns, h)
		})
	})
}

func ensureLoopback(h *netlink.Handle) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	if err := h.AddrReplace(lo, addr(netip.PrefixFrom(imdsAddr, 32))); err != nil {
		return fmt.Errorf("add %s to lo: %w", imdsAddr, err)
	}
	return nil
}

// ensureBridge makes the bridge name with the given MAC address and
// address, up.
func ensureBridge(h *netlink.Handle, name string, mac net.HardwareAddr, gw netip.Prefix) error {
	br, err := ensureLink(h, name, "bridge", func() netlink.Link {
		return &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, HardwareAddr: mac}}
	})
	if err != nil {
		return err
	}
	if br.Attrs().HardwareAddr.String() != mac.String() {
		if err := h.LinkSetHardwareAddr(br, mac); err != nil {
			return fmt.Errorf("set %s address: %w", name, err)
		}
	}
	if err := h.AddrReplace(br, addr(gw)); err != nil {
		return fmt.Errorf("add %s to %s: %w", gw, name, err)
	}
	if err := h.LinkSetUp(br); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	return nil
}

// ensureLink returns the link called name when it has the type wanted;
// otherwise it deletes whatever has that name and adds newLink().
func ensureLink(h *netlink.Handle, name, typ string, newLink func() netlink.Link) (netlink.Link, error) {
	link, err := h.LinkByName(name)
	if err == nil && link.Type() == typ {
		return link, nil
	}
	if err == nil {
		if err := h.LinkDel(link); err != nil {
			return nil, fmt.Errorf("delete %s %s: %w", link.Type(), name, err)
		}
	} else if !isNotFound(err) {
		return nil, fmt.Errorf("find %s: %w", name, err)
	}
	if err := h.LinkAdd(newLink()); err != nil {
		return nil, fmt.Errorf("add %s %s: %w", typ, name, err)
	}
	link, err = h.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("find new %s: %w", name, err)
	}
	return link, nil
}

// bridgeMAC is a subnet's bridge's fixed, locally administered address:
// without one a bridge takes its lowest port's, and guests' ARP caches of
// the gateway would go stale whenever a tap joined.
func bridgeMAC(vpcID, subnetID string) net.HardwareAddr {
	h := sha256.Sum256([]byte(vpcID + "/" + subnetID))
	return net.HardwareAddr{0x02, h[0], h[1], h[2], h[3], h[4]}
}

// withHost opens the host's namespace (Config.HostNetns, or the calling
// thread's, which is the process's: only InNetns switches threads, and it
// keeps them locked) and a netlink handle in it.
func (m *Manager) withHost(fn func(netns.NsHandle, *netlink.Handle) error) error {
	if m.hostNetns != "" {
		return withNetns(m.hostNetns, fn)
	}
	ns, err := netns.Get()
	if err != nil {
		return fmt.Errorf("open host netns: %w", err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in the host netns: %w", err)
	}
	defer h.Close()
	return fn(ns, h)
}

// withNetns opens the namespace at path and a netlink handle in it.
func withNetns(path string, fn func(netns.NsHandle, *netlink.Handle) error) error {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", path, err)
	}
	defer h.Close()
	return fn(ns, h)
}

func addr(p netip.Prefix) *netlink.Addr {
	return &netlink.Addr{IPNet: ipNet(p)}
}

func ipNet(p netip.Prefix) *net.IPNet {
	bits := 128
	if p.Addr().Is4() {
		bits = 32
	}
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), bits)}
}

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}
