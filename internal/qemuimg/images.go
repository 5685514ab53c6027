package qemuimg

import "context"

// Images is what callers need from qemu-img; Tool implements it and
// qemuimgtest.Fake stands in for it in unit tests.
type Images interface {
	Info(ctx context.Context, path, format string) (Info, error)
	Check(ctx context.Context, path, format string) error
	Convert(ctx context.Context, src, srcFormat, dst, dstFormat string, progress func(pct float64)) error
	Create(ctx context.Context, path, format string, size int64, backing, backingFormat string) error
	Resize(ctx context.Context, path, format string, size int64) error
}
