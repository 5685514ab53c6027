package sgfilter

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Rule is one security-group permission, as EC2's IpPermission holds it.
type Rule struct {
	// Protocol is "-1" (or "all") for every protocol, "tcp", "udp", "icmp",
	// "icmpv6", or an IP protocol number.
	Protocol string
	// FromPort and ToPort are the port range for tcp and udp (-1 or 0..65535
	// means all ports); for icmp they are the ICMP type and code (-1 = all).
	FromPort, ToPort int
	// CIDRs are the peer address ranges (source for ingress, destination for
	// egress).
	CIDRs []netip.Prefix
	// Groups are referenced security-group ids: the peer must be one of the
	// private IPs listed for that group in Desired.Members.
	Groups []string
}

// Group is a security group.
type Group struct {
	ID string
	// Ingress rules; none means nothing is let in.
	Ingress []Rule
	// Egress rules; none means nothing is let out (a new group in EC2 has
	// the rule "-1 to 0.0.0.0/0").
	Egress []Rule
}

// Interface is a guest network interface on a bridge of the namespace.
type Interface struct {
	// Tap is the bridge port of the guest.
	Tap string
	// MAC is the only source MAC the guest may use.
	MAC net.HardwareAddr
	// IPs are the interface's private IPv4 addresses: the only sources the
	// guest may use in IPv4 and ARP (IPv4 only if SourceDestCheck).
	IPs []netip.Addr
	// Groups are the ids of the security groups of the interface.
	Groups []string
	// SourceDestCheck, as EC2's attribute: when false the guest may send
	// IPv4 with any source address (a NAT instance); its MAC and ARP are
	// still checked.
	SourceDestCheck bool
}

// Desired is the whole filtering state of one VPC namespace.
type Desired struct {
	Interfaces []Interface
	// Groups holds every group an interface of Interfaces uses.
	Groups map[string]Group
	// Members maps a referenced group id to the private IPs of its members
	// in this VPC (on any node).
	Members map[string][]netip.Addr
	// ACLs are the network ACLs of the VPC's subnets (see nacl.go);
	// none means no subnet is filtered.
	ACLs []SubnetACL
}

// maxInterfaces is bounded by the 16-bit port index in the packet mark.
const maxInterfaces = 0xffff

func (d Desired) validate() error {
	if len(d.Interfaces) > maxInterfaces {
		return fmt.Errorf("%d interfaces: at most %d per namespace", len(d.Interfaces), maxInterfaces)
	}
	taps := map[string]bool{}
	for _, ifc := range d.Interfaces {
		if ifc.Tap == "" || len(ifc.Tap) > 15 {
			return fmt.Errorf("interface %q: bad tap name", ifc.Tap)
		}
		if taps[ifc.Tap] {
			return fmt.Errorf("interface %s: listed twice", ifc.Tap)
		}
		taps[ifc.Tap] = true
		if len(ifc.MAC) != 6 {
			return fmt.Errorf("interface %s: MAC %q is not 48 bits", ifc.Tap, ifc.MAC)
		}
		for _, ip := range ifc.IPs {
			if !ip.Is4() {
				return fmt.Errorf("interface %s: %s is not an IPv4 address", ifc.Tap, ip)
			}
		}
		for _, g := range ifc.Groups {
			if _, ok := d.Groups[g]; !ok {
				return fmt.Errorf("interface %s: unknown security group %s", ifc.Tap, g)
			}
		}
	}
	for id, ips := range d.Members {
		for _, ip := range ips {
			if !ip.Is4() {
				return fmt.Errorf("group %s member %s: not an IPv4 address", id, ip)
			}
		}
	}
	return nil
}

// Protocol numbers.
const (
	protoAll    = -1
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// parseProtocol turns EC2's IpProtocol into a protocol number (-1 = all).
func parseProtocol(p string) (int, error) {
	switch strings.ToLower(p) {
	case "-1", "all":
		return protoAll, nil
	case "tcp":
		return protoTCP, nil
	case "udp":
		return protoUDP, nil
	case "icmp":
		return protoICMP, nil
	case "icmpv6":
		return protoICMPv6, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < -1 || n > 255 {
		return 0, fmt.Errorf("protocol %q: not -1, tcp, udp, icmp, icmpv6 or 0..255", p)
	}
	return n, nil
}
