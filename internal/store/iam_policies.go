package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Policy is a customer managed policy. Its documents are its versions.
type Policy struct {
	AccountID      string
	PolicyID       string
	ARN            string
	Name           string
	Path           string
	Description    string
	DefaultVersion string
	NextVersion    int // the number the next version will get
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// PolicyVersion is one document of a managed policy.
type PolicyVersion struct {
	AccountID string
	PolicyID  string
	VersionID string // v1, v2…
	Document  string
	CreatedAt time.Time
}

// InsertPolicy stores a policy with its first version; ErrConflict when the name exists.
func (tx *Tx) InsertPolicy(ctx context.Context, p Policy, v PolicyVersion) error {
	_, err := tx.exec(ctx, `INSERT INTO iam_policies (account_id, policy_id, arn, name, name_key, path, description, default_version, next_version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		p.AccountID, p.PolicyID, p.ARN, p.Name, strings.ToLower(p.Name), p.Path, p.Description, p.DefaultVersion, p.NextVersion,
		p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert policy %s: %w", p.Name, err)
	}
	return tx.InsertPolicyVersion(ctx, v)
}

const policyColumns = `account_id, policy_id, arn, name, path, description, default_version, next_version, created_at, updated_at`

func scanPolicy(s interface{ Scan(...any) error }) (Policy, error) {
	var p Policy
	var created, updated int64
	err := s.Scan(&p.AccountID, &p.PolicyID, &p.ARN, &p.Name, &p.Path, &p.Description, &p.DefaultVersion, &p.NextVersion, &created, &updated)
	p.CreatedAt, p.UpdatedAt = Millis(created), Millis(updated)
	return p, err
}

// GetPolicy finds an account's policy by ARN.
func (tx *Tx) GetPolicy(ctx context.Context, accountID, arn string) (Policy, error) {
	row := tx.q.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM iam_policies WHERE account_id = $1 AND arn = $2`, accountID, arn)
	p, err := scanPolicy(row)
	if err == sql.ErrNoRows {
		return p, ErrNotFound
	}
	return p, classify(err)
}

// ListPolicies returns an account's customer managed policies, by name.
func (tx *Tx) ListPolicies(ctx context.Context, accountID string) ([]Policy, error) {
	var out []Policy
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		p, err := scanPolicy(r)
		out = append(out, p)
		return err
	}, `SELECT `+policyColumns+` FROM iam_policies WHERE account_id = $1 ORDER BY name_key`, accountID)
	return out, err
}

// DeletePolicy removes a policy and its versions.
func (tx *Tx) DeletePolicy(ctx context.Context, policyID string) error {
	return tx.execOne(ctx, `DELETE FROM iam_policies WHERE policy_id = $1`, policyID)
}

// SetPolicyVersions records a policy's default version, its next version
// number and when it changed.
func (tx *Tx) SetPolicyVersions(ctx context.Context, policyID, defaultVersion string, next int, updated time.Time) error {
	return tx.execOne(ctx, `UPDATE iam_policies SET default_version = $1, next_version = $2, updated_at = $3 WHERE policy_id = $4`,
		defaultVersion, next, updated.UnixMilli(), policyID)
}

// InsertPolicyVersion stores a version of a policy.
func (tx *Tx) InsertPolicyVersion(ctx context.Context, v PolicyVersion) error {
	_, err := tx.exec(ctx, `INSERT INTO iam_policy_versions (account_id, policy_id, version_id, document, created_at) VALUES ($1, $2, $3, $4, $5)`,
		v.AccountID, v.PolicyID, v.VersionID, v.Document, v.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert version %s of policy %s: %w", v.VersionID, v.PolicyID, err)
	}
	return nil
}

// ListPolicyVersions returns the versions of a policy, oldest first.
func (tx *Tx) ListPolicyVersions(ctx context.Context, policyID string) ([]PolicyVersion, error) {
	var out []PolicyVersion
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var v PolicyVersion
		var created int64
		err := r.Scan(&v.AccountID, &v.PolicyID, &v.VersionID, &v.Document, &created)
		v.CreatedAt = Millis(created)
		out = append(out, v)
		return err
	}, `SELECT account_id, policy_id, version_id, document, created_at FROM iam_policy_versions WHERE policy_id = $1 ORDER BY created_at, version_id`, policyID)
	return out, err
}

// GetPolicyVersion finds one version of a policy.
func (tx *Tx) GetPolicyVersion(ctx context.Context, policyID, versionID string) (PolicyVersion, error) {
	v := PolicyVersion{PolicyID: policyID, VersionID: versionID}
	var created int64
	err := tx.queryRow(ctx, `SELECT account_id, document, created_at FROM iam_policy_versions WHERE policy_id = $1 AND version_id = $2`,
		[]any{policyID, versionID}, &v.AccountID, &v.Document, &created)
	v.CreatedAt = Millis(created)
	return v, err
}

// DeletePolicyVersion removes one version of a policy.
func (tx *Tx) DeletePolicyVersion(ctx context.Context, policyID, versionID string) error {
	return tx.execOne(ctx, `DELETE FROM iam_policy_versions WHERE policy_id = $1 AND version_id = $2`, policyID, versionID)
}

