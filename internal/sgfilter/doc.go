// Package sgfilter turns EC2 security groups and per-interface
// anti-spoofing into nftables rules inside one VPC network namespace of a
// node, installed over netlink (github.com/google/nftables) in a single
// transaction per Apply.
//
// Build is pure: from the desired state (interfaces, groups, group
// members) it makes two tables, both named kumo_sg. Apply replaces both
// atomically (add, delete, add in one batch) and never touches other
// tables; Check/Diff compare what is installed with what Build makes
// (every rule carries its text as a comment), so a flushed or edited
// ruleset is found and re-applied by the agent.
//
// The bridge family has connection tracking only with nf_conntrack_bridge,
// which kernels may lack (this one does), so state lives in the inet family:
// br_netfilter (bridge-nf-call-iptables, set by Apply) sends bridged IPv4
// and IPv6 through the inet hooks. The inet hooks only see the bridge, not
// its ports, so the bridge table writes the guest ports into the packet
// mark first: low 16 bits = index of the port the frame came in on, high 16
// bits = index of the port it leaves by (0 = not a guest port).
//
//	frame from tap N
//	  │
//	  ▼ bridge kumo_sg prerouting (priority -300)
//	  │   meta mark set 0; iifname vmap @ports_in ──► port_N (anti-spoofing):
//	  │      ether saddr != MAC drop; mark = N
//	  │      ARP: sender MAC must be MAC, sender IP 0.0.0.0 or in @ips_N
//	  │      IPv4: udp sport 67 drop (no DHCP server); 0.0.0.0:68→:67 ok;
//	  │            ip saddr not in @ips_N drop (if SourceDestCheck)
//	  │      IPv6: no DHCPv6 server, no router advertisements
//	  │      anything else (VLAN tags, other ether types): drop
//	  ▼ bridge kumo_sg forward (priority -300), bridged frames only
//	  │   oifname vmap @ports_out ──► out_M: mark |= M<<16
//	  ▼ br_netfilter → inet hooks (conntrack); local traffic (DHCP, DNS,
//	  │   metadata served by the agent on the bridge and lo) goes to input
//	  │   and is never filtered by security groups, as in AWS
//	  ▼ inet kumo_sg forward (priority 0), bridged and routed traffic
//	      ct state established,related accept
//	      ct state invalid drop
//	      meta mark & 0xffff vmap @egress ──────► eg_N: group egress rules
//	                                                 (match → return), drop
//	      meta mark & 0xffff0000 vmap @ingress_port ─► in_M: group ingress
//	      meta nfproto ipv4 ip daddr vmap @ingress_addr ─► in_M   rules
//	                                        (routed traffic)  (match → accept), drop
//	      policy accept (traffic of no guest)
//
// Rules of all groups of an interface are unioned. A rule naming a group
// matches the peer address against the named set @<group id> of that
// group's member IPs. ICMP rules use FromPort/ToPort as type/code (-1 =
// any). Only IPv4 addresses are supported for interfaces and members;
// IPv6 CIDRs in rules are matched.
package sgfilter
