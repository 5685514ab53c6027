package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// NetworkACL is a VPC's stateless subnet firewall, with its entries and
// subnet associations.
type NetworkACL struct {
	ID           string
	AccountID    string
	VPCID        string
	IsDefault    bool
	ClientToken  string // CreateNetworkAcl's, '' when none
	CreatedAt    time.Time
	Entries      []NetworkACLEntry       // by direction (ingress first), then rule number (filled by ListNetworkACLs)
	Associations []NetworkACLAssociation // by id (filled by ListNetworkACLs)
}

// DefaultDenyRule is the "*" rule number every ACL ends with.
const DefaultDenyRule = 32767

// NetworkACLEntry is one numbered rule of one direction of an ACL.
type NetworkACLEntry struct {
	NetworkACLID  string
	Egress        bool
	RuleNumber    int
	Protocol      string // "-1" or an IP protocol number
	RuleAction    string // allow | deny
	CIDRBlock     string // IPv4; '' when IPv6CIDRBlock is set
	IPv6CIDRBlock string
	PortRange     *PortRange // tcp and udp
	ICMP          *ICMPTypeCode
}

// PortRange is an entry's destination port range.
type PortRange struct{ From, To int }

// ICMPTypeCode is an entry's ICMP type and code (-1 = all).
type ICMPTypeCode struct{ Type, Code int }

// NetworkACLAssociation ties a subnet to an ACL.
type NetworkACLAssociation struct {
	ID           string
	AccountID    string
	NetworkACLID string
	SubnetID     string
	CreatedAt    time.Time
}

// DefaultNetworkACLEntries are the entries AWS gives a default ACL:
// rule 100 allows everything, "*" denies the rest, both ways.
func DefaultNetworkACLEntries(aclID string) []NetworkACLEntry {
	var out []NetworkACLEntry
	for _, egress := range []bool{false, true} {
		out = append(out,
			NetworkACLEntry{NetworkACLID: aclID, Egress: egress, RuleNumber: 100, Protocol: "-1", RuleAction: "allow", CIDRBlock: "0.0.0.0/0"},
			NetworkACLEntry{NetworkACLID: aclID, Egress: egress, RuleNumber: DefaultDenyRule, Protocol: "-1", RuleAction: "deny", CIDRBlock: "0.0.0.0/0"})
	}
	return out
}

// DenyAllEntries are the entries of a new non-default ACL: only "*".
func DenyAllEntries(aclID string) []NetworkACLEntry {
	return []NetworkACLEntry{
		{NetworkACLID: aclID, Egress: false, RuleNumber: DefaultDenyRule, Protocol: "-1", RuleAction: "deny", CIDRBlock: "0.0.0.0/0"},
		{NetworkACLID: aclID, Egress: true, RuleNumber: DefaultDenyRule, Protocol: "-1", RuleAction: "deny", CIDRBlock: "0.0.0.0/0"},
	}
}

// InsertNetworkACL stores an ACL with its Entries.
func (tx *Tx) InsertNetworkACL(ctx context.Context, a NetworkACL) error {
	_, err := tx.exec(ctx, `INSERT INTO network_acls (id, account_id, vpc_id, is_default, client_token, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		a.ID, a.AccountID, a.VPCID, a.IsDefault, a.ClientToken, a.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert network acl %s: %w", a.ID, err)
	}
	for _, e := range a.Entries {
		e.NetworkACLID = a.ID
		if err := tx.InsertNetworkACLEntry(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// ListNetworkACLs returns an account's ACLs by id, with entries and associations.
func (tx *Tx) ListNetworkACLs(ctx context.Context, accountID string) ([]NetworkACL, error) {
	acls, err := tx.scanNetworkACLs(ctx, `WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, err
	}
	entries, err := tx.networkACLEntries(ctx, `JOIN network_acls a ON a.id = e.network_acl_id WHERE a.account_id = $1`, accountID)
	if err != nil {
		return nil, err
	}
	assocs, err := tx.ListNetworkACLAssociations(ctx, accountID)
	if err != nil {
		return nil, err
	}
	fillNetworkACLs(acls, entries, assocs)
	return acls, nil
}

func fillNetworkACLs(acls []NetworkACL, entries []NetworkACLEntry, assocs []NetworkACLAssociation) {
	idx := make(map[string]int, len(acls))
	for i, a := range acls {
		idx[a.ID] = i
	}
	for _, e := range entries {
		if i, ok := idx[e.NetworkACLID]; ok {
			acls[i].Entries = append(acls[i].Entries, e)
		}
	}
	for _, as := range assocs {
		if i, ok := idx[as.NetworkACLID]; ok {
			acls[i].Associations = append(acls[i].Associations, as)
		}
	}
}

func (tx *Tx) scanNetworkACLs(ctx context.Context, where string, args ...any) ([]NetworkACL, error) {
	var out []NetworkACL
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var a NetworkACL
		var created int64
		err := r.Scan(&a.ID, &a.AccountID, &a.VPCID, &a.IsDefault, &a.ClientToken, &created)
		a.CreatedAt = Millis(created)
		out = append(out, a)
		return err
	}, `SELECT id, account_id, vpc_id, is_default, client_token, created_at FROM network_acls `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list network acls: %w", err)
	}
	return out, nil
}

