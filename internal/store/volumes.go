package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kumo-cloud/kumo/internal/ids"
)

// Volume is one EBS volume: what the API asked for and where its data is.
type Volume struct {
	ID               string
	AccountID        string
	AvailabilityZone string
	SizeGiB          int64
	VolumeType       string
	IOPS             int64
	Throughput       int64
	SnapshotID       string
	MultiAttach      bool
	AutoEnableIO     bool
	State            string
	Backend          string
	// HomeNode holds the data ('' : nobody yet); DataBytes is the size it
	// last reported, ExportURL its NBD export while it serves one.
	HomeNode     string
	DataBytes    int64
	ExportURL    string
	RootInstance string // the instance whose root disk this is
	CreatedAt    time.Time
}

// VolumeAttachment is a volume attached (or being attached or detached) to an instance.
type VolumeAttachment struct {
	VolumeID            string
	InstanceID          string
	AccountID           string
	Device              string
	State               string // attaching | attached | detaching
	Force               bool
	DeleteOnTermination bool
	AttachTime          time.Time
}

const volumeColumns = `id, account_id, availability_zone, size_gib, volume_type, iops, throughput, snapshot_id, multi_attach,
	auto_enable_io, state, backend, home_node, data_bytes, export_url, root_instance, created_at`

func scanVolume(r interface{ Scan(...any) error }) (Volume, error) {
	var v Volume
	var created int64
	err := r.Scan(&v.ID, &v.AccountID, &v.AvailabilityZone, &v.SizeGiB, &v.VolumeType, &v.IOPS, &v.Throughput, &v.SnapshotID,
		&v.MultiAttach, &v.AutoEnableIO, &v.State, &v.Backend, &v.HomeNode, &v.DataBytes, &v.ExportURL, &v.RootInstance, &created)
	v.CreatedAt = Millis(created)
	return v, err
}

// InsertVolume stores a new volume and records its creation in the usage ledger.
func (tx *Tx) InsertVolume(ctx context.Context, v Volume) error {
	_, err := tx.exec(ctx, `INSERT INTO volumes (`+volumeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		v.ID, v.AccountID, v.AvailabilityZone, v.SizeGiB, v.VolumeType, v.IOPS, v.Throughput, v.SnapshotID, v.MultiAttach,
		v.AutoEnableIO, v.State, v.Backend, v.HomeNode, v.DataBytes, v.ExportURL, v.RootInstance, v.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert volume %s: %w", v.ID, err)
	}
	return tx.recordVolumeUsage(ctx, v, UsageCreate, v.CreatedAt)
}

// listVolumes runs a query selecting volumeColumns; where follows FROM volumes.
func (tx *Tx) listVolumes(ctx context.Context, where string, args ...any) ([]Volume, error) {
	var out []Volume
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		v, err := scanVolume(r)
		out = append(out, v)
		return err
	}, `SELECT `+volumeColumns+` FROM volumes `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	return out, nil
}

// ListVolumes returns an account's volumes by id.
func (tx *Tx) ListVolumes(ctx context.Context, accountID string) ([]Volume, error) {
	return tx.listVolumes(ctx, `WHERE account_id = $1 ORDER BY id`, accountID)
}

// GetVolume returns one of an account's volumes; ErrNotFound if none
// (another account's volume is not found either).
func (tx *Tx) GetVolume(ctx context.Context, accountID, id string) (Volume, error) {
	out, err := tx.listVolumes(ctx, `WHERE account_id = $1 AND id = $2`, accountID, id)
	if err != nil {
		return Volume{}, err
	}
	if len(out) == 0 {
		return Volume{}, ErrNotFound
	}
	return out[0], nil
}

// GetVolumeAnyAccount returns a volume whoever owns it (node reports).
func (tx *Tx) GetVolumeAnyAccount(ctx context.Context, id string) (Volume, error) {
	out, err := tx.listVolumes(ctx, `WHERE id = $1`, id)
	if err != nil {
		return Volume{}, err
	}
	if len(out) == 0 {
		return Volume{}, ErrNotFound
	}
	return out[0], nil
}

