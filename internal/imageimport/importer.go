// Package imageimport runs EC2 ImportImage and ImportSnapshot tasks: it
// reads the disk from the caller's S3 bucket, checks and converts it with
// qemu-img, writes it into the snapshot store as chunks, and records the
// snapshot (and the AMI). It is level-triggered: every pass re-reads the
// active tasks from the database, so a restart simply resumes them.
package imageimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kumo-cloud/kumo/internal/ec2"
	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Source opens an object the account may read.
type Source interface {
	// Open fails with an error wrapping ErrSourceDenied or ErrSourceMissing
	// when the account may not read bucket/key or it does not exist.
	Open(ctx context.Context, account, bucket, key string) (io.ReadCloser, int64, error)
}

// Errors a Source reports.
var (
	ErrSourceDenied  = errors.New("access denied")
	ErrSourceMissing = errors.New("no such object")
)

// Snapshots writes snapshot contents into the object store.
type Snapshots interface {
	Write(ctx context.Context, snapshotID string, r io.Reader, size int64, progress func(done, total int64)) error
}

// Importer processes import tasks.
type Importer struct {
	DB        *store.DB
	Source    Source
	Images    qemuimg.Images
	Snapshots Snapshots
	WorkDir   string
	Logger    *slog.Logger
	// Interval between passes over the task table (default 1s).
	Interval time.Duration
}

// Run processes tasks until ctx ends.
func (im *Importer) Run(ctx context.Context) {
	interval := im.Interval
	if interval == 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := im.Pass(ctx); err != nil && ctx.Err() == nil {
			im.Logger.ErrorContext(ctx, "import pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass handles every task that needs work once: cancellations, then active tasks.
func (im *Importer) Pass(ctx context.Context) error {
	var deleting, active []store.ImportTask
	err := im.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		if deleting, err = tx.ImportTasksWithStatus(ctx, ec2.ImportDeleting); err != nil {
			return err
		}
		active, err = tx.ImportTasksWithStatus(ctx, ec2.ImportActive)
		return err
	})
	if err != nil {
		return fmt.Errorf("read import tasks: %w", err)
	}
	for _, t := range deleting {
		im.finish(ctx, t, ec2.ImportDeleted, "cancelled by the user")
	}
	for _, t := range active {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		im.process(ctx, t)
	}
	return nil
}

// process runs one task to its end and records the outcome.
func (im *Importer) process(ctx context.Context, t store.ImportTask) {
	log := im.Logger.With("task", t.ID, "account", t.AccountID)
	start := time.Now()
	err := im.run(ctx, t)
	switch {
	case errors.Is(err, errCancelled):
		im.finish(ctx, t, ec2.ImportDeleted, "cancelled by the user")
	case ctx.Err() != nil:
		// Shutting down: the task stays active and resumes at the next start.
	case err != nil:
		log.WarnContext(ctx, "import failed", "err", err)
		im.finish(ctx, t, ec2.ImportDeleted, userMessage(err))
	default:
		log.InfoContext(ctx, "import completed", "seconds", time.Since(start).Seconds())
	}
}

var errCancelled = errors.New("import cancelled")

// run downloads, converts and stores the disk, then records the results.
func (im *Importer) run(ctx context.Context, t store.ImportTask) error {
	dir, err := os.MkdirTemp(im.WorkDir, t.ID+"-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "source")
	if t, err = im.download(ctx, t, src); err != nil {
		return err
	}
	raw := filepath.Join(dir, "disk.raw")
	size, format, err := im.convert(ctx, &t, src, raw)
	if err != nil {
		return err
	}
	if err := im.store(ctx, &t, raw, size); err != nil {
		return err
	}
	return im.record(ctx, t, size, format)
}

// download copies the source object to a local file (progress 0-10%).
func (im *Importer) download(ctx context.Context, t store.ImportTask, dst string) (store.ImportTask, error) {
	if err := im.setProgress(ctx, &t, 1, "downloading"); err != nil {
		return t, err
	}
	r, size, err := im.Source.Open(ctx, t.AccountID, t.S3Bucket, t.S3Key)
	if err != nil {
		return t, fmt.Errorf("open s3://%s/%s: %w", t.S3Bucket, t.S3Key, err)
	}
	defer r.Close()
	f, err := os.Create(dst)
	if err != nil {
		return t, err
	}
	defer f.Close()
	if _, err := io.Copy(f, r); err != nil {
		return t, fmt.Errorf("download s3://%s/%s: %w", t.S3Bucket, t.S3Key, err)
	}
	t.DiskSize = size
	return t, im.setProgress(ctx, &t, 10, "validating")
}

// convert checks the image and converts it to raw (progress 10-60%).
func (im *Importer) convert(ctx context.Context, t *store.ImportTask, src, raw string) (int64, string, error) {
	claimed := ""
	if t.Format != "" {
		f, err := qemuimg.ParseImportFormat(t.Format)
		if err != nil {
			return 0, "", err
		}
		claimed = f
	}
	info, err := im.Images.Info(ctx, src, "")
	if err != nil {
		return 0, "", err
	}
	if claimed != "" && claimed != info.Format {
		return 0, "", fmt.Errorf("%w: the request says %s but the file is %s", errFormatMismatch, qemuimg.ImportFormatName(claimed), qemuimg.ImportFormatName(info.Format))
	}
	if err := im.setProgress(ctx, t, 15, "converting"); err != nil {
		return 0, "", err
	}
	err = im.Images.Convert(ctx, src, info.Format, raw, qemuimg.FormatRaw, im.progressBetween(ctx, t, 15, 60, "converting"))
	return info.VirtualSize, info.Format, err
}

var errFormatMismatch = errors.New("disk format mismatch")

// store writes the raw disk into the snapshot store (progress 60-99%).
func (im *Importer) store(ctx context.Context, t *store.ImportTask, raw string, size int64) error {
	f, err := os.Open(raw)
	if err != nil {
		return err
	}
	defer f.Close()
	report := im.progressBetween(ctx, t, 60, 99, "storing snapshot")
	return im.Snapshots.Write(ctx, t.SnapshotID, f, size, func(done, total int64) {
		if total > 0 {
			report(float64(done) * 100 / float64(total))
		}
	})
}