func (tx *Tx) networkACLEntries(ctx context.Context, join string, args ...any) ([]NetworkACLEntry, error) {
	var out []NetworkACLEntry
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var e NetworkACLEntry
		var from, to, typ, code sql.NullInt64
		if err := r.Scan(&e.NetworkACLID, &e.Egress, &e.RuleNumber, &e.Protocol, &e.RuleAction, &e.CIDRBlock, &e.IPv6CIDRBlock,
			&from, &to, &typ, &code); err != nil {
			return err
		}
		if from.Valid && to.Valid {
			e.PortRange = &PortRange{From: int(from.Int64), To: int(to.Int64)}
		}
		if typ.Valid && code.Valid {
			e.ICMP = &ICMPTypeCode{Type: int(typ.Int64), Code: int(code.Int64)}
		}
		out = append(out, e)
		return nil
	}, `SELECT e.network_acl_id, e.egress, e.rule_number, e.protocol, e.rule_action, e.cidr_block, e.ipv6_cidr_block,
		e.port_from, e.port_to, e.icmp_type, e.icmp_code FROM network_acl_entries e `+join+`
		ORDER BY e.network_acl_id, e.egress, e.rule_number`, args...)
	if err != nil {
		return nil, fmt.Errorf("list network acl entries: %w", err)
	}
	return out, nil
}

func entryArgs(e NetworkACLEntry) []any {
	var from, to, typ, code sql.NullInt64
	if e.PortRange != nil {
		from, to = sql.NullInt64{Int64: int64(e.PortRange.From), Valid: true}, sql.NullInt64{Int64: int64(e.PortRange.To), Valid: true}
	}
	if e.ICMP != nil {
		typ, code = sql.NullInt64{Int64: int64(e.ICMP.Type), Valid: true}, sql.NullInt64{Int64: int64(e.ICMP.Code), Valid: true}
	}
	return []any{e.Protocol, e.RuleAction, e.CIDRBlock, e.IPv6CIDRBlock, from, to, typ, code, e.NetworkACLID, e.Egress, e.RuleNumber}
}

// InsertNetworkACLEntry adds an entry; ErrConflict when the ACL has one
// with the same number in the same direction.
func (tx *Tx) InsertNetworkACLEntry(ctx context.Context, e NetworkACLEntry) error {
	_, err := tx.exec(ctx, `INSERT INTO network_acl_entries (protocol, rule_action, cidr_block, ipv6_cidr_block, port_from, port_to,
		icmp_type, icmp_code, network_acl_id, egress, rule_number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, entryArgs(e)...)
	if err != nil {
		return fmt.Errorf("insert entry %d of %s: %w", e.RuleNumber, e.NetworkACLID, err)
	}
	return nil
}

// ReplaceNetworkACLEntry changes an existing entry; ErrNotFound when none.
func (tx *Tx) ReplaceNetworkACLEntry(ctx context.Context, e NetworkACLEntry) error {
	return tx.execOne(ctx, `UPDATE network_acl_entries SET protocol = $1, rule_action = $2, cidr_block = $3, ipv6_cidr_block = $4,
		port_from = $5, port_to = $6, icmp_type = $7, icmp_code = $8 WHERE network_acl_id = $9 AND egress = $10 AND rule_number = $11`, entryArgs(e)...)
}

// DeleteNetworkACLEntry removes one entry; ErrNotFound when none.
func (tx *Tx) DeleteNetworkACLEntry(ctx context.Context, aclID string, egress bool, rule int) error {
	return tx.execOne(ctx, `DELETE FROM network_acl_entries WHERE network_acl_id = $1 AND egress = $2 AND rule_number = $3`, aclID, egress, rule)
}

// DeleteNetworkACL removes an ACL, its entries and tags. The caller checks
// that it is not the default one and has no associations.
func (tx *Tx) DeleteNetworkACL(ctx context.Context, accountID, id string) error {
	if err := tx.execOne(ctx, `DELETE FROM network_acls WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}

// InsertNetworkACLAssociation ties a subnet to an ACL; ErrConflict when
// the subnet already has one.
func (tx *Tx) InsertNetworkACLAssociation(ctx context.Context, a NetworkACLAssociation) error {
	return tx.insertSubnetAssociation(ctx, "network_acl_associations", "network_acl_id",
		subnetAssociation{ID: a.ID, AccountID: a.AccountID, ParentID: a.NetworkACLID, SubnetID: a.SubnetID, CreatedAt: a.CreatedAt})
}

// ListNetworkACLAssociations returns an account's associations by id.
func (tx *Tx) ListNetworkACLAssociations(ctx context.Context, accountID string) ([]NetworkACLAssociation, error) {
	return listSubnetAssociations(ctx, tx, "network_acl_associations", "network_acl_id", accountID,
		func(a subnetAssociation) NetworkACLAssociation {
			return NetworkACLAssociation{ID: a.ID, AccountID: a.AccountID, NetworkACLID: a.ParentID, SubnetID: a.SubnetID, CreatedAt: a.CreatedAt}
		})
}

// DeleteNetworkACLAssociation removes one association; ErrNotFound when none.
func (tx *Tx) DeleteNetworkACLAssociation(ctx context.Context, accountID, id string) error {
	return tx.execOne(ctx, `DELETE FROM network_acl_associations WHERE account_id = $1 AND id = $2`, accountID, id)
}

// NetworkACLsMissing reports whether one of the account's VPCs has no
// default ACL or one of its subnets no association (made by a path that
// did not give them one; EnsureNetworkACLs repairs it).
func (tx *Tx) NetworkACLsMissing(ctx context.Context, accountID string) (bool, error) {
	var n int64
	err := tx.queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM vpcs v WHERE v.account_id = $1 AND NOT EXISTS
			(SELECT 1 FROM network_acls a WHERE a.vpc_id = v.id AND a.is_default)) +
		(SELECT COUNT(*) FROM subnets s WHERE s.account_id = $1 AND NOT EXISTS
			(SELECT 1 FROM network_acl_associations n WHERE n.subnet_id = s.id))`, []any{accountID}, &n)
	if err != nil {
		return false, fmt.Errorf("count missing network acls: %w", err)
	}
	return n > 0, nil
}
