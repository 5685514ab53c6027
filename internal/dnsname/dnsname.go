// Package dnsname owns the host names EC2 gives addresses: the private
// names (ip-10-0-0-5.<region>.compute.internal) and the public names of
// public and elastic IPs (ec2-198-51-100-2.<region>.compute.kumo). The EC2
// API (PrivateDnsName, PublicDnsName), the metadata service (hostname,
// local-hostname, public-hostname), DHCP and the VPC resolver all name
// addresses through it, so that they always agree.
package dnsname

import (
	"net/netip"
	"strings"
)

// PrivateDomain is the domain of a region's private names: ec2.internal in
// us-east-1 and <region>.compute.internal elsewhere, as AWS.
func PrivateDomain(region string) string {
	if region == "us-east-1" {
		return "ec2.internal"
	}
	return region + ".compute.internal"
}

// PublicDomain is the domain of a region's public names. AWS's is
// <region>.compute.amazonaws.com; Kumo's names live under its own .kumo
// domain, which nobody else answers for.
func PublicDomain(region string) string {
	return region + ".compute.kumo"
}

// PrivateHost is an address's private host name without its domain:
// ip-10-0-0-5 ("" for "").
func PrivateHost(ip string) string {
	if ip == "" {
		return ""
	}
	return "ip-" + strings.ReplaceAll(ip, ".", "-")
}

// Private is an address's private DNS name: ip-10-0-0-5.<PrivateDomain>
// ("" for ""). Without a region it is the bare host name.
func Private(region, ip string) string {
	if ip == "" || region == "" {
		return PrivateHost(ip)
	}
	return PrivateHost(ip) + "." + PrivateDomain(region)
}

// Public is a public address's DNS name: ec2-198-51-100-2.<PublicDomain>
// ("" for "").
func Public(region, ip string) string {
	if ip == "" {
		return ""
	}
	return "ec2-" + strings.ReplaceAll(ip, ".", "-") + "." + PublicDomain(region)
}

// ParsePrivate returns the address a private name stands for. The name
// may end in a dot and is matched without regard to case.
func ParsePrivate(region, name string) (netip.Addr, bool) {
	return parse(name, "ip-", PrivateDomain(region))
}

// ParsePublic returns the address a public name stands for.
func ParsePublic(region, name string) (netip.Addr, bool) {
	return parse(name, "ec2-", PublicDomain(region))
}

func parse(name, prefix, domain string) (netip.Addr, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	host, ok := strings.CutSuffix(name, "."+strings.ToLower(domain))
	if !ok {
		return netip.Addr{}, false
	}
	dashed, ok := strings.CutPrefix(host, prefix)
	if !ok || strings.Contains(dashed, ".") {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(strings.ReplaceAll(dashed, "-", "."))
	if err != nil || !ip.Is4() || ip.String() != strings.ReplaceAll(dashed, "-", ".") {
		return netip.Addr{}, false
	}
	return ip, true
}
