package ec2

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/store"
)

// vpcsWithoutHostnames are the account's VPCs whose enableDnsHostnames is
// off: their instances have no public DNS names, as in AWS.
func vpcsWithoutHostnames(ctx context.Context, tx *store.Tx, account string) (map[string]bool, error) {
	vpcs, err := tx.ListVPCs(ctx, account)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, v := range vpcs {
		if !v.EnableDNSHostnames {
			out[v.ID] = true
		}
	}
	return out, nil
}

// dropPublicNames blanks an instance's public DNS names (its own and its
// interfaces' associations): its VPC's enableDnsHostnames is off.
func dropPublicNames(i *ec2api.Instance) {
	i.PublicDnsName = str("")
	for n := range i.NetworkInterfaces {
		ni := &i.NetworkInterfaces[n]
		if ni.Association != nil {
			ni.Association.PublicDnsName = str("")
		}
		for a := range ni.PrivateIpAddresses {
			if as := ni.PrivateIpAddresses[a].Association; as != nil {
				as.PublicDnsName = str("")
			}
		}
	}
}

// vpcsWithoutHostnames reads the caller's VPCs whose enableDnsHostnames
// is off.
func (s *Service) vpcsWithoutHostnames(ctx context.Context) (map[string]bool, error) {
	var out map[string]bool
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		out, err = vpcsWithoutHostnames(ctx, tx, account)
		return err
	})
	return out, err
}

// dropENIPublicNames blanks an interface's public DNS names: its VPC's
// enableDnsHostnames is off.
func dropENIPublicNames(n *ec2api.NetworkInterface) {
	if n.Association != nil {
		n.Association.PublicDnsName = str("")
	}
	for a := range n.PrivateIpAddresses {
		if as := n.PrivateIpAddresses[a].Association; as != nil {
			as.PublicDnsName = str("")
		}
	}
}
