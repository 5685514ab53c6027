package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// placeholders returns "$from, $from+1, …" for n arguments.
func placeholders(from, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(parts, ", ")
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// DefaultDocuments returns the default version's document of each of an
// account's customer managed policies named by ARN, keyed by ARN.
func (tx *Tx) DefaultDocuments(ctx context.Context, accountID string, arns []string) (map[string]string, error) {
	out := map[string]string{}
	if len(arns) == 0 {
		return out, nil
	}
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var arn, doc string
		err := r.Scan(&arn, &doc)
		out[arn] = doc
		return err
	}, `SELECT p.arn, v.document FROM iam_policies p JOIN iam_policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version
		WHERE p.account_id = $1 AND p.arn IN (`+placeholders(2, len(arns))+`)`, append([]any{accountID}, anys(arns)...)...)
	return out, err
}

// UserWithGroups is a user and the groups it belongs to, read in one query
// (authorization needs both on every request).
type UserWithGroups struct {
	User   User
	Groups []Group // ID and Name only
}

// GetUserWithGroups finds a user by name with its groups.
func (tx *Tx) GetUserWithGroups(ctx context.Context, accountID, name string) (UserWithGroups, error) {
	var out UserWithGroups
	found := false
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var created int64
		var groupID, groupName sql.NullString
		u := &out.User
		if err := r.Scan(&u.AccountID, &u.UserID, &u.Name, &u.Path, &u.PermissionsBoundary, &created, &groupID, &groupName); err != nil {
			return err
		}
		u.CreatedAt, found = Millis(created), true
		if groupID.Valid {
			out.Groups = append(out.Groups, Group{AccountID: accountID, GroupID: groupID.String, Name: groupName.String})
		}
		return nil
	}, `SELECT u.account_id, u.user_id, u.name, u.path, u.permissions_boundary, u.created_at, g.group_id, g.name
		FROM users u LEFT JOIN iam_group_members m ON m.user_id = u.user_id LEFT JOIN iam_groups g ON g.group_id = m.group_id
		WHERE u.account_id = $1 AND u.name_key = $2 ORDER BY g.name_key`, accountID, strings.ToLower(name))
	if err == nil && !found {
		err = ErrNotFound
	}
	return out, err
}

// EntityPolicy is an inline policy, or a managed policy attached, of a user,
// group or role, as authorization reads them.
type EntityPolicy struct {
	EntityID string
	Managed  bool
	Name     string // the inline policy's name, or the managed policy's ARN
	// Document is the inline document, or the default version's of a
	// customer managed policy; "" for an AWS managed policy (not stored).
	Document string
}

// PoliciesOfEntities reads the inline and attached policies of several
// entities, with the default documents of customer managed ones, in one
// query, by entity, inline ones first.
func (tx *Tx) PoliciesOfEntities(ctx context.Context, entityIDs []string) ([]EntityPolicy, error) {
	if len(entityIDs) == 0 {
		return nil, nil
	}
	in := placeholders(1, len(entityIDs))
	var out []EntityPolicy
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var p EntityPolicy
		err := r.Scan(&p.EntityID, &p.Managed, &p.Name, &p.Document)
		out = append(out, p)
		return err
	}, `SELECT entity_id, FALSE AS managed, name, document FROM iam_inline_policies WHERE entity_id IN (`+in+`)
		UNION ALL
		SELECT a.entity_id, TRUE, a.policy_arn, COALESCE(v.document, '') FROM iam_attachments a
			LEFT JOIN iam_policies p ON p.arn = a.policy_arn AND p.account_id = a.account_id
			LEFT JOIN iam_policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version
			WHERE a.entity_id IN (`+in+`)
		ORDER BY 1, 2, 3`, anys(entityIDs)...)
	return out, err
}
