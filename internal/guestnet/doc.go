// Package guestnet builds a node's guest networks on one host: a network
// namespace per VPC, a bridge per subnet inside it and a tap per instance,
// all with netlink (never by running ip).
//
// Layout on a node, one VPC shown:
//
//	host ──(veth, only with ExposeToHost)── VPC netns [lo: 169.254.169.254]
//	                                          ├─ bridge per subnet (gateway) ─┬─ tap ── QEMU guest
//	                                          │                               └─ tap ── QEMU guest
//	                                          └─ bridge per subnet (gateway) ─── tap ── QEMU guest
//
// In detail:
//
//	host network namespace: nothing unless ExposeToHost, then
//	  <host veth>       no address; route <VPC CIDR> via 169.254.0.2 onlink
//	      │
//	VPC netns /run/netns/<Prefix>-<vpc-id>, ip_forward=1
//	  veth-host         169.254.0.2/32; default via 169.254.0.1, a permanent
//	                    neighbour entry naming the host veth's MAC address
//	  lo                127.0.0.1/8, 169.254.169.254/32 (ListenIMDS)
//	  br-<subnet>       gateway, e.g. 10.0.1.1/24; fixed MAC address
//	    tap per instance (TapName), enslaved, opened by QEMU
//	  br-<subnet>       gateway, e.g. 10.0.2.1/24
//	    tap …
//
// Guests reach the metadata service at 169.254.169.254 through their
// gateway: the bridge delivers to the namespace, which owns the address on
// its loopback. Different VPCs live in different namespaces, so their
// address ranges may overlap freely. Taps are persistent (vnet_hdr, owned
// by root) and QEMU opens them by name from a thread switched into the
// namespace (InNetns).
//
// With ExposeToHost (kumo dev) a veth joins the namespace to the host so
// that the host can reach guests by their private addresses. The host side
// carries no address: the namespace resolves its gateway 169.254.0.1 by a
// permanent neighbour entry, and the host routes the VPC's CIDR to
// 169.254.0.2 on that veth, so no link-local addresses are allocated on the
// host and every VPC uses the same pair. The route is skipped (and logged)
// when the VPC's CIDR overlaps a route the host already has. Nothing
// touches the host's uplink and there is no NAT.
//
// # Overlay between nodes (EnsureOverlay)
//
// A VPC is one VXLAN network (one VNI) across the nodes that host its
// guests, and the nodes route between each other at layer 3 over it: no
// bridge spans two nodes, nothing is flooded and nothing is learnt. Each
// VPC namespace holds one vxlan device, created from the host's namespace
// so that its UDP socket (port 4789, bound on the host) stays there while
// the device routes inside the VPC. Its MAC address is derived from the
// VNI and the node's underlay address (vtepMAC), so every node knows every
// other node's without being told. For each remote guest, node A has:
//
//	route     10.0.1.20/32 dev vxlan-vpc scope link          (per remote guest)
//	neighbour 10.0.1.20 lladdr <B's MAC in this VNI> permanent (per remote guest)
//	fdb       <B's MAC in this VNI> dst <B's underlay> permanent (per peer node)
//
// and each subnet bridge answers ARP for addresses routed through another
// device (proxy_arp, proxy_delay 0): a guest asking for a remote guest of
// its own subnet gets its gateway's MAC, while guests on the bridge itself
// answer for themselves.
//
//	node A (underlay 198.18.0.1)                 node B (underlay 198.18.0.2)
//	host netns: UDP 4789 socket ◄── underlay ──► host netns: UDP 4789 socket
//	      ┆ (VNI 101)                                  ┆ (VNI 101)
//	VPC netns                                    VPC netns
//	  vxlan-vpc  06:..:A (no address)              vxlan-vpc  06:..:B
//	    ▲ 10.0.1.20/32, 10.0.2.30/32                 ▲ 10.0.1.10/32
//	  br 10.0.1.1/24 (proxy ARP)                   br 10.0.1.1/24    br 10.0.2.1/24
//	    guest 10.0.1.10                              guest 10.0.1.20   guest 10.0.2.30
//
// 10.0.1.10 → 10.0.1.20 (same subnet): the guest ARPs, A's bridge answers
// with its own MAC, A's namespace routes the packet out of vxlan-vpc to
// B's device MAC, the FDB sends it to 198.18.0.2:4789 with VNI 101, B's
// host socket hands it to B's vxlan-vpc (the frame is addressed to its MAC),
// and B's namespace routes it to its bridge and the guest. Across subnets
// the guest sends to its gateway and the rest is the same. A frame for any
// MAC without an FDB entry (and any broadcast) is dropped by the vxlan
// device: there is no all-zeros default entry. A VPC with the same CIDR
// has another namespace and VNI, so its traffic never meets this one's.
// The vxlan device's MTU is the underlay interface's less 50 bytes;
// guests should be told that MTU (DHCP option 26) or the underlay given
// jumbo frames, otherwise full-size packets between nodes rely on path
// MTU discovery (the namespace answers "fragmentation needed"). The
// underlay is trusted: anyone who can send UDP to port 4789 of a node
// can inject into a VPC whose VNI they know.
//
// EnsureOverlay converges the device and these entries to exactly the
// peers given (stale ones removed, a device of the wrong shape recreated);
// CheckOverlay reports whether it would change anything, for drift repair.
// Config.HostNetns lets tests run one Manager per simulated node, each
// with a namespace of its own as the node's host namespace.
//
// Every step is idempotent: calling an Ensure function again, or after a
// crash halfway, converges on the same state.
package guestnet
