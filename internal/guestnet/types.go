package guestnet

import (
	"log/slog"
	"net/netip"
	"sync"
)

// IMDSAddress is the metadata service's address. EnsureSubnet puts it on
// each VPC namespace's lo and ListenIMDS listens on it.
const IMDSAddress = "169.254.169.254"

// Config configures a Manager.
type Config struct {
	// Prefix names this node's namespaces: "<Prefix>-<vpc-id>" under
	// /run/netns. Letters and digits only (so that one agent's prefix is
	// never another's plus a dash); default "kumo".
	Prefix string
	// ExposeToHost gives each VPC namespace a veth to the host and a host
	// route to the VPC's CIDR (kumo dev). The route is skipped, with a log
	// line, when the CIDR overlaps a route the host already has.
	ExposeToHost bool
	// HostNetns is the path of the network namespace that stands for the
	// node's host: the host veths of ExposeToHost and the VXLAN sockets of
	// EnsureOverlay live there. Empty means the namespace of the calling
	// process; tests set it to run one Manager per simulated node.
	HostNetns string
	// OwnersDir holds the owner records of the prefixes on this host
	// (default OwnersDir): a VPC route that overlaps one of a Kumo no
	// longer running is taken over.
	OwnersDir string
	Logger    *slog.Logger
}

// Manager creates and removes guest networks on this host. It is safe for
// concurrent use.
type Manager struct {
	prefix    string
	expose    bool
	hostNetns string // "" for the process's own namespace
	log       *slog.Logger
	netnsDir  string
	ownersDir string

	mu            sync.Mutex      // serialises changes to the host's networking
	overlapLogged map[string]bool // VPCs not exposed for an overlap, logged once
}

// Subnet is a subnet's bridge inside its VPC's namespace.
type Subnet struct {
	VPCID   string
	Netns   string // path, /run/netns/<Prefix>-<vpc-id>
	Bridge  string // the bridge's name inside Netns
	Gateway netip.Prefix
}
