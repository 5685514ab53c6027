package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ImportTask is an ImportImage or ImportSnapshot job.
type ImportTask struct {
	ID            string
	AccountID     string
	Kind          string // image | snapshot
	Status        string // active | completed | deleting | deleted
	StatusMessage string
	Progress      int64
	Description   string
	Format        string
	S3Bucket      string
	S3Key         string
	DiskSize      int64
	SnapshotID    string
	ImageID       string
	Architecture  string
	BootMode      string
	ClientToken   string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const importColumns = `id, account_id, kind, status, status_message, progress, description, format, s3_bucket, s3_key,
	disk_size, snapshot_id, image_id, architecture, boot_mode, client_token, created_at, updated_at`

func scanImport(s interface{ Scan(...any) error }) (ImportTask, error) {
	var t ImportTask
	var created, updated int64
	err := s.Scan(&t.ID, &t.AccountID, &t.Kind, &t.Status, &t.StatusMessage, &t.Progress, &t.Description, &t.Format, &t.S3Bucket,
		&t.S3Key, &t.DiskSize, &t.SnapshotID, &t.ImageID, &t.Architecture, &t.BootMode, &t.ClientToken, &created, &updated)
	t.CreatedAt, t.UpdatedAt = Millis(created), Millis(updated)
	return t, err
}

// InsertImportTask stores a new task.
func (tx *Tx) InsertImportTask(ctx context.Context, t ImportTask) error {
	_, err := tx.exec(ctx, `INSERT INTO import_tasks (`+importColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		t.ID, t.AccountID, t.Kind, t.Status, t.StatusMessage, t.Progress, t.Description, t.Format, t.S3Bucket, t.S3Key,
		t.DiskSize, t.SnapshotID, t.ImageID, t.Architecture, t.BootMode, t.ClientToken, t.CreatedAt.UnixMilli(), t.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert import task %s: %w", t.ID, err)
	}
	return nil
}

// UpdateImportTask saves a task's progress and results.
func (tx *Tx) UpdateImportTask(ctx context.Context, t ImportTask) error {
	return tx.execOne(ctx, `UPDATE import_tasks SET status = $1, status_message = $2, progress = $3, disk_size = $4, snapshot_id = $5,
		image_id = $6, format = $7, updated_at = $8 WHERE id = $9`,
		t.Status, t.StatusMessage, t.Progress, t.DiskSize, t.SnapshotID, t.ImageID, t.Format, time.Now().UnixMilli(), t.ID)
}

// ListImportTasks returns an account's tasks of one kind, by id.
func (tx *Tx) ListImportTasks(ctx context.Context, accountID, kind string) ([]ImportTask, error) {
	return tx.importTasks(ctx, `SELECT `+importColumns+` FROM import_tasks WHERE account_id = $1 AND kind = $2 ORDER BY id`, accountID, kind)
}

// ImportTasksWithStatus returns every account's tasks in a status, oldest first (the importer's queue).
func (tx *Tx) ImportTasksWithStatus(ctx context.Context, status string) ([]ImportTask, error) {
	return tx.importTasks(ctx, `SELECT `+importColumns+` FROM import_tasks WHERE status = $1 ORDER BY created_at, id`, status)
}

// GetImportTask finds one task of an account.
func (tx *Tx) GetImportTask(ctx context.Context, accountID, id string) (ImportTask, error) {
	list, err := tx.importTasks(ctx, `SELECT `+importColumns+` FROM import_tasks WHERE account_id = $1 AND id = $2`, accountID, id)
	if err != nil {
		return ImportTask{}, err
	}
	if len(list) == 0 {
		return ImportTask{}, ErrNotFound
	}
	return list[0], nil
}

func (tx *Tx) importTasks(ctx context.Context, query string, args ...any) ([]ImportTask, error) {
	var out []ImportTask
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		t, err := scanImport(r)
		out = append(out, t)
		return err
	}, query, args...)
	return out, err
}
