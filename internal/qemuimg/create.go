package qemuimg

import (
	"context"
	"fmt"
	"strconv"
)

// Create makes a new image at path. With backing set it is an overlay
// (qcow2 on a cached base image, for instance); backingFormat is then
// required, since qemu-img must never probe, and size 0 means the backing
// file's size. backing is recorded in the overlay as given: pass an
// absolute path. With a size, the backing file is not opened, so it need
// not exist yet (a base still being filled: QEMU is then given where to
// read it until it is complete). Create trusts its arguments; they come from Kumo, not users.
func (t Tool) Create(ctx context.Context, path, format string, size int64, backing, backingFormat string) error {
	if format == "" {
		return fmt.Errorf("qemu-img create %s: format required", path)
	}
	if backing == "" && size <= 0 {
		return fmt.Errorf("qemu-img create %s: size %d: must be positive", path, size)
	}
	if backing != "" && backingFormat == "" {
		return fmt.Errorf("qemu-img create %s: backing %s: backing format required", path, backing)
	}
	abs, err := absPath(path)
	if err != nil {
		return err
	}
	args := append([]string{"create", "-q", "-f", format}, formatOptions(format)...)
	if backing != "" {
		args = append(args, "-b", backing, "-F", backingFormat)
		if size > 0 {
			args = append(args, "-u")
		}
	}
	args = append(args, abs)
	if size > 0 {
		args = append(args, strconv.FormatInt(size, 10))
	}
	_, err = t.run(ctx, "create", abs, false, args...)
	return err
}

// Resize sets the virtual size of the image at path. Shrinking is refused
// by qemu-img (Kumo never shrinks a disk).
func (t Tool) Resize(ctx context.Context, path, format string, size int64) error {
	if format == "" {
		return fmt.Errorf("qemu-img resize %s: format required", path)
	}
	if size <= 0 {
		return fmt.Errorf("qemu-img resize %s: size %d: must be positive", path, size)
	}
	abs, err := absPath(path)
	if err != nil {
		return err
	}
	_, err = t.run(ctx, "resize", abs, false, "resize", "-q", "-f", format, abs, strconv.FormatInt(size, 10))
	return err
}
