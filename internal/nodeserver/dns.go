package nodeserver

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/vpcdns"
)

// amazonProvidedDNS names the VPC's own resolver in a DHCP options set.
const amazonProvidedDNS = "AmazonProvidedDNS"

// addDNS fills each VPC's resolver: its attributes and the names of every
// interface of the VPC, on any node (guests resolve their neighbours).
func (s *Server) addDNS(ctx context.Context, tx *store.Tx, vpcs []nodeapi.VPCNetwork) error {
	for i := range vpcs {
		d, err := tx.VPCDNSNames(ctx, vpcs[i].VPCID)
		if err != nil {
			return fmt.Errorf("resolver of %s: %w", vpcs[i].VPCID, err)
		}
		out := &nodeapi.VPCDNS{Region: s.region, CIDR: d.CIDR, Support: d.EnableDNSSupport, Hostnames: d.EnableDNSHostnames}
		for _, n := range d.Names {
			out.Names = append(out.Names, nodeapi.DNSName{PrivateIP: n.PrivateIP, PublicIP: n.PublicIP})
		}
		vpcs[i].DNS = out
	}
	return nil
}

// dnsServers are the addresses DHCP hands out for a VPC's options set:
// AmazonProvidedDNS is the VPC's resolver (its CIDR's base plus two),
// left out when the VPC's enableDnsSupport is off.
func dnsServers(ctx context.Context, tx *store.Tx, vpcID string, servers []string) ([]string, error) {
	var out []string
	for _, s := range servers {
		if s != amazonProvidedDNS {
			out = append(out, s)
			continue
		}
		a, err := tx.VPCDNSAttributes(ctx, vpcID)
		if err != nil {
			return nil, err
		}
		p, err := netip.ParsePrefix(a.CIDR)
		if err != nil {
			return nil, fmt.Errorf("vpc %s cidr: %w", vpcID, err)
		}
		if a.EnableDNSSupport {
			out = append(out, vpcdns.Address(p).String())
		}
	}
	return out, nil
}
