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
// Every step is idempotent: calling an Ensure function again, or after a
// crash halfway, converges on the same state.
package guestnet
