package store

import (
	"context"
	"database/sql"
	"fmt"
)

// SubnetACL is the network ACL a subnet uses, as a node enforces it.
type SubnetACL struct {
	SubnetID     string
	CIDRBlock    string
	NetworkACLID string
	Entries      []NetworkACLEntry // by direction, then rule number
}

// VPCSubnetACLs returns every subnet of a VPC, for any account (the node
// side), with the entries of its ACL: the associated one, or the VPC's
// default ACL for a subnet without an association. A subnet of a VPC that
// has neither has no entries (nothing filtered).
func (tx *Tx) VPCSubnetACLs(ctx context.Context, vpcID string) ([]SubnetACL, error) {
	var out []SubnetACL
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var s SubnetACL
		var acl sql.NullString
		err := r.Scan(&s.SubnetID, &s.CIDRBlock, &acl)
		s.NetworkACLID = acl.String
		out = append(out, s)
		return err
	}, `SELECT s.id, s.cidr_block, COALESCE(n.network_acl_id,
			(SELECT a.id FROM network_acls a WHERE a.vpc_id = s.vpc_id AND a.is_default))
		FROM subnets s LEFT JOIN network_acl_associations n ON n.subnet_id = s.id
		WHERE s.vpc_id = $1 ORDER BY s.id`, vpcID)
	if err != nil {
		return nil, fmt.Errorf("subnet acls of %s: %w", vpcID, err)
	}
	entries, err := tx.networkACLEntries(ctx, `JOIN network_acls a ON a.id = e.network_acl_id WHERE a.vpc_id = $1`, vpcID)
	if err != nil {
		return nil, err
	}
	byACL := map[string][]NetworkACLEntry{}
	for _, e := range entries {
		byACL[e.NetworkACLID] = append(byACL[e.NetworkACLID], e)
	}
	for i := range out {
		out[i].Entries = byACL[out[i].NetworkACLID]
	}
	return out, nil
}
