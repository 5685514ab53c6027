//go:build linux

package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/kumo-cloud/kumo/internal/guestnet"
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

// ApplyPublic implements PublicNetwork.
func (g GuestNet) ApplyPublic(ctx context.Context, vpcID string, p sgfilter.Public) error {
	rs, err := sgfilter.BuildPublic(p)
	if err != nil {
		return err
	}
	return sgfilter.ApplyRuleset(ctx, g.M.NetnsPath(vpcID), rs)
}

// CheckPublicPath implements PublicNetwork.
func (g GuestNet) CheckPublicPath(ctx context.Context, vpcID string, p sgfilter.Public) (bool, error) {
	rs, err := sgfilter.BuildPublic(p)
	if err != nil {
		return false, err
	}
	why, err := sgfilter.DiffRuleset(ctx, g.M.NetnsPath(vpcID), rs)
	return why != "", err
}

// EnsurePublic implements PublicNetwork.
func (g GuestNet) EnsurePublic(ctx context.Context, uplink string, pool []netip.Prefix, addrs []guestnet.PublicAddr) error {
	return g.M.EnsurePublic(ctx, uplink, pool, addrs)
}

// CheckPublic implements PublicNetwork.
func (g GuestNet) CheckPublic(ctx context.Context, uplink string, pool []netip.Prefix, addrs []guestnet.PublicAddr) (bool, error) {
	return g.M.CheckPublic(ctx, uplink, pool, addrs)
}

// hostPolicy builds the host's forwarding policy for the VPCs' ports.
func (g GuestNet) hostPolicy(vpcIDs []string, uplink string) (*sgfilter.Ruleset, error) {
	ports := make([]string, 0, len(vpcIDs))
	for _, id := range vpcIDs {
		ports = append(ports, g.M.HostPort(id))
	}
	return sgfilter.BuildHostPolicy(g.M.Prefix(), ports, uplink)
}

// ApplyHostPolicy implements PublicNetwork.
func (g GuestNet) ApplyHostPolicy(ctx context.Context, vpcIDs []string, uplink string) error {
	rs, err := g.hostPolicy(vpcIDs, uplink)
	if err != nil {
		return err
	}
	return sgfilter.ApplyRuleset(ctx, g.M.HostNetnsPath(), rs)
}

// CheckHostPolicy implements PublicNetwork.
func (g GuestNet) CheckHostPolicy(ctx context.Context, vpcIDs []string, uplink string) (bool, error) {
	rs, err := g.hostPolicy(vpcIDs, uplink)
	if err != nil {
		return false, err
	}
	why, err := sgfilter.DiffRuleset(ctx, g.M.HostNetnsPath(), rs)
	return why != "", err
}

var _ PublicNetwork = GuestNet{}

func (g GuestNet) subnet(s Subnet) guestnet.Subnet {
	return guestnet.Subnet{VPCID: s.VPCID, Netns: s.Netns, Bridge: s.Bridge, Gateway: s.Gateway}
}

// EnsureSubnetRoutes implements RouteNetwork.
func (g GuestNet) EnsureSubnetRoutes(ctx context.Context, s Subnet, routes []guestnet.SubnetRoute) error {
	return g.M.EnsureSubnetRoutes(ctx, g.subnet(s), routes)
}

// CheckSubnetRoutes implements RouteNetwork.
func (g GuestNet) CheckSubnetRoutes(ctx context.Context, s Subnet, routes []guestnet.SubnetRoute) (bool, error) {
	return g.M.CheckSubnetRoutes(ctx, g.subnet(s), routes)
}

var _ RouteNetwork = GuestNet{}

// TapExists implements TapChecker.
func (g GuestNet) TapExists(ctx context.Context, s Subnet, tap string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !isNetns(s.Netns) {
		return false, nil
	}
	ns, err := netns.GetFromPath(s.Netns)
	if err != nil {
		return false, fmt.Errorf("open netns %s: %w", s.Netns, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return false, fmt.Errorf("netlink in %s: %w", s.Netns, err)
	}
	defer h.Close()
	_, err = h.LinkByName(tap)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return false, nil
	}
	return err == nil, err
}

var _ TapChecker = GuestNet{}
