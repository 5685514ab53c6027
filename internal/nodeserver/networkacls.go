package nodeserver

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// networkACLs are the ACLs of every subnet of a VPC, as a node enforces
// them. A subnet whose VPC has no ACL at all (nothing to enforce) is left out.
func networkACLs(ctx context.Context, tx *store.Tx, vpcID string) ([]nodeapi.SubnetNetworkACL, error) {
	subnets, err := tx.VPCSubnetACLs(ctx, vpcID)
	if err != nil {
		return nil, err
	}
	var out []nodeapi.SubnetNetworkACL
	for _, s := range subnets {
		if s.NetworkACLID == "" {
			continue
		}
		acl := nodeapi.SubnetNetworkACL{SubnetID: s.SubnetID, CIDR: s.CIDRBlock, NetworkACLID: s.NetworkACLID}
		for _, e := range s.Entries {
			acl.Entries = append(acl.Entries, networkACLEntry(e))
		}
		out = append(out, acl)
	}
	return out, nil
}

func networkACLEntry(e store.NetworkACLEntry) nodeapi.NetworkACLEntry {
	out := nodeapi.NetworkACLEntry{RuleNumber: e.RuleNumber, Egress: e.Egress, Allow: e.RuleAction == "allow", Protocol: e.Protocol,
		CIDR: e.CIDRBlock, FromPort: -1, ToPort: -1}
	if out.CIDR == "" {
		out.CIDR = e.IPv6CIDRBlock
	}
	switch {
	case e.PortRange != nil:
		out.FromPort, out.ToPort = e.PortRange.From, e.PortRange.To
	case e.ICMP != nil:
		out.FromPort, out.ToPort = e.ICMP.Type, e.ICMP.Code
	}
	return out
}
