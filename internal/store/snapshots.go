package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Snapshot is a point-in-time copy of a volume kept in the object store.
type Snapshot struct {
	ID           string
	AccountID    string
	VolumeID     string
	VolumeSize   int64 // GiB
	SizeBytes    int64
	State        string
	Progress     int64
	Description  string
	StateMessage string
	CreatedAt    time.Time
}

const snapshotColumns = `id, account_id, volume_id, volume_size, size_bytes, state, progress, description, state_message, created_at`

func scanSnapshot(s interface{ Scan(...any) error }) (Snapshot, error) {
	var sn Snapshot
	var created int64
	err := s.Scan(&sn.ID, &sn.AccountID, &sn.VolumeID, &sn.VolumeSize, &sn.SizeBytes, &sn.State, &sn.Progress, &sn.Description, &sn.StateMessage, &created)
	sn.CreatedAt = Millis(created)
	return sn, err
}

// InsertSnapshot stores a snapshot record.
func (tx *Tx) InsertSnapshot(ctx context.Context, s Snapshot) error {
	_, err := tx.exec(ctx, `INSERT INTO snapshots (`+snapshotColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		s.ID, s.AccountID, s.VolumeID, s.VolumeSize, s.SizeBytes, s.State, s.Progress, s.Description, s.StateMessage, s.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert snapshot %s: %w", s.ID, err)
	}
	return nil
}

// UpdateSnapshot saves state, progress, sizes and message.
func (tx *Tx) UpdateSnapshot(ctx context.Context, s Snapshot) error {
	return tx.execOne(ctx, `UPDATE snapshots SET state = $1, progress = $2, size_bytes = $3, volume_size = $4, state_message = $5, description = $6 WHERE id = $7`,
		s.State, s.Progress, s.SizeBytes, s.VolumeSize, s.StateMessage, s.Description, s.ID)
}

// VisibleSnapshots returns the snapshots an account owns or may create volumes from, by id.
func (tx *Tx) VisibleSnapshots(ctx context.Context, accountID string) ([]Snapshot, error) {
	var out []Snapshot
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		s, err := scanSnapshot(r)
		out = append(out, s)
		return err
	}, `SELECT `+snapshotColumns+` FROM snapshots WHERE account_id = $1
		OR id IN (SELECT snapshot_id FROM snapshot_permissions WHERE grantee = $1 OR grantee = 'all') ORDER BY id`, accountID)
	return out, err
}

// GetSnapshot finds a snapshot by id, whoever owns it.
func (tx *Tx) GetSnapshot(ctx context.Context, id string) (Snapshot, error) {
	row := tx.q.QueryRowContext(ctx, `SELECT `+snapshotColumns+` FROM snapshots WHERE id = $1`, id)
	s, err := scanSnapshot(row)
	if err == sql.ErrNoRows {
		return s, ErrNotFound
	}
	return s, classify(err)
}

// DeleteSnapshot removes a snapshot record, its permissions and tags.
func (tx *Tx) DeleteSnapshot(ctx context.Context, accountID, id string) error {
	if _, err := tx.exec(ctx, `DELETE FROM snapshot_permissions WHERE snapshot_id = $1`, id); err != nil {
		return fmt.Errorf("delete permissions of %s: %w", id, err)
	}
	if err := tx.execOne(ctx, `DELETE FROM snapshots WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}

// SnapshotPermissions lists who may create volumes from a snapshot.
func (tx *Tx) SnapshotPermissions(ctx context.Context, id string) ([]string, error) {
	return tx.grantees(ctx, `SELECT grantee FROM snapshot_permissions WHERE snapshot_id = $1 ORDER BY grantee`, id)
}

// SetSnapshotPermission adds or removes one grantee.
func (tx *Tx) SetSnapshotPermission(ctx context.Context, id, grantee string, granted bool) error {
	return tx.setGrant(ctx, "snapshot_permissions", "snapshot_id", id, grantee, granted)
}

// ClearSnapshotPermissions removes every grantee.
func (tx *Tx) ClearSnapshotPermissions(ctx context.Context, id string) error {
	_, err := tx.exec(ctx, `DELETE FROM snapshot_permissions WHERE snapshot_id = $1`, id)
	return err
}

// ImagesUsingSnapshot lists images whose block devices name the snapshot.
func (tx *Tx) ImagesUsingSnapshot(ctx context.Context, snapshotID string) ([]string, error) {
	return tx.grantees(ctx, `SELECT DISTINCT image_id FROM image_block_devices WHERE snapshot_id = $1 ORDER BY image_id`, snapshotID)
}

// AllSnapshotIDs lists every snapshot record, whatever its state, for chunk garbage collection.
func (tx *Tx) AllSnapshotIDs(ctx context.Context) ([]string, error) {
	return tx.grantees(ctx, `SELECT id FROM snapshots ORDER BY id`)
}

// grantees runs a query returning one string column.
func (tx *Tx) grantees(ctx context.Context, query string, args ...any) ([]string, error) {
	var out []string
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var s string
		err := r.Scan(&s)
		out = append(out, s)
		return err
	}, query, args...)
	return out, err
}

// setGrant inserts or deletes a (resource, grantee) row in a permission table.
func (tx *Tx) setGrant(ctx context.Context, table, column, id, grantee string, granted bool) error {
	var err error
	if granted {
		_, err = tx.exec(ctx, `INSERT INTO `+table+` (`+column+`, grantee) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, grantee)
	} else {
		_, err = tx.exec(ctx, `DELETE FROM `+table+` WHERE `+column+` = $1 AND grantee = $2`, id, grantee)
	}
	if err != nil {
		return fmt.Errorf("permission on %s: %w", id, err)
	}
	return nil
}
