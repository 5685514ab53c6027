package imageimport

import (
	"context"
	"errors"
	"time"

	"github.com/kumo-cloud/kumo/internal/ec2"
	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/store"
)

// record writes the snapshot (and image) and completes the task, in one transaction.
func (im *Importer) record(ctx context.Context, t store.ImportTask, size int64, format string) error {
	now := time.Now().UTC()
	gib := (size + (1 << 30) - 1) >> 30
	if gib < 1 {
		gib = 1
	}
	return im.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		cur, err := tx.GetImportTask(ctx, t.AccountID, t.ID)
		if err != nil {
			return err
		}
		if cur.Status != ec2.ImportActive {
			return errCancelled
		}
		sn := store.Snapshot{ID: t.SnapshotID, AccountID: t.AccountID, VolumeID: "vol-ffffffff", VolumeSize: gib, SizeBytes: size,
			State: "completed", Progress: 100, Description: "Created by " + t.ID, CreatedAt: now}
		if err := tx.InsertSnapshot(ctx, sn); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		if t.Kind == ec2.ImportKindImage {
			if err := tx.InsertImage(ctx, importedImage(t, gib, now)); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		cur.Status, cur.StatusMessage, cur.Progress, cur.DiskSize, cur.Format = ec2.ImportCompleted, "", 100, t.DiskSize, qemuimg.ImportFormatName(format)
		return tx.UpdateImportTask(ctx, cur)
	})
}

func importedImage(t store.ImportTask, gib int64, now time.Time) store.Image {
	return store.Image{ID: t.ImageID, AccountID: t.AccountID, Name: t.ImageID, Description: t.Description, ImageType: "machine",
		State: "available", Architecture: t.Architecture, RootDeviceName: "/dev/sda1", RootDeviceType: "ebs", VirtualizationType: "hvm",
		BootMode: t.BootMode, CreatedAt: now, BlockDevices: []store.BlockDevice{{DeviceName: "/dev/sda1", SnapshotID: t.SnapshotID,
			VolumeSize: gib, VolumeType: "gp3", DeleteOnTermination: true}}}
}

// setProgress saves progress and message, and reports a cancellation.
func (im *Importer) setProgress(ctx context.Context, t *store.ImportTask, pct int64, msg string) error {
	return im.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		cur, err := tx.GetImportTask(ctx, t.AccountID, t.ID)
		if err != nil {
			return err
		}
		if cur.Status != ec2.ImportActive {
			return errCancelled
		}
		t.Progress, t.StatusMessage = pct, msg
		cur.Progress, cur.StatusMessage, cur.DiskSize = pct, msg, t.DiskSize
		return tx.UpdateImportTask(ctx, cur)
	})
}

// progressBetween maps a step's 0-100% onto lo-hi of the task, writing at
// most once per whole percent; a cancellation found while writing stops
// nothing here (the step's own context does), it is noticed at the next step.
func (im *Importer) progressBetween(ctx context.Context, t *store.ImportTask, lo, hi int64, msg string) func(float64) {
	last := lo
	return func(pct float64) {
		p := lo + int64(pct*float64(hi-lo)/100)
		if p > last {
			last = p
			_ = im.setProgress(ctx, t, p, msg)
		}
	}
}

// finish ends a task as deleted (failed or cancelled) with a message.
func (im *Importer) finish(ctx context.Context, t store.ImportTask, status, msg string) {
	err := im.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		cur, err := tx.GetImportTask(ctx, t.AccountID, t.ID)
		if err != nil {
			return err
		}
		cur.Status, cur.StatusMessage = status, msg
		return tx.UpdateImportTask(ctx, cur)
	})
	if err != nil {
		im.Logger.ErrorContext(ctx, "could not record import outcome", "task", t.ID, "err", err)
	}
}

// userMessage explains a failure in words the user can act on, as EC2's
// StatusMessage does ("ClientError: ...").
func userMessage(err error) string {
	var qerr *qemuimg.Error
	for _, known := range []error{qemuimg.ErrNotADiskImage, qemuimg.ErrUnsupportedFormat, qemuimg.ErrBackingFile,
		qemuimg.ErrExternalFile, qemuimg.ErrTooLarge, qemuimg.ErrCorrupt} {
		if errors.Is(err, known) {
			return "ClientError: Disk validation failed: " + qemuimg.UserMessage(err)
		}
	}
	switch {
	case errors.As(err, &qerr):
		// qemu-img's own words carry host paths: say only what failed.
		return "ClientError: Disk validation failed: " + qemuimg.UserMessage(err)
	case errors.Is(err, errFormatMismatch):
		return "ClientError: " + err.Error()
	case errors.Is(err, ErrSourceDenied):
		return "ClientError: Access denied to the S3 object given in UserBucket."
	case errors.Is(err, ErrSourceMissing):
		return "ClientError: The S3 object given in UserBucket does not exist."
	}
	return "ServerError: the import failed inside Kumo; the operator finds the cause in the server log."
}
