package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Holdings counts what an account owns that deleting it would destroy and
// that its users may still want: the things an operator must be told about
// before they go. Its users, keys, key pairs, tags, default VPC and the
// rest of its network go with the account without being listed.
type Holdings struct {
	// Instances not terminated, or terminated but not yet removed from
	// their node.
	Instances int
	VPCs      int // VPCs other than the default one
	Buckets   int
	Images    int
	Snapshots int
	Addresses int // elastic IP allocations
	Volumes   int // EBS volumes other than instances' roots
}

// Empty reports whether nothing is held.
func (h Holdings) Empty() bool { return h == Holdings{} }

// String lists what is held, e.g. "2 instances, 1 VPC, 3 buckets".
func (h Holdings) String() string {
	var parts []string
	for _, c := range []struct {
		n          int
		one, other string
	}{
		{h.Instances, "instance", "instances"}, {h.VPCs, "VPC", "VPCs"}, {h.Buckets, "bucket", "buckets"},
		{h.Images, "image", "images"}, {h.Snapshots, "snapshot", "snapshots"}, {h.Addresses, "elastic IP", "elastic IPs"}, {h.Volumes, "volume", "volumes"},
	} {
		switch {
		case c.n == 1:
			parts = append(parts, "1 "+c.one)
		case c.n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.other))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// AccountHoldings counts what an account holds.
func (tx *Tx) AccountHoldings(ctx context.Context, id string) (Holdings, error) {
	var h Holdings
	for _, c := range []struct {
		dest  *int
		query string
	}{
		{&h.Instances, `SELECT COUNT(*) FROM instances WHERE account_id = $1 AND (state <> 'terminated' OR (node_id <> '' AND observed_state <> 'deleted'))`},
		{&h.VPCs, `SELECT COUNT(*) FROM vpcs WHERE account_id = $1 AND NOT is_default`},
		{&h.Buckets, `SELECT COUNT(*) FROM buckets WHERE account_id = $1`},
		{&h.Images, `SELECT COUNT(*) FROM images WHERE account_id = $1`},
		{&h.Snapshots, `SELECT COUNT(*) FROM snapshots WHERE account_id = $1`},
		{&h.Addresses, `SELECT COUNT(*) FROM addresses WHERE account_id = $1`},
		{&h.Volumes, `SELECT COUNT(*) FROM volumes WHERE account_id = $1 AND root_instance = ''`},
	} {
		if err := tx.queryRow(ctx, c.query, []any{id}, c.dest); err != nil {
			return h, fmt.Errorf("count what account %s holds: %w", id, err)
		}
	}
	return h, nil
}

// HeldError refuses to delete an account that still holds resources.
type HeldError struct {
	Account  string // its name
	Holdings Holdings
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("account %s still has %s; terminate or delete them, or use --force to remove everything it owns", e.Account, e.Holdings)
}

// Unwrap makes a HeldError an ErrInUse.
func (e *HeldError) Unwrap() error { return ErrInUse }

// DeleteAccount removes an account that holds nothing (see Holdings; it
// returns a *HeldError otherwise) with its users, keys and default
// network. Its keys stop working when the transaction commits.
func (tx *Tx) DeleteAccount(ctx context.Context, id string) error {
	a, err := tx.GetAccount(ctx, id)
	if err != nil {
		return fmt.Errorf("delete account %s: %w", id, err)
	}
	h, err := tx.AccountHoldings(ctx, id)
	if err != nil {
		return err
	}
	if !h.Empty() {
		return &HeldError{Account: a.Name, Holdings: h}
	}
	return tx.PurgeAccount(ctx, id)
}

// RevokeAccountKeys deletes every access key and user of an account at
// once, so that nobody can sign as it while its resources are torn down.
func (tx *Tx) RevokeAccountKeys(ctx context.Context, id string) error {
	for _, q := range []string{`DELETE FROM access_keys WHERE account_id = $1`, `DELETE FROM users WHERE account_id = $1`} {
		if _, err := tx.exec(ctx, q, id); err != nil {
			return fmt.Errorf("revoke the keys of account %s: %w", id, err)
		}
	}
	return nil
}

// PurgeAccount deletes an account and every row it owns, whatever it
// holds. Rows that reference each other without a cascade go first, in
// dependency order; then the rows of every table with an account_id column
// (including tables added after this list), then the account. The
// caller must have stopped the account's instances on their nodes and
// removed its buckets' objects.
func (tx *Tx) PurgeAccount(ctx context.Context, id string) error {
	vpcs := `SELECT id FROM vpcs WHERE account_id = $1`
	for _, q := range []string{
		`DELETE FROM tags WHERE account_id = $1`,
		`DELETE FROM route_table_associations WHERE account_id = $1`,
		`DELETE FROM vpc_dhcp_options WHERE vpc_id IN (` + vpcs + `) OR dhcp_options_id IN (SELECT id FROM dhcp_options WHERE account_id = $1)`,
		`DELETE FROM route_tables WHERE account_id = $1`,
		`DELETE FROM public_ip_interfaces WHERE account_id = $1`,
		`DELETE FROM addresses WHERE account_id = $1`,
		`DELETE FROM network_interfaces WHERE account_id = $1`,
		`DELETE FROM instance_security_groups WHERE instance_id IN (SELECT id FROM instances WHERE account_id = $1)`,
		`DELETE FROM instances WHERE account_id = $1`,
		`DELETE FROM security_group_rules WHERE account_id = $1`,
		`DELETE FROM security_groups WHERE account_id = $1`,
		`DELETE FROM subnets WHERE account_id = $1`,
		`DELETE FROM internet_gateways WHERE account_id = $1`,
		`DELETE FROM dhcp_options WHERE account_id = $1`,
		`DELETE FROM vpcs WHERE account_id = $1`,
		`DELETE FROM buckets WHERE account_id = $1`,
	} {
		// A row still referenced from a table this list does not know is
		// left for purgeOtherTables, which retries in dependency order.
		if err := tx.deleteInSavepoint(ctx, q, id); err != nil && !errors.Is(err, ErrInUse) {
			return fmt.Errorf("delete account %s: %w", id, err)
		}
	}
	if err := tx.purgeOtherTables(ctx, id); err != nil {
		return err
	}
	if err := tx.execOne(ctx, `DELETE FROM accounts WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete account %s: %w", id, err)
	}
	return nil
}

// IsHeld reports whether err refuses an account deletion for what it holds.
func IsHeld(err error) (*HeldError, bool) {
	var h *HeldError
	ok := errors.As(err, &h)
	return h, ok
}

// ListAccountLiveInstances returns the ids of an account's instances that
// are not terminated.
func (tx *Tx) ListAccountLiveInstances(ctx context.Context, id string) ([]string, error) {
	return tx.grantees(ctx, `SELECT id FROM instances WHERE account_id = $1 AND state <> 'terminated' ORDER BY id`, id)
}

// accountTables are the tables with an account_id column, for CountRows.
var accountTables = map[string]bool{
	"users": true, "access_keys": true, "key_pairs": true, "vpcs": true, "subnets": true, "security_groups": true,
	"security_group_rules": true, "tags": true, "buckets": true, "snapshots": true, "images": true, "import_tasks": true,
	"instances": true, "network_interfaces": true, "internet_gateways": true, "route_tables": true,
	"iam_groups": true, "iam_group_members": true, "iam_roles": true, "iam_policies": true, "iam_policy_versions": true,
	"iam_attachments": true, "iam_inline_policies": true, "iam_instance_profiles": true, "iam_login_profiles": true, "iam_account_aliases": true,
	"route_table_associations": true, "dhcp_options": true, "addresses": true, "public_ip_interfaces": true,
	"volumes": true, "volume_attachments": true,
}

// CountRows counts an account's rows in one of its tables (for tests and
// checks that nothing of a deleted account remains).
func (tx *Tx) CountRows(ctx context.Context, table, accountID string) (int, error) {
	if !accountTables[table] {
		return 0, fmt.Errorf("count rows: %q is not a table of accounts", table)
	}
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE account_id = $1`, []any{accountID}, &n)
	return n, err
}

// purgeOtherTables deletes the account's rows from every other table with
// an account_id column (tables added after PurgeAccount's list was
// written), retrying a table whose rows are still referenced after the
// others are gone. Each attempt runs in a savepoint, so a refused delete
// does not abort the transaction on PostgreSQL.
func (tx *Tx) purgeOtherTables(ctx context.Context, id string) error {
	tables, err := tx.accountIDTables(ctx)
	if err != nil {
		return err
	}
	for pass := 0; len(tables) > 0; pass++ {
		var left []string
		var lastErr error
		for _, t := range tables {
			if err := tx.deleteInSavepoint(ctx, `DELETE FROM `+t+` WHERE account_id = $1`, id); err != nil {
				if !errors.Is(err, ErrInUse) {
					return fmt.Errorf("delete account %s from %s: %w", id, t, err)
				}
				left, lastErr = append(left, t), err
			}
		}
		if len(left) == len(tables) || pass > 8 {
			return fmt.Errorf("delete account %s: rows in %s are still referenced: %w", id, strings.Join(left, ", "), lastErr)
		}
		tables = left
	}
	return nil
}

func (tx *Tx) deleteInSavepoint(ctx context.Context, query string, args ...any) error {
	if _, err := tx.exec(ctx, `SAVEPOINT purge_account`); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, query, args...); err != nil {
		if _, rerr := tx.exec(ctx, `ROLLBACK TO SAVEPOINT purge_account`); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := tx.exec(ctx, `RELEASE SAVEPOINT purge_account`)
	return err
}

// accountIDTables lists the tables of the schema that have an account_id
// column.
func (tx *Tx) accountIDTables(ctx context.Context) ([]string, error) {
	query := `SELECT table_name FROM information_schema.columns WHERE column_name = 'account_id' AND table_schema = current_schema() ORDER BY table_name`
	if tx.dialect == SQLite {
		query = `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'account_id' ORDER BY m.name`
	}
	var out []string
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var name string
		err := r.Scan(&name)
		out = append(out, name)
		return err
	}, query)
	if err != nil {
		return nil, fmt.Errorf("list the tables of accounts: %w", err)
	}
	return out, nil
}
