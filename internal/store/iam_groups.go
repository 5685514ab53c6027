package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Group is an IAM group of users inside an account.
type Group struct {
	AccountID string
	GroupID   string
	Name      string
	Path      string
	CreatedAt time.Time
}

// InsertGroup stores a group; ErrConflict when the name exists (case-insensitively).
func (tx *Tx) InsertGroup(ctx context.Context, g Group) error {
	_, err := tx.exec(ctx, `INSERT INTO iam_groups (account_id, group_id, name, name_key, path, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		g.AccountID, g.GroupID, g.Name, strings.ToLower(g.Name), g.Path, g.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert group %s: %w", g.Name, err)
	}
	return nil
}

const groupColumns = `g.account_id, g.group_id, g.name, g.path, g.created_at`

func scanGroup(s interface{ Scan(...any) error }) (Group, error) {
	var g Group
	var created int64
	err := s.Scan(&g.AccountID, &g.GroupID, &g.Name, &g.Path, &created)
	g.CreatedAt = Millis(created)
	return g, err
}

// GetGroup finds a group by name (case-insensitively).
func (tx *Tx) GetGroup(ctx context.Context, accountID, name string) (Group, error) {
	row := tx.q.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM iam_groups g WHERE g.account_id = $1 AND g.name_key = $2`, accountID, strings.ToLower(name))
	g, err := scanGroup(row)
	if err == sql.ErrNoRows {
		return g, ErrNotFound
	}
	return g, classify(err)
}

func (tx *Tx) listGroups(ctx context.Context, query string, args ...any) ([]Group, error) {
	var out []Group
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		g, err := scanGroup(r)
		out = append(out, g)
		return err
	}, query, args...)
	return out, err
}

// ListGroups returns an account's groups whose path starts with pathPrefix, by name.
func (tx *Tx) ListGroups(ctx context.Context, accountID, pathPrefix string) ([]Group, error) {
	all, err := tx.listGroups(ctx, `SELECT `+groupColumns+` FROM iam_groups g WHERE g.account_id = $1 ORDER BY g.name_key`, accountID)
	out := all[:0]
	for _, g := range all {
		if strings.HasPrefix(g.Path, pathPrefix) {
			out = append(out, g)
		}
	}
	return out, err
}

// GroupsOfUser returns the groups a user belongs to, by name.
func (tx *Tx) GroupsOfUser(ctx context.Context, userID string) ([]Group, error) {
	return tx.listGroups(ctx, `SELECT `+groupColumns+` FROM iam_groups g JOIN iam_group_members m ON m.group_id = g.group_id
		WHERE m.user_id = $1 ORDER BY g.name_key`, userID)
}

// DeleteGroup removes a group (its memberships go with it).
func (tx *Tx) DeleteGroup(ctx context.Context, groupID string) error {
	return tx.execOne(ctx, `DELETE FROM iam_groups WHERE group_id = $1`, groupID)
}

// AddGroupMember puts a user in a group; adding a member again changes nothing.
func (tx *Tx) AddGroupMember(ctx context.Context, accountID, groupID, userID string) error {
	_, err := tx.exec(ctx, `INSERT INTO iam_group_members (account_id, group_id, user_id) VALUES ($1, $2, $3) ON CONFLICT (group_id, user_id) DO NOTHING`,
		accountID, groupID, userID)
	if err != nil {
		return fmt.Errorf("add %s to group %s: %w", userID, groupID, err)
	}
	return nil
}

// RemoveGroupMember takes a user out of a group; ErrNotFound when it was not in it.
func (tx *Tx) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	return tx.execOne(ctx, `DELETE FROM iam_group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID)
}

// GroupMembers returns the users of a group, by name.
func (tx *Tx) GroupMembers(ctx context.Context, groupID string) ([]User, error) {
	var out []User
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		u, err := scanUser(r)
		out = append(out, u)
		return err
	}, `SELECT u.account_id, u.user_id, u.name, u.path, u.permissions_boundary, u.created_at FROM users u JOIN iam_group_members m ON m.user_id = u.user_id
		WHERE m.group_id = $1 ORDER BY u.name_key`, groupID)
	return out, err
}

// CountGroupMembers counts the users of a group.
func (tx *Tx) CountGroupMembers(ctx context.Context, groupID string) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM iam_group_members WHERE group_id = $1`, []any{groupID}, &n)
	return n, err
}
