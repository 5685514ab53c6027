package dhcpd

import (
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// destKind says how a reply reaches the client (RFC 2131 §4.1).
type destKind int

const (
	toBroadcast destKind = iota // 255.255.255.255:68
	toClientIP                  // an IP unicast to a configured client
	toHardware                  // a unicast frame to chaddr, for a client without an address
	toRelay                     // to the relay agent at giaddr, port 67
)

func (k destKind) String() string {
	switch k {
	case toBroadcast:
		return "broadcast"
	case toClientIP:
		return "unicast"
	case toHardware:
		return "frame"
	case toRelay:
		return "relay"
	}
	return "unknown"
}

// destination is where a reply goes.
type destination struct {
	kind destKind
	ip   netip.Addr       // unset for toBroadcast
	mac  net.HardwareAddr // only for toHardware
	port int
}

// replyDestination applies RFC 2131 §4.1: a relay gets every reply; a NAK
// is broadcast; a client with an address ('ciaddr') gets a unicast; a client
// that set the BROADCAST flag gets a broadcast; any other client gets a
// unicast frame to its hardware address and the offered address.
func replyDestination(req, resp *dhcpv4.DHCPv4) destination {
	if relay, ok := addrOf(req.GatewayIPAddr); ok {
		return destination{kind: toRelay, ip: relay, port: dhcpv4.ServerPort}
	}
	bcast := destination{kind: toBroadcast, port: dhcpv4.ClientPort}
	if resp.MessageType() == dhcpv4.MessageTypeNak {
		return bcast
	}
	if ci, ok := addrOf(req.ClientIPAddr); ok {
		return destination{kind: toClientIP, ip: ci, port: dhcpv4.ClientPort}
	}
	yi, ok := addrOf(resp.YourIPAddr)
	if req.IsBroadcast() || !ok {
		return bcast
	}
	return destination{kind: toHardware, ip: yi, mac: req.ClientHWAddr, port: dhcpv4.ClientPort}
}
