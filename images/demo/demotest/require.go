package demotest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Require returns the directory of a built demo image for a test or
// benchmark that boots it, or skips with the reason when that cannot be:
// KUMO_SKIP_QEMU_TESTS is set, -short, qemu-system-x86_64 or qemu-img is
// missing, or the image cannot be built here.
func Require(tb testing.TB) string {
	tb.Helper()
	switch {
	case os.Getenv("KUMO_SKIP_QEMU_TESTS") != "":
		tb.Skip("KUMO_SKIP_QEMU_TESTS is set")
	case testing.Short():
		tb.Skip("boots a VM; skipped in -short")
	}
	for _, tool := range []string{"qemu-system-x86_64", "qemu-img"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s is not installed (Debian: apt-get install qemu-system-x86 qemu-utils)", tool)
		}
	}
	dir := CacheDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := Build(ctx, dir); err != nil {
		tb.Skipf("the demo image could not be built (needs apt-get and Debian packages): %v", err)
	}
	return dir
}
