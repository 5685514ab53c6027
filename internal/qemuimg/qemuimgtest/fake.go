// Package qemuimgtest is a fake qemu-img for unit tests of callers (image
// import, instance disks). It keeps what Info reports in memory and treats
// a file's bytes as the guest's disk: Convert copies them unchanged.
package qemuimgtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/kumo-cloud/kumo/internal/qemuimg"
)

// Call is one recorded operation: its name and arguments as strings.
type Call struct {
	Op   string
	Args []string
}

// Fake implements qemuimg.Images. Safe for concurrent use.
type Fake struct {
	mu     sync.Mutex
	images map[string]qemuimg.Info
	fail   map[string]error
	calls  []Call
}

var _ qemuimg.Images = (*Fake)(nil)

// New returns a Fake that knows no images.
func New() *Fake {
	return &Fake{images: map[string]qemuimg.Info{}, fail: map[string]error{}}
}

// Add declares that path is an image described by info. A path never added
// (nor created or converted to) is not a disk image.
func (f *Fake) Add(path string, info qemuimg.Info) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images[path] = info
}

// Fail makes every later op ("info", "check", "convert", "create",
// "resize") return err; nil clears it.
func (f *Fake) Fail(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[op] = err
}

// Calls returns the operations made so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// begin records a call and returns the injected error for op, if any.
func (f *Fake) begin(ctx context.Context, op string, args ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{Op: op, Args: args})
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.fail[op]
}

func (f *Fake) lookup(path, format string) (qemuimg.Info, error) {
	f.mu.Lock()
	info, ok := f.images[path]
	f.mu.Unlock()
	if !ok || format != "" && format != info.Format {
		return qemuimg.Info{}, fmt.Errorf("fake qemu-img %s: %w", path, qemuimg.ErrNotADiskImage)
	}
	if info.BackingFile != "" {
		return info, fmt.Errorf("fake qemu-img %s: %w", path, qemuimg.ErrBackingFile)
	}
	return info, nil
}

// Info reports what Add, Create or Convert said about path.
func (f *Fake) Info(ctx context.Context, path, format string) (qemuimg.Info, error) {
	if err := f.begin(ctx, "info", path, format); err != nil {
		return qemuimg.Info{}, err
	}
	return f.lookup(path, format)
}

// Check passes any known image.
func (f *Fake) Check(ctx context.Context, path, format string) error {
	if err := f.begin(ctx, "check", path, format); err != nil {
		return err
	}
	_, err := f.lookup(path, format)
	return err
}

// Convert copies src's bytes to dst and reports 0, 50 and 100 percent.
func (f *Fake) Convert(ctx context.Context, src, srcFormat, dst, dstFormat string, progress func(pct float64)) error {
	if err := f.begin(ctx, "convert", src, srcFormat, dst, dstFormat); err != nil {
		return err
	}
	info, err := f.lookup(src, srcFormat)
	if err != nil {
		return err
	}
	report(progress, 0)
	if err := copyFile(src, dst); err != nil {
		return err
	}
	report(progress, 50)
	if err := ctx.Err(); err != nil {
		_ = os.Remove(dst)
		return err
	}
	f.Add(dst, qemuimg.Info{Format: dstFormat, VirtualSize: info.VirtualSize, ActualSize: info.VirtualSize})
	report(progress, 100)
	return nil
}

// Create makes a sparse file of the image's size and records it.
func (f *Fake) Create(ctx context.Context, path, format string, size int64, backing, backingFormat string) error {
	if err := f.begin(ctx, "create", path, format, fmt.Sprint(size), backing, backingFormat); err != nil {
		return err
	}
	if backing != "" && size == 0 {
		f.mu.Lock()
		size = f.images[backing].VirtualSize
		f.mu.Unlock()
	}
	if err := sparseFile(path, size); err != nil {
		return err
	}
	f.Add(path, qemuimg.Info{Format: format, VirtualSize: size, BackingFile: backing})
	return nil
}

// Resize grows a known image (and its file); shrinking fails as in qemu-img.
func (f *Fake) Resize(ctx context.Context, path, format string, size int64) error {
	if err := f.begin(ctx, "resize", path, format, fmt.Sprint(size)); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	info, ok := f.images[path]
	if !ok || info.Format != format {
		return fmt.Errorf("fake qemu-img resize %s: %w", path, qemuimg.ErrNotADiskImage)
	}
	if size < info.VirtualSize {
		return fmt.Errorf("fake qemu-img resize %s: shrinking refused", path)
	}
	info.VirtualSize = size
	f.images[path] = info
	return os.Truncate(path, size)
}

func report(progress func(float64), pct float64) {
	if progress != nil {
		progress(pct)
	}
}

func sparseFile(path string, size int64) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("fake qemu-img create: %w", err)
	}
	defer fh.Close()
	if err := fh.Truncate(size); err != nil {
		return fmt.Errorf("fake qemu-img create: %w", err)
	}
	return fh.Close()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("fake qemu-img convert: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("fake qemu-img convert: %w", err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("fake qemu-img convert: %w", err)
	}
	return out.Close()
}
