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

// GroupFilter is what a node needs of one security group: its rules and
// the private addresses of its members.
type GroupFilter struct {
	ID      string
	Rules   []SecurityGroupRule // IsEgress, IPProtocol, FromPort, ToPort, CIDRIPv4, CIDRIPv6, PrefixListID, RefGroupID set
	Members []string            // private IPs of its members (GroupMemberAddresses), sorted
}

// GetGroupFilter reads one group's rules (by id); the caller fills Members.
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
	return g, nil
}