// ListHomedVolumes returns the non-root volumes whose data is on a node.
func (tx *Tx) ListHomedVolumes(ctx context.Context, nodeID string) ([]Volume, error) {
	return tx.listVolumes(ctx, `WHERE home_node = $1 AND root_instance = '' ORDER BY id`, nodeID)
}

// UpdateVolume writes every mutable column of a volume back.
func (tx *Tx) UpdateVolume(ctx context.Context, v Volume) error {
	err := tx.execOne(ctx, `UPDATE volumes SET size_gib = $2, volume_type = $3, iops = $4, throughput = $5, multi_attach = $6,
		auto_enable_io = $7, state = $8, home_node = $9, data_bytes = $10, export_url = $11 WHERE id = $1`,
		v.ID, v.SizeGiB, v.VolumeType, v.IOPS, v.Throughput, v.MultiAttach, v.AutoEnableIO, v.State, v.HomeNode, v.DataBytes, v.ExportURL)
	if err != nil {
		return fmt.Errorf("update volume %s: %w", v.ID, err)
	}
	return nil
}

// DeleteVolumeRow removes a volume whose data is gone, with its tags,
// attachments and modifications, and records the end of its life.
func (tx *Tx) DeleteVolumeRow(ctx context.Context, v Volume, at time.Time) error {
	if err := tx.execOne(ctx, `DELETE FROM volumes WHERE id = $1`, v.ID); err != nil {
		return fmt.Errorf("delete volume %s: %w", v.ID, err)
	}
	for _, q := range []string{`DELETE FROM volume_attachments WHERE volume_id = $1`, `DELETE FROM volume_modifications WHERE volume_id = $1`} {
		if _, err := tx.exec(ctx, q, v.ID); err != nil {
			return fmt.Errorf("delete volume %s: %w", v.ID, err)
		}
	}
	if err := tx.DeleteAllTags(ctx, v.AccountID, v.ID); err != nil {
		return err
	}
	return tx.recordVolumeUsage(ctx, v, UsageDelete, at)
}

// VolumeUsageGiB sums the sizes of an account's volumes of one type (quota checks).
func (tx *Tx) VolumeUsageGiB(ctx context.Context, accountID, volumeType string) (int64, error) {
	var n int64
	err := tx.queryRow(ctx, `SELECT COALESCE(SUM(size_gib), 0) FROM volumes WHERE account_id = $1 AND volume_type = $2`,
		[]any{accountID, volumeType}, &n)
	if err != nil {
		return 0, fmt.Errorf("volume usage of %s: %w", accountID, err)
	}
	return n, nil
}

const attachmentColumns = `volume_id, instance_id, account_id, device, state, force_detach, delete_on_termination, attach_time`

func (tx *Tx) listAttachments(ctx context.Context, where string, args ...any) ([]VolumeAttachment, error) {
	var out []VolumeAttachment
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var a VolumeAttachment
		var at int64
		err := r.Scan(&a.VolumeID, &a.InstanceID, &a.AccountID, &a.Device, &a.State, &a.Force, &a.DeleteOnTermination, &at)
		a.AttachTime = Millis(at)
		out = append(out, a)
		return err
	}, `SELECT `+attachmentColumns+` FROM volume_attachments `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list volume attachments: %w", err)
	}
	return out, nil
}

// ListVolumeAttachments returns an account's attachments by volume and instance.
func (tx *Tx) ListVolumeAttachments(ctx context.Context, accountID string) ([]VolumeAttachment, error) {
	return tx.listAttachments(ctx, `WHERE account_id = $1 ORDER BY volume_id, instance_id`, accountID)
}

