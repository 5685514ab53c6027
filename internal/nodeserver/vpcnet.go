package nodeserver

import (
	"context"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// vpcNetworks computes the overlay and filter state of every VPC a node
// hosts guests of that are not terminated.
func vpcNetworks(ctx context.Context, tx *store.Tx, nodeID string) ([]nodeapi.VPCNetwork, error) {
	vpcs, err := tx.NodeVPCs(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	var out []nodeapi.VPCNetwork
	for _, v := range vpcs {
		n, err := vpcNetwork(ctx, tx, nodeID, v)
		if err != nil {
			return nil, fmt.Errorf("network of %s: %w", v.ID, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// vpcNetwork counts every interface attached to an instance, and every
// private address of each (primary and secondary), in the peers' guests
// and the groups' members.
func vpcNetwork(ctx context.Context, tx *store.Tx, nodeID string, v store.VPCRef) (nodeapi.VPCNetwork, error) {
	n := nodeapi.VPCNetwork{VPCID: v.ID, VNI: v.VNI}
	peers, err := tx.VPCInterfacePeers(ctx, v.ID, nodeID)
	if err != nil {
		return n, err
	}
	for _, p := range peers {
		n.Peers = append(n.Peers, nodeapi.OverlayPeer{Underlay: p.Address, Guests: p.Guests})
	}
	groups, err := tx.NodeInterfaceGroups(ctx, nodeID, v.ID)
	if err != nil {
		return n, err
	}
	for _, id := range groups {
		g, err := tx.GetGroupFilter(ctx, id)
		if err != nil {
			return n, err
		}
		if g.Members, err = tx.GroupMemberAddresses(ctx, id); err != nil {
			return n, err
		}
		n.SecurityGroups = append(n.SecurityGroups, groupFilter(g))
	}
	n.NetworkACLs, err = networkACLs(ctx, tx, v.ID)
	return n, err
}

// groupFilter converts a group's rows: one SGRule per row. Rules with
// neither an IPv4 CIDR nor a group (IPv6 or prefix-list sources) are left
// out: the overlay carries IPv4 only.
func groupFilter(g store.GroupFilter) nodeapi.SecurityGroup {
	sg := nodeapi.SecurityGroup{ID: g.ID, Members: g.Members}
	for _, r := range g.Rules {
		rule := nodeapi.SGRule{Protocol: r.IPProtocol, FromPort: int(r.FromPort), ToPort: int(r.ToPort)}
		switch {
		case r.CIDRIPv4 != "":
			rule.CIDRs = []string{r.CIDRIPv4}
		case r.RefGroupID != "":
			rule.Groups = []string{r.RefGroupID}
		default:
			continue
		}
		if r.IsEgress {
			sg.Egress = append(sg.Egress, rule)
		} else {
			sg.Ingress = append(sg.Ingress, rule)
		}
	}
	return sg
}
