//go:build linux

package guestnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// ListenIMDS listens on TCP 169.254.169.254:80 inside the VPC's namespace,
// which EnsureSubnet must have made.
func (m *Manager) ListenIMDS(ctx context.Context, vpcID string) (net.Listener, error) {
	if err := checkID("vpc", vpcID); err != nil {
		return nil, err
	}
	var ln net.Listener
	err := InNetns(m.NetnsPath(vpcID), func() error {
		var err error
		ln, err = new(net.ListenConfig).Listen(ctx, "tcp4", net.JoinHostPort(IMDSAddress, "80"))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen for metadata in vpc %s: %w", vpcID, err)
	}
	return ln, nil
}

// DeleteVPC removes the VPC's namespace and, with it, its bridges and
// taps, and the host veth and route if any. A missing VPC is fine. The
// namespace lives on while processes (QEMU) or sockets still use it.
func (m *Manager) DeleteVPC(ctx context.Context, vpcID string) error {
	if err := checkID("vpc", vpcID); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.withHost(func(_ netns.NsHandle, hh *netlink.Handle) error {
		return m.removeHostVeth(hh, vpcID)
	}); err != nil {
		return fmt.Errorf("delete vpc %s: %w", vpcID, err)
	}
	if err := removeNetns(m.NetnsPath(vpcID)); err != nil {
		return fmt.Errorf("delete vpc %s: %w", vpcID, err)
	}
	delete(m.overlapLogged, vpcID)
	m.log.Info("deleted vpc network namespace", "vpc", vpcID)
	return nil
}

// VPCs returns the ids of the VPCs whose namespaces (with this Manager's
// prefix) exist, to clean up after a restart.
func (m *Manager) VPCs() ([]string, error) {
	entries, err := os.ReadDir(m.netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list vpc namespaces: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if id, ok := m.vpcFromNetns(e.Name()); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// removeHostVeth deletes the VPC's host veth (its peer and the host route
// go with it); missing is fine. hh is a handle in the host's namespace.
func (m *Manager) removeHostVeth(hh *netlink.Handle, vpcID string) error {
	name := m.hostVethName(vpcID)
	link, err := hh.LinkByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find host veth %s: %w", name, err)
	}
	if err := hh.LinkDel(link); err != nil {
		return fmt.Errorf("delete host veth %s: %w", name, err)
	}
	m.log.Info("removed host veth", "vpc", vpcID, "veth", name)
	return nil
}
