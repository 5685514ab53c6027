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

// InlinePoliciesOf returns the inline policies of several entities in one
// query, by entity then name (authorization reads a user's and its groups' at once).
func (tx *Tx) InlinePoliciesOf(ctx context.Context, entityIDs []string) ([]InlinePolicy, error) {
	if len(entityIDs) == 0 {
		return nil, nil
	}
	var out []InlinePolicy
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var p InlinePolicy
		err := r.Scan(&p.AccountID, &p.EntityType, &p.EntityID, &p.Name, &p.Document)
		out = append(out, p)
		return err
	}, `SELECT account_id, entity_type, entity_id, name, document FROM iam_inline_policies WHERE entity_id IN (`+placeholders(1, len(entityIDs))+`)
		ORDER BY entity_id, name`, anys(entityIDs)...)
	return out, err
}

// AttachmentsOf returns the managed policy attachments of several entities
// in one query, by entity then policy ARN.
func (tx *Tx) AttachmentsOf(ctx context.Context, entityIDs []string) ([]Attachment, error) {
	if len(entityIDs) == 0 {
		return nil, nil
	}
	return tx.listAttachments(ctx, `SELECT `+attachmentColumns+` FROM iam_attachments WHERE entity_id IN (`+placeholders(1, len(entityIDs))+`)
		ORDER BY entity_id, policy_arn`, anys(entityIDs)...)
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
