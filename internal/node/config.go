// Package node is the node agent (`kumo node`): it turns the server's
// nodeapi.Desired into QEMU guests on this host and reports what it observes
// as nodeapi.Report.
//
// The agent keeps nothing durable of its own: the guests are daemonized QEMU
// processes whose run directories (DataDir/instances/<id>) let a restarted
// agent find them again, and everything else is rebuilt from the server's
// desired state. Each instance is reconciled by a worker of its own, so a
// slow stop of one guest never holds up the others.
package node

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/sgfilter"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/volume"
)

// DefaultCmdline is the kernel command line of a direct kernel boot: the
// serial console is what GetConsoleOutput returns.
const DefaultCmdline = "console=ttyS0"

// Config is what Run needs. DataDir, Zone, Driver, Objects and Connector
// are required.
type Config struct {
	DataDir string
	Name    string // node name; the host name when empty
	Zone    string
	Version string
	// Capacity overrides what the host offers; zero fields are measured
	// (CPUs, memory less a reserve, the disk of DataDir).
	Capacity nodeapi.Capacity

	Driver Hypervisor
	// AccelReason is why Driver's accelerator was chosen (ChooseAccel),
	// reported with it.
	AccelReason string
	// Network makes subnets and taps; nil gives guests QEMU's user-mode
	// network (restrict=on): no DHCP, no metadata service. For tests.
	Network   Network
	Objects   snapshot.Objects
	Connector Connector
	Images    qemuimg.Images // qemuimg.Tool{} when nil
	Cmdline   string         // DefaultCmdline when empty
	Logger    *slog.Logger
	Now       func() time.Time

	// PollInterval is how often a worker looks at its guest and the
	// console is checked for news (1 s when zero).
	PollInterval time.Duration

	// Underlay is this node's VXLAN tunnel endpoint address, reported as
	// NodeInfo.Address. Invalid (zero): no overlay, guests of a VPC reach
	// only guests on this node.
	Underlay netip.Addr
	// Uplink is the host interface through which guests' public addresses
	// reach the operator's network (proxy ARP, forwarding); empty: public
	// addresses reach only this host.
	Uplink string
	// HostReachesGuests lets the host and guests talk by private
	// addresses through the VPC namespaces' ports (kumo dev's
	// ExposeToHost); otherwise only translated public traffic passes.
	HostReachesGuests bool
	// RebootTimeout is how long a reboot waits for the guest's OS to
	// reboot when asked before it resets the guest, as EC2 does
	// (DefaultRebootTimeout when zero).
	RebootTimeout time.Duration
	// RepairInterval is how often the network (bridges, taps, overlay,
	// security groups) is checked against the desired state and repaired
	// (DefaultRepairInterval when zero).
	RepairInterval time.Duration
	// DNSUpstreams are the resolvers (ip:port) the VPC resolver forwards
	// names other than Kumo's to; none: other names are refused.
	DNSUpstreams []string
	// MetricsListen is the address of the Prometheus metrics listener
	// (/metrics); empty: none.
	MetricsListen string
	// VolumeBackends are the volume backends by name (nodeapi's
	// VolumeBackendLocal, VolumeBackendRBD); nil: the embedded one, a
	// qcow2 file per volume in DataDir/volumes.
	VolumeBackends map[string]volume.Backend
	// VolumeExportAddr is host:port where the node's storage daemon
	// serves volumes over NBD for other nodes to copy (an address they
	// reach); empty: the node exports nothing.
	VolumeExportAddr string
	// Metrics is the registry the agent's metrics go to and MetricsListen
	// serves; a new one when nil (never the global default).
	Metrics *prometheus.Registry
}

// DefaultRebootTimeout is how long a reboot waits for the guest's OS before
// a hard reset: EC2's four minutes.
const DefaultRebootTimeout = 4 * time.Minute

// DefaultRepairInterval is how often the agent looks for network drift.
const DefaultRepairInterval = 2 * time.Second

// Connector opens a stream to the server (nodeapi.Client implements it).
// The session ends when its context does.
type Connector interface {
	Connect(ctx context.Context) (nodeapi.Session, error)
}

// Network is what the agent needs of the node's guest networking. It
// mirrors *guestnet.Manager, whose Subnet type is adapted to Subnet (see
// Start).
type Network interface {
	EnsureSubnet(ctx context.Context, vpcID, vpcCIDR, subnetID, subnetCIDR, gateway string) (Subnet, error)
	// EnsureTap makes a persistent tap inside the subnet's network
	// namespace, on its bridge, and returns its name; id is the instance's
	// for its primary interface, the interface's for the others (tapID).
	EnsureTap(ctx context.Context, subnet Subnet, id string) (string, error)
	DeleteTap(ctx context.Context, vpcID, instanceID string) error
	// DeleteVPC removes the VPC's namespace with its bridges and taps.
	DeleteVPC(ctx context.Context, vpcID string) error
	// ListenIMDS listens on 169.254.169.254:80 inside the VPC's namespace.
	ListenIMDS(ctx context.Context, vpcID string) (net.Listener, error)
	// CheckLinks reports whether the subnet's bridge and the instance's
	// tap on it are missing (true: EnsureSubnet and EnsureTap must run).
	CheckLinks(ctx context.Context, subnet Subnet, tap string) (bool, error)
	// EnsureOverlay and CheckOverlay are guestnet.Manager's: the VPC's
	// VXLAN to the other nodes, and whether it drifted.
	EnsureOverlay(ctx context.Context, vpcID string, vni uint32, underlay netip.Addr, peers []guestnet.Peer) error
	CheckOverlay(ctx context.Context, vpcID string, vni uint32, underlay netip.Addr, peers []guestnet.Peer) (bool, error)
	// ApplyFilter installs the security groups of the VPC's namespace
	// (sgfilter.Apply); CheckFilter reports whether they drifted.
	ApplyFilter(ctx context.Context, vpcID string, d sgfilter.Desired) error
	CheckFilter(ctx context.Context, vpcID string, d sgfilter.Desired) (bool, error)
}

// Subnet is a subnet's bridge on this node.
type Subnet struct {
	VPCID, Netns, Bridge string       // Netns: a path; "" for the host's
	Gateway              netip.Prefix // the bridge's address, "10.0.1.1/24"
}

// Hypervisor starts and finds guests (QEMU adapts qemu.Driver to it).
type Hypervisor interface {
	Accel() qemu.Accel
	Start(ctx context.Context, s qemu.Spec) (Guest, error)
	Attach(ctx context.Context, runDir string) (Guest, error)
}

// Guest is one running guest.
type Guest interface {
	PID() int
	Exited() bool
	Status(ctx context.Context) (qemu.State, error)
	// RequestReboot asks the guest's OS to reboot (ctrl-alt-delete);
	// GuestResets counts the times the guest reset itself since it was
	// attached (its OS rebooted); Reboot is a hardware reset.
	RequestReboot(ctx context.Context) error
	GuestResets() int64
	Reboot(ctx context.Context) error
	Stop(ctx context.Context, force bool) error
	Cleanup() error
	Close() error
	// PoweredOff reports whether the guest itself asked to power off
	// (a QMP SHUTDOWN event from the guest) since it was attached.
	PoweredOff() bool
}