// InstanceVolumeAttachments returns an instance's attachments by device.
func (tx *Tx) InstanceVolumeAttachments(ctx context.Context, instanceID string) ([]VolumeAttachment, error) {
	return tx.listAttachments(ctx, `WHERE instance_id = $1 ORDER BY device`, instanceID)
}

// VolumeAttachmentsOf returns a volume's attachments.
func (tx *Tx) VolumeAttachmentsOf(ctx context.Context, volumeID string) ([]VolumeAttachment, error) {
	return tx.listAttachments(ctx, `WHERE volume_id = $1 ORDER BY instance_id`, volumeID)
}

// InsertVolumeAttachment stores an attachment; ErrConflict when the
// instance's device or the (volume, instance) pair is taken.
func (tx *Tx) InsertVolumeAttachment(ctx context.Context, a VolumeAttachment) error {
	_, err := tx.exec(ctx, `INSERT INTO volume_attachments (`+attachmentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.VolumeID, a.InstanceID, a.AccountID, a.Device, a.State, a.Force, a.DeleteOnTermination, a.AttachTime.UnixMilli())
	if err != nil {
		return fmt.Errorf("attach volume %s to %s: %w", a.VolumeID, a.InstanceID, err)
	}
	return nil
}

// UpdateVolumeAttachment writes an attachment's state, force and DeleteOnTermination.
func (tx *Tx) UpdateVolumeAttachment(ctx context.Context, a VolumeAttachment) error {
	err := tx.execOne(ctx, `UPDATE volume_attachments SET state = $3, force_detach = $4, delete_on_termination = $5
		WHERE volume_id = $1 AND instance_id = $2`, a.VolumeID, a.InstanceID, a.State, a.Force, a.DeleteOnTermination)
	if err != nil {
		return fmt.Errorf("update attachment of %s to %s: %w", a.VolumeID, a.InstanceID, err)
	}
	return nil
}

// DeleteVolumeAttachment removes an attachment (the volume is detached).
func (tx *Tx) DeleteVolumeAttachment(ctx context.Context, volumeID, instanceID string) error {
	if _, err := tx.exec(ctx, `DELETE FROM volume_attachments WHERE volume_id = $1 AND instance_id = $2`, volumeID, instanceID); err != nil {
		return fmt.Errorf("detach volume %s from %s: %w", volumeID, instanceID, err)
	}
	return nil
}

// StaleVolumeCopies lists the volumes whose leftover data a node must delete.
func (tx *Tx) StaleVolumeCopies(ctx context.Context, nodeID string) ([]string, error) {
	return tx.grantees(ctx, `SELECT volume_id FROM volume_stale_copies WHERE node_id = $1 ORDER BY volume_id`, nodeID)
}

