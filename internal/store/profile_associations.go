package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ProfileAssociation ties an instance to an IAM instance profile.
type ProfileAssociation struct {
	AssociationID string
	AccountID     string
	InstanceID    string
	ProfileID     string
	ProfileARN    string
	CreatedAt     time.Time
}

// InsertProfileAssociation stores an association; ErrConflict when the
// instance already has one.
func (tx *Tx) InsertProfileAssociation(ctx context.Context, a ProfileAssociation) error {
	_, err := tx.exec(ctx, `INSERT INTO instance_profile_associations (association_id, account_id, instance_id, profile_id, profile_arn, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.AssociationID, a.AccountID, a.InstanceID, a.ProfileID, a.ProfileARN, a.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("associate instance profile with %s: %w", a.InstanceID, err)
	}
	return nil
}

const associationColumns = `association_id, account_id, instance_id, profile_id, profile_arn, created_at`

func (tx *Tx) listAssociations(ctx context.Context, where string, args ...any) ([]ProfileAssociation, error) {
	var out []ProfileAssociation
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var a ProfileAssociation
		var created int64
		err := r.Scan(&a.AssociationID, &a.AccountID, &a.InstanceID, &a.ProfileID, &a.ProfileARN, &created)
		a.CreatedAt = Millis(created)
		out = append(out, a)
		return err
	}, `SELECT `+associationColumns+` FROM instance_profile_associations `+where, args...)
	return out, err
}

// ProfileAssociations lists an account's associations by instance id.
func (tx *Tx) ProfileAssociations(ctx context.Context, accountID string) ([]ProfileAssociation, error) {
	return tx.listAssociations(ctx, `WHERE account_id = $1 ORDER BY instance_id`, accountID)
}

// ProfileAssociationOf returns an instance's association; ErrNotFound when none.
func (tx *Tx) ProfileAssociationOf(ctx context.Context, instanceID string) (ProfileAssociation, error) {
	out, err := tx.listAssociations(ctx, `WHERE instance_id = $1`, instanceID)
	if err == nil && len(out) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return ProfileAssociation{}, err
	}
	return out[0], nil
}

// GetProfileAssociation finds an association by id; ErrNotFound when none.
func (tx *Tx) GetProfileAssociation(ctx context.Context, accountID, id string) (ProfileAssociation, error) {
	out, err := tx.listAssociations(ctx, `WHERE account_id = $1 AND association_id = $2`, accountID, id)
	if err == nil && len(out) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return ProfileAssociation{}, err
	}
	return out[0], nil
}

// DeleteProfileAssociation removes an association.
func (tx *Tx) DeleteProfileAssociation(ctx context.Context, id string) error {
	return tx.execOne(ctx, `DELETE FROM instance_profile_associations WHERE association_id = $1`, id)
}

// GetInstanceProfileByID finds a profile by its AIPA… id; ErrNotFound when none.
func (tx *Tx) GetInstanceProfileByID(ctx context.Context, profileID string) (InstanceProfile, error) {
	out, err := tx.listProfiles(ctx, `SELECT `+profileColumns+` FROM iam_instance_profiles WHERE profile_id = $1`, profileID)
	if err == nil && len(out) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return InstanceProfile{}, err
	}
	return out[0], nil
}

// GetRoleByID finds a role by its AROA… id; ErrNotFound when none.
func (tx *Tx) GetRoleByID(ctx context.Context, roleID string) (Role, error) {
	var name, account string
	err := tx.queryRows(ctx, func(r *sql.Rows) error { return r.Scan(&account, &name) },
		`SELECT account_id, name FROM iam_roles WHERE role_id = $1`, roleID)
	if err != nil {
		return Role{}, err
	}
	if name == "" {
		return Role{}, ErrNotFound
	}
	return tx.GetRole(ctx, account, name)
}
