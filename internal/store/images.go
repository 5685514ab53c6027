package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Image is a machine (ami), kernel (aki) or ramdisk (ari) image.
type Image struct {
	ID                 string
	AccountID          string
	Name               string
	Description        string
	ImageType          string
	State              string
	StateReason        string
	Architecture       string
	RootDeviceName     string
	RootDeviceType     string
	VirtualizationType string
	BootMode           string
	KernelID           string
	RamdiskID          string
	Location           string
	SizeBytes          int64
	ENASupport         bool
	Public             bool
	CreatedAt          time.Time
	BlockDevices       []BlockDevice
}

// BlockDevice is one entry of an image's block-device mapping.
type BlockDevice struct {
	DeviceName          string
	SnapshotID          string
	VolumeSize          int64
	VolumeType          string
	DeleteOnTermination bool
	VirtualName         string
	NoDevice            bool
}

const imageColumns = `id, account_id, name, description, image_type, state, state_reason, architecture, root_device_name,
	root_device_type, virtualization_type, boot_mode, kernel_id, ramdisk_id, location, size_bytes, ena_support, public, created_at`

func scanImage(s interface{ Scan(...any) error }) (Image, error) {
	var im Image
	var created int64
	err := s.Scan(&im.ID, &im.AccountID, &im.Name, &im.Description, &im.ImageType, &im.State, &im.StateReason, &im.Architecture,
		&im.RootDeviceName, &im.RootDeviceType, &im.VirtualizationType, &im.BootMode, &im.KernelID, &im.RamdiskID, &im.Location,
		&im.SizeBytes, &im.ENASupport, &im.Public, &created)
	im.CreatedAt = Millis(created)
	return im, err
}

// InsertImage stores an image and its block devices; ErrConflict when the
// account already has an image of that name.
func (tx *Tx) InsertImage(ctx context.Context, im Image) error {
	_, err := tx.exec(ctx, `INSERT INTO images (`+imageColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		im.ID, im.AccountID, im.Name, im.Description, im.ImageType, im.State, im.StateReason, im.Architecture, im.RootDeviceName,
		im.RootDeviceType, im.VirtualizationType, im.BootMode, im.KernelID, im.RamdiskID, im.Location, im.SizeBytes, im.ENASupport,
		im.Public, im.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert image %s: %w", im.Name, err)
	}
	for _, bd := range im.BlockDevices {
		_, err := tx.exec(ctx, `INSERT INTO image_block_devices (image_id, device_name, snapshot_id, volume_size, volume_type,
			delete_on_termination, virtual_name, no_device) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			im.ID, bd.DeviceName, bd.SnapshotID, bd.VolumeSize, bd.VolumeType, bd.DeleteOnTermination, bd.VirtualName, bd.NoDevice)
		if err != nil {
			return fmt.Errorf("insert block device %s of %s: %w", bd.DeviceName, im.ID, err)
		}
	}
	return nil
}

// VisibleImages returns the images an account owns, may launch (granted or public), by id, with block devices.
func (tx *Tx) VisibleImages(ctx context.Context, accountID string) ([]Image, error) {
	var out []Image
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		im, err := scanImage(r)
		out = append(out, im)
		return err
	}, `SELECT `+imageColumns+` FROM images WHERE account_id = $1 OR public
		OR id IN (SELECT image_id FROM image_permissions WHERE grantee = $1) ORDER BY id`, accountID)
	if err != nil {
		return nil, err
	}
	return out, tx.loadBlockDevices(ctx, out)
}

// GetImage finds an image by id, whoever owns it, with block devices.
func (tx *Tx) GetImage(ctx context.Context, id string) (Image, error) {
	row := tx.q.QueryRowContext(ctx, `SELECT `+imageColumns+` FROM images WHERE id = $1`, id)
	im, err := scanImage(row)
	if err == sql.ErrNoRows {
		return im, ErrNotFound
	}
	if err != nil {
		return im, classify(err)
	}
	list := []Image{im}
	err = tx.loadBlockDevices(ctx, list)
	return list[0], err
}

func (tx *Tx) loadBlockDevices(ctx context.Context, images []Image) error {
	if len(images) == 0 {
		return nil
	}
	index := make(map[string]int, len(images))
	for i, im := range images {
		index[im.ID] = i
	}
	return tx.queryRows(ctx, func(r *sql.Rows) error {
		var id string
		var bd BlockDevice
		if err := r.Scan(&id, &bd.DeviceName, &bd.SnapshotID, &bd.VolumeSize, &bd.VolumeType, &bd.DeleteOnTermination, &bd.VirtualName, &bd.NoDevice); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			images[i].BlockDevices = append(images[i].BlockDevices, bd)
		}
		return nil
	}, `SELECT image_id, device_name, snapshot_id, volume_size, volume_type, delete_on_termination, virtual_name, no_device
		FROM image_block_devices ORDER BY image_id, device_name`)
}

// UpdateImage saves the mutable fields of an image.
func (tx *Tx) UpdateImage(ctx context.Context, im Image) error {
	return tx.execOne(ctx, `UPDATE images SET description = $1, state = $2, state_reason = $3, public = $4, size_bytes = $5 WHERE id = $6`,
		im.Description, im.State, im.StateReason, im.Public, im.SizeBytes, im.ID)
}

// DeleteImage removes an image with its block devices, permissions and tags.
func (tx *Tx) DeleteImage(ctx context.Context, accountID, id string) error {
	for _, q := range []string{`DELETE FROM image_block_devices WHERE image_id = $1`, `DELETE FROM image_permissions WHERE image_id = $1`} {
		if _, err := tx.exec(ctx, q, id); err != nil {
			return fmt.Errorf("delete image %s: %w", id, err)
		}
	}
	if err := tx.execOne(ctx, `DELETE FROM images WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}

// ImagePermissions lists the accounts granted launch permission.
func (tx *Tx) ImagePermissions(ctx context.Context, id string) ([]string, error) {
	return tx.grantees(ctx, `SELECT grantee FROM image_permissions WHERE image_id = $1 ORDER BY grantee`, id)
}

// SetImagePermission grants or revokes launch permission for one account.
func (tx *Tx) SetImagePermission(ctx context.Context, id, grantee string, granted bool) error {
	return tx.setGrant(ctx, "image_permissions", "image_id", id, grantee, granted)
}

// ClearImagePermissions removes every explicit grant.
func (tx *Tx) ClearImagePermissions(ctx context.Context, id string) error {
	_, err := tx.exec(ctx, `DELETE FROM image_permissions WHERE image_id = $1`, id)
	return err
}

// ImagesUsingKernelOrRamdisk lists machine images that boot with the given aki/ari.
func (tx *Tx) ImagesUsingKernelOrRamdisk(ctx context.Context, id string) ([]string, error) {
	return tx.grantees(ctx, `SELECT id FROM images WHERE kernel_id = $1 OR ramdisk_id = $1 ORDER BY id`, id)
}