// AddStaleVolumeCopy records leftover data of a volume on a node.
func (tx *Tx) AddStaleVolumeCopy(ctx context.Context, volumeID, nodeID string) error {
	_, err := tx.exec(ctx, `INSERT INTO volume_stale_copies (volume_id, node_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, volumeID, nodeID)
	if err != nil {
		return fmt.Errorf("stale copy of %s on %s: %w", volumeID, nodeID, err)
	}
	return nil
}

// DropStaleVolumeCopy forgets leftover data the node reported gone.
func (tx *Tx) DropStaleVolumeCopy(ctx context.Context, volumeID, nodeID string) error {
	if _, err := tx.exec(ctx, `DELETE FROM volume_stale_copies WHERE volume_id = $1 AND node_id = $2`, volumeID, nodeID); err != nil {
		return fmt.Errorf("stale copy of %s on %s: %w", volumeID, nodeID, err)
	}
	return nil
}

// VolumeModification is one ModifyVolume request and its progress.
type VolumeModification struct {
	VolumeID  string
	StartedAt time.Time
	// ReachedAt is when the data reached the target size (zero: not yet).
	ReachedAt                                      time.Time
	OriginalSize, OriginalIOPS, OriginalThroughput int64
	OriginalType                                   string
	OriginalMulti                                  bool
	TargetSize, TargetIOPS, TargetThroughput       int64
	TargetType                                     string
	TargetMulti                                    bool
}

const modColumns = `volume_id, started_at, reached_at, original_size, original_type, original_iops, original_throughput, original_multi,
	target_size, target_type, target_iops, target_throughput, target_multi`

// InsertVolumeModification records a modification.
func (tx *Tx) InsertVolumeModification(ctx context.Context, m VolumeModification) error {
	_, err := tx.exec(ctx, `INSERT INTO volume_modifications (`+modColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		m.VolumeID, m.StartedAt.UnixMilli(), millisOrZero(m.ReachedAt), m.OriginalSize, m.OriginalType, m.OriginalIOPS, m.OriginalThroughput,
		m.OriginalMulti, m.TargetSize, m.TargetType, m.TargetIOPS, m.TargetThroughput, m.TargetMulti)
	if err != nil {
		return fmt.Errorf("insert modification of %s: %w", m.VolumeID, err)
	}
	return nil
}

// ListVolumeModifications returns an account's modifications, oldest first per volume.
func (tx *Tx) ListVolumeModifications(ctx context.Context, accountID string) ([]VolumeModification, error) {
	var out []VolumeModification
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var m VolumeModification
		var started, reached int64
		err := r.Scan(&m.VolumeID, &started, &reached, &m.OriginalSize, &m.OriginalType, &m.OriginalIOPS, &m.OriginalThroughput, &m.OriginalMulti,
			&m.TargetSize, &m.TargetType, &m.TargetIOPS, &m.TargetThroughput, &m.TargetMulti)
		m.StartedAt = Millis(started)
		if reached != 0 {
			m.ReachedAt = Millis(reached)
		}
		out = append(out, m)
		return err
	}, `SELECT `+modColumns+` FROM volume_modifications WHERE volume_id IN (SELECT id FROM volumes WHERE account_id = $1)
		ORDER BY volume_id, started_at`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list volume modifications: %w", err)
	}
	return out, nil
}

// MarkVolumeSizeReached records that a volume's data reached sizeGiB:
// every modification to that size or less still waiting for it is done
// growing.
func (tx *Tx) MarkVolumeSizeReached(ctx context.Context, volumeID string, sizeGiB int64, at time.Time) error {
	_, err := tx.exec(ctx, `UPDATE volume_modifications SET reached_at = $3 WHERE volume_id = $1 AND reached_at = 0 AND target_size <= $2`,
		volumeID, sizeGiB, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("modification of %s: %w", volumeID, err)
	}
	return nil
}

// Usage events.
const (
	UsageCreate = "create"
	UsageModify = "modify"
	UsageDelete = "delete"
)

// UsageEvent is one row of the usage ledger.
type UsageEvent struct {
	ID           string
	AccountID    string
	ResourceID   string
	ResourceType string
	Event        string
	VolumeType   string
	SizeGiB      int64
	IOPS         int64
	Throughput   int64
	At           time.Time
}

func (tx *Tx) recordVolumeUsage(ctx context.Context, v Volume, event string, at time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO usage_events (id, account_id, resource_id, resource_type, event, volume_type, size_gib, iops, throughput, at)
		VALUES ($1, $2, $3, 'volume', $4, $5, $6, $7, $8, $9)`,
		ids.Resource("use"), v.AccountID, v.ID, event, v.VolumeType, v.SizeGiB, v.IOPS, v.Throughput, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("usage of volume %s: %w", v.ID, err)
	}
	return nil
}

// RecordVolumeModified writes a volume's new size, type and performance to the ledger.
func (tx *Tx) RecordVolumeModified(ctx context.Context, v Volume, at time.Time) error {
	return tx.recordVolumeUsage(ctx, v, UsageModify, at)
}

// ListUsageEvents returns an account's usage events in order.
func (tx *Tx) ListUsageEvents(ctx context.Context, accountID string) ([]UsageEvent, error) {
	var out []UsageEvent
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var e UsageEvent
		var at int64
		err := r.Scan(&e.ID, &e.AccountID, &e.ResourceID, &e.ResourceType, &e.Event, &e.VolumeType, &e.SizeGiB, &e.IOPS, &e.Throughput, &at)
		e.At = Millis(at)
		out = append(out, e)
		return err
	}, `SELECT id, account_id, resource_id, resource_type, event, volume_type, size_gib, iops, throughput, at
		FROM usage_events WHERE account_id = $1 ORDER BY at, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list usage events: %w", err)
	}
	return out, nil
}

// InstanceNode returns the node an instance is placed on (” when none or
// when the instance is gone).
func (tx *Tx) InstanceNode(ctx context.Context, instanceID string) (string, error) {
	var node string
	err := tx.queryRow(ctx, `SELECT node_id FROM instances WHERE id = $1`, []any{instanceID}, &node)
	if err == ErrNotFound {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("node of %s: %w", instanceID, err)
	}
	return node, nil
}

// VolumeSnapshotTask is a pending snapshot of a volume a node holds.
type VolumeSnapshotTask struct {
	SnapshotID, VolumeID, Parent string
}

// PendingVolumeSnapshots lists the pending snapshots of the volumes whose
// data a node holds (a data volume's home, a root volume's instance's
// node), each with the volume's previous completed snapshot.
func (tx *Tx) PendingVolumeSnapshots(ctx context.Context, nodeID string) ([]VolumeSnapshotTask, error) {
	var out []VolumeSnapshotTask
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var t VolumeSnapshotTask
		err := r.Scan(&t.SnapshotID, &t.VolumeID)
		out = append(out, t)
		return err
	}, `SELECT s.id, s.volume_id FROM snapshots s JOIN volumes v ON v.id = s.volume_id
		WHERE s.state = 'pending' AND ((v.root_instance = '' AND v.home_node = $1)
			OR (v.root_instance <> '' AND v.root_instance IN (SELECT id FROM instances WHERE node_id = $1)))
		ORDER BY s.id`, nodeID)
	if err != nil {
		return nil, fmt.Errorf("pending snapshots of node %s: %w", nodeID, err)
	}
	for i := range out {
		err := tx.queryRow(ctx, `SELECT id FROM snapshots WHERE volume_id = $1 AND state = 'completed'
			AND created_at <= (SELECT created_at FROM snapshots WHERE id = $2) ORDER BY created_at DESC, id DESC LIMIT 1`,
			[]any{out[i].VolumeID, out[i].SnapshotID}, &out[i].Parent)
		if err != nil && err != ErrNotFound {
			return nil, fmt.Errorf("parent of snapshot %s: %w", out[i].SnapshotID, err)
		}
	}
	return out, nil
}

// RecordSnapshotUsage writes a snapshot's creation (once completed) or
// deletion to the usage ledger.
func (tx *Tx) RecordSnapshotUsage(ctx context.Context, s Snapshot, event string, at time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO usage_events (id, account_id, resource_id, resource_type, event, volume_type, size_gib, iops, throughput, at)
		VALUES ($1, $2, $3, 'snapshot', $4, '', $5, 0, 0, $6)`,
		ids.Resource("use"), s.AccountID, s.ID, event, s.VolumeSize, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("usage of snapshot %s: %w", s.ID, err)
	}
	return nil
}

// VolumeHasPendingSnapshots reports whether a snapshot of the volume is
// still being taken (its data must stay until it is done).
func (tx *Tx) VolumeHasPendingSnapshots(ctx context.Context, volumeID string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM snapshots WHERE volume_id = $1 AND state = 'pending'`, []any{volumeID}, &n)
	if err != nil {
		return false, fmt.Errorf("pending snapshots of %s: %w", volumeID, err)
	}
	return n > 0, nil
}
