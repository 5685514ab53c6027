package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Queries for the nodes' overlay and filters that count every attached
// interface of an instance and every private address of each (primary and
// secondary), where store/vpcnet.go counts primary addresses only.

// attachedAddresses is every private address of every interface attached
// to an instance: (interface id, instance id, group source, address).
const attachedAddresses = `SELECT ni.id AS interface_id, ni.instance_id, ni.device_index, ni.vpc_id, ni.private_ip FROM network_interfaces ni
		WHERE ni.instance_id <> ''
	UNION ALL
	SELECT ni.id, ni.instance_id, ni.device_index, ni.vpc_id, a.private_ip FROM network_interface_addresses a
		JOIN network_interfaces ni ON ni.id = a.interface_id WHERE ni.instance_id <> ''`

// interfaceGroups is every (interface, group) pair of attached interfaces:
// a primary's groups are its instance's.
const interfaceGroups = `SELECT ni.id AS interface_id, isg.group_id FROM network_interfaces ni
		JOIN instance_security_groups isg ON isg.instance_id = ni.instance_id WHERE ni.instance_id <> '' AND ni.device_index = 0
	UNION ALL
	SELECT ni.id, g.group_id FROM network_interfaces ni JOIN network_interface_groups g ON g.interface_id = ni.id
		WHERE ni.instance_id <> '' AND ni.device_index <> 0`

// VPCInterfacePeers returns the nodes other than nodeID with a known
// underlay address that host pending, running or stopping instances of the
// VPC, each with every private address of those instances' interfaces
// (primary and secondary, of every attached interface), sorted; by node id.
func (tx *Tx) VPCInterfacePeers(ctx context.Context, vpcID, nodeID string) ([]OverlayPeer, error) {
	var out []OverlayPeer
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var id, addr, ip string
		if err := r.Scan(&id, &addr, &ip); err != nil {
			return err
		}
		if n := len(out); n > 0 && out[n-1].NodeID == id {
			out[n-1].Guests = append(out[n-1].Guests, ip)
			return nil
		}
		out = append(out, OverlayPeer{NodeID: id, Address: addr, Guests: []string{ip}})
		return nil
	}, `SELECT DISTINCT n.id, n.address, x.private_ip FROM (`+attachedAddresses+`) x
		JOIN instances i ON i.id = x.instance_id
		JOIN nodes n ON n.id = i.node_id
		WHERE x.vpc_id = $1 AND i.node_id <> $2 AND n.address <> '' AND i.state IN ('pending', 'running', 'stopping')
		ORDER BY n.id, x.private_ip`, vpcID, nodeID)
	if err != nil {
		return nil, fmt.Errorf("peers of vpc %s: %w", vpcID, err)
	}
	return out, nil
}

// GroupMemberAddresses returns every private address (primary and
// secondary) of the attached interfaces in a security group whose
// instances are not terminated, sorted.
func (tx *Tx) GroupMemberAddresses(ctx context.Context, groupID string) ([]string, error) {
	var out []string
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var ip string
		err := r.Scan(&ip)
		out = append(out, ip)
		return err
	}, `SELECT DISTINCT x.private_ip FROM (`+attachedAddresses+`) x
		JOIN (`+interfaceGroups+`) g ON g.interface_id = x.interface_id
		JOIN instances i ON i.id = x.instance_id
		WHERE g.group_id = $1 AND i.state <> 'terminated'
		ORDER BY x.private_ip`, groupID)
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", groupID, err)
	}
	return out, nil
}

// NodeInterfaceGroups returns the security groups a node enforces in a
// VPC: the groups of every interface attached to its instances there that
// are not terminated, and the groups their rules reference; existing
// groups only, by id.
func (tx *Tx) NodeInterfaceGroups(ctx context.Context, nodeID, vpcID string) ([]string, error) {
	var out []string
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var id string
		err := r.Scan(&id)
		out = append(out, id)
		return err
	}, `WITH own AS (SELECT g.group_id AS id FROM (`+interfaceGroups+`) g
			JOIN network_interfaces ni ON ni.id = g.interface_id
			JOIN instances i ON i.id = ni.instance_id
			WHERE i.node_id = $1 AND ni.vpc_id = $2 AND i.state <> 'terminated')
		SELECT sg.id FROM security_groups sg
		WHERE sg.id IN (SELECT id FROM own)
			OR sg.id IN (SELECT r.ref_group_id FROM security_group_rules r WHERE r.group_id IN (SELECT id FROM own))
		ORDER BY sg.id`, nodeID, vpcID)
	if err != nil {
		return nil, fmt.Errorf("security groups of node %s in %s: %w", nodeID, vpcID, err)
	}
	return out, nil
}

// InterfaceNetwork is what a node needs of one attached interface.
type InterfaceNetwork struct {
	NetworkInterface
	SubnetCIDR string
	VPCCIDR    string
}

// InstanceInterfaceNetworks returns the interfaces attached to an instance
// (of any account), by device index, with their subnet's and VPC's CIDRs.
// Unlike InstanceNetworkInterfaces it reads the rows as they are, also for
// a terminated instance (the node still has to clean them up).
func (tx *Tx) InstanceInterfaceNetworks(ctx context.Context, instanceID string) ([]InterfaceNetwork, error) {
	var out []InterfaceNetwork
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var n InterfaceNetwork
		var check bool
		err := r.Scan(&n.ID, &n.AccountID, &n.MAC, &n.PrivateIP, &n.SubnetID, &n.SubnetCIDR, &n.VPCID, &n.VPCCIDR,
			&n.InstanceID, &n.DeviceIndex, &check)
		n.NoSourceDestCheck = !check
		out = append(out, n)
		return err
	}, `SELECT ni.id, ni.account_id, ni.mac, ni.private_ip, ni.subnet_id, s.cidr_block, ni.vpc_id, v.cidr_block,
			ni.instance_id, ni.device_index, ni.source_dest_check
		FROM network_interfaces ni JOIN subnets s ON s.id = ni.subnet_id JOIN vpcs v ON v.id = ni.vpc_id
		WHERE ni.instance_id = $1 ORDER BY ni.device_index, ni.id`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("network interfaces of %s: %w", instanceID, err)
	}
	if len(out) == 0 {
		return out, nil
	}
	plain := make([]NetworkInterface, len(out))
	primaries := map[string]bool{}
	for i := range out {
		plain[i] = out[i].NetworkInterface
		primaries[plain[i].ID] = plain[i].Primary()
	}
	if err := tx.fillInterfaceDetails(ctx, plain, primaries, `ni.instance_id = $1`, instanceID); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].NetworkInterface = plain[i]
	}
	return out, nil
}
