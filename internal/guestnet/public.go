package guestnet

import "net/netip"

// PublicAddr is a public address (an elastic IP) this node publishes for
// a guest of a VPC: the host routes it into the VPC's namespace.
type PublicAddr struct {
	VPCID string
	Addr  netip.Addr
}

// NamespacePort is the name of a VPC namespace's interface to the host,
// through which its public addresses come and go.
const NamespacePort = "veth-host"

// nsVethName is the namespace's end of the veth to the host.
const nsVethName = NamespacePort

// HostPort is the name of the host's end of a VPC namespace's veth.
func (m *Manager) HostPort(vpcID string) string { return m.hostVethName(vpcID) }

// Prefix is the manager's namespace prefix (Config.Prefix or the default):
// it names this node's things on a shared host.
func (m *Manager) Prefix() string { return m.prefix }

// SubnetRoute is one route of a subnet's route table that a node carries
// out in the VPC namespace: to a next hop (an instance's private address)
// or, with no next hop, a blackhole.
type SubnetRoute struct {
	Destination netip.Prefix
	NextHop     netip.Addr // invalid: blackhole
}
