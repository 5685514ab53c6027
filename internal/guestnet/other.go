//go:build !linux

package guestnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
)

var errUnsupported = fmt.Errorf("guestnet on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// InNetns needs Linux.
func InNetns(string, func() error) error { return errUnsupported }

// EnsureSubnet needs Linux.
func (m *Manager) EnsureSubnet(context.Context, string, string, string, string, string) (Subnet, error) {
	return Subnet{}, errUnsupported
}

// EnsureTap needs Linux.
func (m *Manager) EnsureTap(context.Context, Subnet, string) (string, error) {
	return "", errUnsupported
}

// DeleteTap needs Linux.
func (m *Manager) DeleteTap(context.Context, string, string) error { return errUnsupported }

// ListenIMDS needs Linux.
func (m *Manager) ListenIMDS(context.Context, string) (net.Listener, error) {
	return nil, errUnsupported
}

// ListenDNS needs Linux.
func (m *Manager) ListenDNS(context.Context, string, []netip.Addr) ([]net.PacketConn, []net.Listener, error) {
	return nil, nil, errUnsupported
}

// DeleteVPC needs Linux.
func (m *Manager) DeleteVPC(context.Context, string) error { return errUnsupported }

// VPCs needs Linux.
func (m *Manager) VPCs() ([]string, error) { return nil, errUnsupported }

// EnsureOverlay needs Linux.
func (m *Manager) EnsureOverlay(context.Context, string, uint32, netip.Addr, []Peer) error {
	return errUnsupported
}

// CheckOverlay needs Linux.
func (m *Manager) CheckOverlay(context.Context, string, uint32, netip.Addr, []Peer) (bool, error) {
	return false, errUnsupported
}

// DeleteOverlay needs Linux.
func (m *Manager) DeleteOverlay(context.Context, string) error { return errUnsupported }

// EnsurePublic needs Linux.
func (m *Manager) EnsurePublic(context.Context, string, []netip.Prefix, []PublicAddr) error {
	return errUnsupported
}

// CheckPublic needs Linux.
func (m *Manager) CheckPublic(context.Context, string, []netip.Prefix, []PublicAddr) (bool, error) {
	return false, errUnsupported
}

// HostNetnsPath needs Linux.
func (m *Manager) HostNetnsPath() string { return "" }

// EnsureSubnetRoutes needs Linux.
func (m *Manager) EnsureSubnetRoutes(context.Context, Subnet, []SubnetRoute) error {
	return errUnsupported
}

// CheckSubnetRoutes needs Linux.
func (m *Manager) CheckSubnetRoutes(context.Context, Subnet, []SubnetRoute) (bool, error) {
	return false, errUnsupported
}

// Claim needs Linux.
type Claim struct{ Owner Owner }

// ClaimPrefix needs Linux.
func ClaimPrefix(string, Owner) (*Claim, error) { return nil, errUnsupported }

// Release needs Linux.
func (c *Claim) Release() {}

// Forget needs Linux.
func (c *Claim) Forget(string) error { return errUnsupported }

// Owners needs Linux.
func Owners(string) ([]Owner, error) { return nil, errUnsupported }

// RemoveHostState needs Linux.
func (m *Manager) RemoveHostState(bool) (Removed, error) { return Removed{}, errUnsupported }

// ReclaimStale needs Linux.
func (m *Manager) ReclaimStale(string) ([]Owner, error) { return nil, errUnsupported }
