package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Queries for the VPC overlay of the nodes: which VPCs a node hosts, the
// other nodes of each VPC, and the security groups a node enforces.

// firstVNI is the VNI of the first VPC; lower ones stay free for the
// operator (VXLAN allows 1..16777215).
const firstVNI = 101

// vniLockKey is the PostgreSQL advisory lock id that serialises VNI
// allocation across accounts.
const vniLockKey int64 = 0x6b756d6f_766e6920 // "kumovni "

// lockVNI serialises VNI allocation until the transaction ends (on SQLite
// writers are serialised already).
func (tx *Tx) lockVNI(ctx context.Context) error {
	if tx.dialect != Postgres {
		return nil
	}
	if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock($1)`, vniLockKey); err != nil {
		return fmt.Errorf("lock vni allocation: %w", err)
	}
	return nil
}

// VPCRef names a VPC and its VNI.
type VPCRef struct {
	ID  string
	VNI uint32
}

// NodeVPCs returns the VPCs of a node's instances that are not terminated,
// by id.
func (tx *Tx) NodeVPCs(ctx context.Context, nodeID string) ([]VPCRef, error) {
	var out []VPCRef
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var v VPCRef
		var vni sql.NullInt64
		err := r.Scan(&v.ID, &vni)
		v.VNI = uint32(vni.Int64)
		out = append(out, v)
		return err
	}, `SELECT v.id, v.vni FROM vpcs v WHERE v.id IN
		(SELECT i.vpc_id FROM instances i WHERE i.node_id = $1 AND i.state <> 'terminated') ORDER BY v.id`, nodeID)
	if err != nil {
		return nil, fmt.Errorf("vpcs of node %s: %w", nodeID, err)
	}
	return out, nil
}

// OverlayPeer is another node hosting guests of a VPC.
type OverlayPeer struct {
	NodeID  string
	Address string   // the node's underlay address
	Guests  []string // private IPv4 addresses, sorted
}

// VPCPeers returns the nodes other than nodeID with a known underlay
// address that host pending, running or stopping instances of the VPC,
// each with those instances' private addresses; by node id.
func (tx *Tx) VPCPeers(ctx context.Context, vpcID, nodeID string) ([]OverlayPeer, error) {
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
	}, `SELECT n.id, n.address, ni.private_ip FROM network_interfaces ni
		JOIN instances i ON i.id = ni.instance_id
		JOIN nodes n ON n.id = i.node_id
		WHERE ni.vpc_id = $1 AND i.node_id <> $2 AND n.address <> '' AND i.state IN ('pending', 'running', 'stopping')
		ORDER BY n.id, ni.private_ip`, vpcID, nodeID)
	if err != nil {
		return nil, fmt.Errorf("peers of vpc %s: %w", vpcID, err)
	}
	return out, nil
}

// NodeVPCGroups returns the security groups a node enforces in a VPC: the
// groups of its instances there that are not terminated, and the groups
// their rules reference; existing groups only, by id.
func (tx *Tx) NodeVPCGroups(ctx context.Context, nodeID, vpcID string) ([]string, error) {
	var out []string
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var id string
		err := r.Scan(&id)
		out = append(out, id)
		return err
	}, `WITH own AS (SELECT isg.group_id AS id FROM instance_security_groups isg
			JOIN instances i ON i.id = isg.instance_id
			WHERE i.node_id = $1 AND i.vpc_id = $2 AND i.state <> 'terminated')
		SELECT g.id FROM security_groups g
		WHERE g.id IN (SELECT id FROM own)
			OR g.id IN (SELECT r.ref_group_id FROM security_group_rules r WHERE r.group_id IN (SELECT id FROM own))
		ORDER BY g.id`, nodeID, vpcID)
	if err != nil {
		return nil, fmt.Errorf("security groups of node %s in %s: %w", nodeID, vpcID, err)
	}
	return out, nil
}

// GroupFilter is what a node needs of one security group: its rules and
// the private addresses of its members.
type GroupFilter struct {
	ID      string
	Rules   []SecurityGroupRule // IsEgress, IPProtocol, FromPort, ToPort, CIDRIPv4, CIDRIPv6, PrefixListID, RefGroupID set
	Members []string            // private IPs of its instances that are not terminated, sorted
}

// GetGroupFilter reads one group's rules (by id) and members.
func (tx *Tx) GetGroupFilter(ctx context.Context, groupID string) (GroupFilter, error) {
	g := GroupFilter{ID: groupID}
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var rule SecurityGroupRule
		err := r.Scan(&rule.ID, &rule.IsEgress, &rule.IPProtocol, &rule.FromPort, &rule.ToPort, &rule.CIDRIPv4, &rule.CIDRIPv6, &rule.PrefixListID, &rule.RefGroupID)
		rule.GroupID = groupID
		g.Rules = append(g.Rules, rule)
		return err
	}, `SELECT id, is_egress, ip_protocol, from_port, to_port, cidr_ipv4, cidr_ipv6, prefix_list_id, ref_group_id
		FROM security_group_rules WHERE group_id = $1 ORDER BY id`, groupID)
	if err != nil {
		return g, fmt.Errorf("rules of %s: %w", groupID, err)
	}
	err = tx.queryRows(ctx, func(r *sql.Rows) error {
		var ip string
		err := r.Scan(&ip)
		g.Members = append(g.Members, ip)
		return err
	}, `SELECT DISTINCT ni.private_ip FROM instance_security_groups isg
		JOIN instances i ON i.id = isg.instance_id
		JOIN network_interfaces ni ON ni.instance_id = i.id
		WHERE isg.group_id = $1 AND i.state <> 'terminated'
		ORDER BY ni.private_ip`, groupID)
	if err != nil {
		return g, fmt.Errorf("members of %s: %w", groupID, err)
	}
	return g, nil
}
