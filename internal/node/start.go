package node

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// Options are what `kumo node` and `kumo dev` give Start.
type Options struct {
	Server    string // host:port of the server's node listener
	JoinToken string // needed only until DataDir holds the node's certificate
	DataDir   string
	Name      string
	Zone      string
	Version   string
	// NetnsPrefix names the VPC network namespaces (guestnet.DefaultPrefix
	// when empty); ExposeToHost routes VPC addresses from the host (kumo dev).
	NetnsPrefix  string
	ExposeToHost bool
	Capacity     nodeapi.Capacity // zero fields are measured
	// UnderlayAddress is the node's VXLAN endpoint address (an IP of this
	// host the other nodes reach); empty: no overlay (a single node).
	UnderlayAddress string
	// MetricsListen serves Prometheus metrics at /metrics; empty: off.
	MetricsListen string
	// Uplink is the host interface public addresses are published on
	// (Config.Uplink); empty: they reach only this host.
	Uplink string
	// DNSUpstreams are the resolvers the VPC resolver forwards to
	// (Config.DNSUpstreams, checked by ParseUpstreams); none by default.
	DNSUpstreams []string
	// HostNetns is the network namespace (a path such as /run/netns/x)
	// holding the underlay and the host side of the guests' networks;
	// empty: this process's own. Tests run several "hosts" on one machine.
	HostNetns string
	// Accel is `--accel`: auto (or ""), kvm or tcg (see ChooseAccel).
	// AccelChoice, when set, is a choice already made (kumo dev probes
	// before it starts anything) and Accel is not looked at.
	Accel       string
	AccelChoice *qemu.Choice
	// VolumeExportAddr is host:port where the node serves its volumes
	// over NBD to other nodes (Config.VolumeExportAddr). Empty: the
	// underlay address (127.0.0.1 without one) on DefaultVolumeExportPort,
	// unless HostNetns is set (the storage daemon runs in the agent's own
	// namespace, which cannot bind that address): then none.
	VolumeExportAddr string
	Logger           *slog.Logger
}

// DefaultVolumeExportPort is the NBD port of a node's volume exports
// (IANA's for NBD).
const DefaultVolumeExportPort = "10809"

func volumeExportAddr(o Options) string {
	switch {
	case o.VolumeExportAddr != "":
		return o.VolumeExportAddr
	case o.HostNetns != "":
		return ""
	case o.UnderlayAddress != "":
		return net.JoinHostPort(o.UnderlayAddress, DefaultVolumeExportPort)
	}
	return net.JoinHostPort("127.0.0.1", DefaultVolumeExportPort)
}

// Start connects to the server (joining it with the token the first time)
// and runs the agent with the real QEMU driver and guest networking until
// ctx ends.
func Start(ctx context.Context, o Options) error {
	var underlay netip.Addr
	if o.UnderlayAddress != "" {
		a, err := netip.ParseAddr(o.UnderlayAddress)
		if err != nil {
			return fmt.Errorf("node: underlay address: %w", err)
		}
		underlay = a.Unmap()
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	upstreams, err := ParseUpstreams(o.DNSUpstreams)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	choice := o.AccelChoice
	if choice == nil {
		c, err := ChooseAccel(ctx, qemu.Driver{}, o.Accel, 0, log)
		if err != nil {
			return fmt.Errorf("node: %w", err)
		}
		choice = &c
	}
	mgr, err := guestnet.New(guestnet.Config{Prefix: o.NetnsPrefix, ExposeToHost: o.ExposeToHost, HostNetns: o.HostNetns, Logger: o.Logger})
	if err != nil {
		return fmt.Errorf("node: guest network: %w", err)
	}
	claim, err := claimHost(mgr, o)
	if err != nil {
		return err
	}
	defer claim.Release()
	client, err := nodeapi.Dial(ctx, nodeapi.DialConfig{Server: o.Server, DataDir: o.DataDir, JoinToken: o.JoinToken, Name: o.Name, Logger: o.Logger})
	if err != nil {
		return fmt.Errorf("node: connect to %s: %w", o.Server, err)
	}
	defer client.Close()
	return Run(ctx, Config{
		DataDir: o.DataDir, Name: o.Name, Zone: o.Zone, Version: o.Version, Capacity: o.Capacity,
		Driver: QEMU{Driver: qemu.Driver{Accelerator: choice.Accel}}, AccelReason: choice.Reason, Network: GuestNet{mgr}, Objects: client.Objects(), Connector: client, Logger: o.Logger,
		Underlay: underlay, MetricsListen: o.MetricsListen, Uplink: o.Uplink, HostReachesGuests: o.ExposeToHost,
		DNSUpstreams: upstreams, VolumeExportAddr: volumeExportAddr(o),
	})
}

// GuestNet adapts a *guestnet.Manager to Network.
type GuestNet struct{ M *guestnet.Manager }

// EnsureSubnet implements Network.
func (g GuestNet) EnsureSubnet(ctx context.Context, vpcID, vpcCIDR, subnetID, subnetCIDR, gateway string) (Subnet, error) {
	s, err := g.M.EnsureSubnet(ctx, vpcID, vpcCIDR, subnetID, subnetCIDR, gateway)
	return Subnet{VPCID: s.VPCID, Netns: s.Netns, Bridge: s.Bridge, Gateway: s.Gateway}, err
}

// EnsureTap implements Network.
func (g GuestNet) EnsureTap(ctx context.Context, s Subnet, instanceID string) (string, error) {
	return g.M.EnsureTap(ctx, guestnet.Subnet{VPCID: s.VPCID, Netns: s.Netns, Bridge: s.Bridge, Gateway: s.Gateway}, instanceID)
}

// DeleteTap implements Network.
func (g GuestNet) DeleteTap(ctx context.Context, vpcID, instanceID string) error {
	return g.M.DeleteTap(ctx, vpcID, instanceID)
}

// DeleteVPC implements Network.
func (g GuestNet) DeleteVPC(ctx context.Context, vpcID string) error {
	return g.M.DeleteVPC(ctx, vpcID)
}

// ListenIMDS implements Network.
func (g GuestNet) ListenIMDS(ctx context.Context, vpcID string) (net.Listener, error) {
	return g.M.ListenIMDS(ctx, vpcID)
}

// EnsureOverlay implements Network.
func (g GuestNet) EnsureOverlay(ctx context.Context, vpcID string, vni uint32, underlay netip.Addr, peers []guestnet.Peer) error {
	return g.M.EnsureOverlay(ctx, vpcID, vni, underlay, peers)
}

// CheckOverlay implements Network.
func (g GuestNet) CheckOverlay(ctx context.Context, vpcID string, vni uint32, underlay netip.Addr, peers []guestnet.Peer) (bool, error) {
	return g.M.CheckOverlay(ctx, vpcID, vni, underlay, peers)
}

var _ Network = GuestNet{}

var _ Hypervisor = QEMU{Driver: qemu.Driver{}}
