//go:build linux

package guestnet

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// EnsureTap creates, unless it is there, the persistent tap (vnet_hdr,
// owned by root) named TapName(instanceID) in the subnet's namespace,
// enslaved to the subnet's bridge and up, and returns its name. The id is
// an instance's (its primary interface) or a network interface's ("eni-…",
// a further interface). QEMU opens it by name from a thread inside that
// namespace.
func (m *Manager) EnsureTap(ctx context.Context, s Subnet, instanceID string) (string, error) {
	if err := checkID("instance", instanceID); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	name := TapName(instanceID)
	m.mu.Lock()
	defer m.mu.Unlock()
	err := withNetns(s.Netns, func(_ netns.NsHandle, h *netlink.Handle) error {
		br, err := h.LinkByName(s.Bridge)
		if err != nil {
			return fmt.Errorf("find bridge %s: %w", s.Bridge, err)
		}
		tap, err := ensureTapLink(h, s.Netns, name)
		if err != nil {
			return err
		}
		if tap.Attrs().MasterIndex != br.Attrs().Index {
			if err := h.LinkSetMaster(tap, br); err != nil {
				return fmt.Errorf("enslave %s to %s: %w", name, s.Bridge, err)
			}
		}
		if err := h.LinkSetUp(tap); err != nil {
			return fmt.Errorf("set %s up: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("ensure tap for %s in %s: %w", instanceID, s.VPCID, err)
	}
	return name, nil
}

// ensureTapLink returns the persistent tap called name in the namespace at
// path, replacing a link of that name that is not one.
func ensureTapLink(h *netlink.Handle, path, name string) (netlink.Link, error) {
	link, err := h.LinkByName(name)
	if err == nil {
		if t, ok := link.(*netlink.Tuntap); ok && t.Mode == netlink.TUNTAP_MODE_TAP && !t.NonPersist {
			return link, nil
		}
		if err := h.LinkDel(link); err != nil {
			return nil, fmt.Errorf("delete %s %s: %w", link.Type(), name, err)
		}
	} else if !isNotFound(err) {
		return nil, fmt.Errorf("find %s: %w", name, err)
	}
	// The tap is made by an ioctl on /dev/net/tun, which acts in the
	// calling thread's namespace, so it is made from inside.
	err = InNetns(path, func() error {
		return netlink.LinkAdd(&netlink.Tuntap{
			LinkAttrs: netlink.LinkAttrs{Name: name},
			Mode:      netlink.TUNTAP_MODE_TAP,
			Flags:     netlink.TUNTAP_NO_PI | netlink.TUNTAP_VNET_HDR,
			Owner:     0,
			Group:     0,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("add tap %s: %w", name, err)
	}
	link, err = h.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("find new tap %s: %w", name, err)
	}
	return link, nil
}

// DeleteTap removes the tap of an instance or network interface (see
// EnsureTap) from the VPC's namespace. A missing tap or namespace is not
// an error.
func (m *Manager) DeleteTap(ctx context.Context, vpcID, instanceID string) error {
	if err := errors.Join(checkID("vpc", vpcID), checkID("instance", instanceID)); err != nil {
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
	name := TapName(instanceID)
	if err := deleteLinkIn(path, name); err != nil {
		return fmt.Errorf("delete tap %s of %s: %w", name, instanceID, err)
	}
	return nil
}

// deleteLinkIn deletes the link called name in the namespace at path;
// missing is fine.
func deleteLinkIn(path, name string) error {
	return withNetns(path, func(_ netns.NsHandle, h *netlink.Handle) error {
		link, err := h.LinkByName(name)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find %s: %w", name, err)
		}
		return h.LinkDel(link)
	})
}
