//go:build linux

package node

import (
	"context"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

// ApplyFilter implements Network.
func (g GuestNet) ApplyFilter(ctx context.Context, vpcID string, d sgfilter.Desired) error {
	return sgfilter.Apply(ctx, g.M.NetnsPath(vpcID), d)
}

// CheckFilter implements Network.
func (g GuestNet) CheckFilter(ctx context.Context, vpcID string, d sgfilter.Desired) (bool, error) {
	return sgfilter.Check(ctx, g.M.NetnsPath(vpcID), d)
}

// CheckLinks implements Network: the namespace must exist, the bridge be
// up, and the tap be up and enslaved to it. It only reads (a netlink dump
// of two links), so it is cheap enough for every repair interval.
func (g GuestNet) CheckLinks(ctx context.Context, s Subnet, tap string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !isNetns(s.Netns) {
		return true, nil
	}
	ns, err := netns.GetFromPath(s.Netns)
	if err != nil {
		return false, fmt.Errorf("check links: open netns %s: %w", s.Netns, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return false, fmt.Errorf("check links in %s: %w", s.Netns, err)
	}
	defer h.Close()
	br, err := h.LinkByName(s.Bridge)
	if err != nil {
		return true, nil // gone (or unreadable): EnsureSubnet says which
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		return true, nil
	}
	if tap == "" {
		return false, nil
	}
	t, err := h.LinkByName(tap)
	if err != nil {
		return true, nil
	}
	return t.Attrs().MasterIndex != br.Attrs().Index || t.Attrs().Flags&net.FlagUp == 0, nil
}

// isNetns reports whether path is a mounted network namespace.
func isNetns(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}