// Entity types of attachments and inline policies.
const (
	EntityUser  = "user"
	EntityGroup = "group"
	EntityRole  = "role"
)

// Attachment is a managed policy (customer or AWS) attached to a user, group or role.
type Attachment struct {
	AccountID  string
	EntityType string // EntityUser, EntityGroup or EntityRole
	EntityID   string // the user's, group's or role's unique id
	PolicyARN  string
	AttachedAt time.Time
}

// Attach records an attachment; attaching again changes nothing.
func (tx *Tx) Attach(ctx context.Context, a Attachment) error {
	_, err := tx.exec(ctx, `INSERT INTO iam_attachments (account_id, entity_type, entity_id, policy_arn, attached_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (entity_id, policy_arn) DO NOTHING`, a.AccountID, a.EntityType, a.EntityID, a.PolicyARN, a.AttachedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("attach %s to %s: %w", a.PolicyARN, a.EntityID, err)
	}
	return nil
}

// Detach removes an attachment; ErrNotFound when there was none.
func (tx *Tx) Detach(ctx context.Context, entityID, policyARN string) error {
	return tx.execOne(ctx, `DELETE FROM iam_attachments WHERE entity_id = $1 AND policy_arn = $2`, entityID, policyARN)
}

func (tx *Tx) listPolicyAttachments(ctx context.Context, query string, args ...any) ([]Attachment, error) {
	var out []Attachment
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var a Attachment
		var at int64
		err := r.Scan(&a.AccountID, &a.EntityType, &a.EntityID, &a.PolicyARN, &at)
		a.AttachedAt = Millis(at)
		out = append(out, a)
		return err
	}, query, args...)
	return out, err
}

const policyAttachmentColumns = `account_id, entity_type, entity_id, policy_arn, attached_at`

// AttachedPolicies returns the attachments of a user, group or role, by policy ARN.
func (tx *Tx) AttachedPolicies(ctx context.Context, entityID string) ([]Attachment, error) {
	return tx.listPolicyAttachments(ctx, `SELECT `+policyAttachmentColumns+` FROM iam_attachments WHERE entity_id = $1 ORDER BY policy_arn`, entityID)
}

// PolicyAttachments returns where in an account a policy is attached.
func (tx *Tx) PolicyAttachments(ctx context.Context, accountID, policyARN string) ([]Attachment, error) {
	return tx.listPolicyAttachments(ctx, `SELECT `+policyAttachmentColumns+` FROM iam_attachments WHERE account_id = $1 AND policy_arn = $2 ORDER BY entity_type, entity_id`,
		accountID, policyARN)
}

// AttachmentCounts counts, per policy ARN, the attachments in an account.
func (tx *Tx) AttachmentCounts(ctx context.Context, accountID string) (map[string]int, error) {
	out := map[string]int{}
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var arn string
		var n int
		err := r.Scan(&arn, &n)
		out[arn] = n
		return err
	}, `SELECT policy_arn, COUNT(*) FROM iam_attachments WHERE account_id = $1 GROUP BY policy_arn`, accountID)
	return out, err
}

// InlinePolicy is a policy document embedded in one user, group or role.
type InlinePolicy struct {
	AccountID  string
	EntityType string
	EntityID   string
	Name       string
	Document   string
}

// PutInlinePolicy creates or replaces an inline policy.
func (tx *Tx) PutInlinePolicy(ctx context.Context, p InlinePolicy) error {
	_, err := tx.exec(ctx, `INSERT INTO iam_inline_policies (account_id, entity_type, entity_id, name, document) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (entity_id, name) DO UPDATE SET document = excluded.document`, p.AccountID, p.EntityType, p.EntityID, p.Name, p.Document)
	if err != nil {
		return fmt.Errorf("put policy %s of %s: %w", p.Name, p.EntityID, err)
	}
	return nil
}

// InlinePolicies returns the inline policies of a user, group or role, by name.
func (tx *Tx) InlinePolicies(ctx context.Context, entityID string) ([]InlinePolicy, error) {
	var out []InlinePolicy
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var p InlinePolicy
		err := r.Scan(&p.AccountID, &p.EntityType, &p.EntityID, &p.Name, &p.Document)
		out = append(out, p)
		return err
	}, `SELECT account_id, entity_type, entity_id, name, document FROM iam_inline_policies WHERE entity_id = $1 ORDER BY name`, entityID)
	return out, err
}

// DeleteInlinePolicy removes an inline policy; ErrNotFound when there is none.
func (tx *Tx) DeleteInlinePolicy(ctx context.Context, entityID, name string) error {
	return tx.execOne(ctx, `DELETE FROM iam_inline_policies WHERE entity_id = $1 AND name = $2`, entityID, name)
}

// DeleteEntityPolicies removes the attachments and inline policies of a
// user, group or role that is being deleted.
func (tx *Tx) DeleteEntityPolicies(ctx context.Context, entityID string) error {
	for _, q := range []string{`DELETE FROM iam_attachments WHERE entity_id = $1`, `DELETE FROM iam_inline_policies WHERE entity_id = $1`} {
		if _, err := tx.exec(ctx, q, entityID); err != nil {
			return fmt.Errorf("delete the policies of %s: %w", entityID, err)
		}
	}
	return nil
}
