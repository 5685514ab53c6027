// Package dhcpd is the node agent's DHCPv4 server. One Server is bound to one
// interface (a guest bridge or tap, possibly inside a network namespace) and
// answers only the clients its Leases know, each with its fixed address.
// There is no address pool: an unknown MAC address gets no answer at all.
//
// The packet logic (responder, replyDestination) is free of sockets and is
// tested with packets built by github.com/insomniacslk/dhcp; the sockets are
// a UDP socket on port 67 bound to the interface, and a link-layer socket for
// the unicast frames RFC 2131 §4.1 asks for when a client has no address yet
// and did not set the BROADCAST flag.
//
// The server trusts the client hardware address in the request. On a bridge
// it cannot tell which tap a request came in on, so the node's anti-spoofing
// rules must drop frames whose source MAC address is not the tap's own.
package dhcpd
