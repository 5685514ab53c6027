package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SecurityGroup is a named set of firewall rules in a VPC.
type SecurityGroup struct {
	ID          string
	AccountID   string
	VPCID       string
	Name        string
	Description string
	CreatedAt   time.Time
}

// SecurityGroupRule is one ingress or egress permission.
type SecurityGroupRule struct {
	ID           string
	AccountID    string
	GroupID      string
	IsEgress     bool
	IPProtocol   string
	FromPort     int64
	ToPort       int64
	CIDRIPv4     string
	CIDRIPv6     string
	PrefixListID string
	RefGroupID   string
	RefAccountID string
	Description  string
	CreatedAt    time.Time
}

// InsertSecurityGroup stores a group; ErrConflict when its name exists in the VPC.
func (tx *Tx) InsertSecurityGroup(ctx context.Context, g SecurityGroup) error {
	_, err := tx.exec(ctx, `INSERT INTO security_groups (id, account_id, vpc_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		g.ID, g.AccountID, g.VPCID, g.Name, g.Description, g.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert security group %s: %w", g.Name, err)
	}
	return nil
}

// ListSecurityGroups returns an account's groups by id.
func (tx *Tx) ListSecurityGroups(ctx context.Context, accountID string) ([]SecurityGroup, error) {
	var out []SecurityGroup
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var g SecurityGroup
		var created int64
		err := r.Scan(&g.ID, &g.AccountID, &g.VPCID, &g.Name, &g.Description, &created)
		g.CreatedAt = Millis(created)
		out = append(out, g)
		return err
	}, `SELECT id, account_id, vpc_id, name, description, created_at FROM security_groups WHERE account_id = $1 ORDER BY id`, accountID)
	return out, err
}

// DeleteSecurityGroup removes a group, its rules and its tags.
func (tx *Tx) DeleteSecurityGroup(ctx context.Context, accountID, id string) error {
	rules, err := tx.ListSecurityGroupRules(ctx, accountID)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.GroupID == id {
			if err := tx.DeleteAllTags(ctx, accountID, r.ID); err != nil {
				return err
			}
		}
	}
	if _, err := tx.exec(ctx, `DELETE FROM security_group_rules WHERE account_id = $1 AND group_id = $2`, accountID, id); err != nil {
		return fmt.Errorf("delete rules of %s: %w", id, err)
	}
	if err := tx.execOne(ctx, `DELETE FROM security_groups WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}

// CountRulesReferencing counts rules in other groups that name groupID as their peer.
func (tx *Tx) CountRulesReferencing(ctx context.Context, groupID string) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM security_group_rules WHERE ref_group_id = $1 AND group_id <> $1`, []any{groupID}, &n)
	return n, err
}

// InsertSecurityGroupRule stores one rule.
func (tx *Tx) InsertSecurityGroupRule(ctx context.Context, r SecurityGroupRule) error {
	_, err := tx.exec(ctx, `INSERT INTO security_group_rules (id, account_id, group_id, is_egress, ip_protocol, from_port, to_port,
		cidr_ipv4, cidr_ipv6, prefix_list_id, ref_group_id, ref_account_id, description, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ID, r.AccountID, r.GroupID, r.IsEgress, r.IPProtocol, r.FromPort, r.ToPort,
		r.CIDRIPv4, r.CIDRIPv6, r.PrefixListID, r.RefGroupID, r.RefAccountID, r.Description, r.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert rule of %s: %w", r.GroupID, err)
	}
	return nil
}

// ListSecurityGroupRules returns every rule of the account's groups, oldest first.
func (tx *Tx) ListSecurityGroupRules(ctx context.Context, accountID string) ([]SecurityGroupRule, error) {
	var out []SecurityGroupRule
	err := tx.queryRows(ctx, func(rows *sql.Rows) error {
		var r SecurityGroupRule
		var created int64
		err := rows.Scan(&r.ID, &r.AccountID, &r.GroupID, &r.IsEgress, &r.IPProtocol, &r.FromPort, &r.ToPort,
			&r.CIDRIPv4, &r.CIDRIPv6, &r.PrefixListID, &r.RefGroupID, &r.RefAccountID, &r.Description, &created)
		r.CreatedAt = Millis(created)
		out = append(out, r)
		return err
	}, `SELECT id, account_id, group_id, is_egress, ip_protocol, from_port, to_port, cidr_ipv4, cidr_ipv6, prefix_list_id,
		ref_group_id, ref_account_id, description, created_at FROM security_group_rules WHERE account_id = $1 ORDER BY created_at, id`, accountID)
	return out, err
}

// UpdateSecurityGroupRule rewrites a rule's permission and description,
// keeping its id, group, direction and creation time.
func (tx *Tx) UpdateSecurityGroupRule(ctx context.Context, r SecurityGroupRule) error {
	err := tx.execOne(ctx, `UPDATE security_group_rules SET ip_protocol = $3, from_port = $4, to_port = $5, cidr_ipv4 = $6,
		cidr_ipv6 = $7, prefix_list_id = $8, ref_group_id = $9, ref_account_id = $10, description = $11
		WHERE account_id = $1 AND id = $2`, r.AccountID, r.ID, r.IPProtocol, r.FromPort, r.ToPort,
		r.CIDRIPv4, r.CIDRIPv6, r.PrefixListID, r.RefGroupID, r.RefAccountID, r.Description)
	if err != nil {
		return fmt.Errorf("update rule %s: %w", r.ID, err)
	}
	return nil
}

// DeleteSecurityGroupRule removes one rule and its tags.
func (tx *Tx) DeleteSecurityGroupRule(ctx context.Context, accountID, id string) error {
	if err := tx.execOne(ctx, `DELETE FROM security_group_rules WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}

// GroupInUse reports whether an instance that is not terminated, or any
// network interface, is in the group (DeleteSecurityGroup's
// DependencyViolation).
func (tx *Tx) GroupInUse(ctx context.Context, groupID string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM instance_security_groups g JOIN instances i ON i.id = g.instance_id
			WHERE g.group_id = $1 AND i.state <> 'terminated')
		+ (SELECT COUNT(*) FROM network_interface_groups WHERE group_id = $1)`, []any{groupID}, &n)
	if err != nil {
		return false, fmt.Errorf("users of group %s: %w", groupID, err)
	}
	return n > 0, nil
}
