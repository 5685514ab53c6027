//go:build linux

package guestnet

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// ListenDNS puts each address on the lo of the VPC's namespace (which
// EnsureSubnet must have made), as a /32, and listens on UDP and TCP port
// 53 of each, for the VPC's resolver (the VPC's base address plus two and
// 169.254.169.253). Guests reach them through their gateway, as the
// metadata service; a guest of the subnet holding the base+2 address asks
// for it by ARP and the bridge answers for its namespace.
func (m *Manager) ListenDNS(ctx context.Context, vpcID string, addrs []netip.Addr) ([]net.PacketConn, []net.Listener, error) {
	if err := checkID("vpc", vpcID); err != nil {
		return nil, nil, err
	}
	path := m.NetnsPath(vpcID)
	if err := withNetns(path, func(_ netns.NsHandle, h *netlink.Handle) error {
		lo, err := h.LinkByName("lo")
		if err != nil {
			return fmt.Errorf("find lo: %w", err)
		}
		for _, a := range addrs {
			if err := h.AddrReplace(lo, addr(netip.PrefixFrom(a, 32))); err != nil {
				return fmt.Errorf("add %s to lo: %w", a, err)
			}
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("resolver addresses in vpc %s: %w", vpcID, err)
	}
	var pcs []net.PacketConn
	var lns []net.Listener
	err := InNetns(path, func() error {
		for _, a := range addrs {
			hostPort := net.JoinHostPort(a.String(), "53")
			pc, err := new(net.ListenConfig).ListenPacket(ctx, "udp4", hostPort)
			if err != nil {
				return err
			}
			pcs = append(pcs, pc)
			ln, err := new(net.ListenConfig).Listen(ctx, "tcp4", hostPort)
			if err != nil {
				return err
			}
			lns = append(lns, ln)
		}
		return nil
	})
	if err != nil {
		for _, pc := range pcs {
			pc.Close()
		}
		for _, ln := range lns {
			ln.Close()
		}
		return nil, nil, fmt.Errorf("listen for dns in vpc %s: %w", vpcID, err)
	}
	return pcs, lns, nil
}
