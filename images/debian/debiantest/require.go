// Package debiantest builds the stock Debian 12 cloud image of
// images/debian for tests and benchmarks that boot it.
package debiantest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Image is a built image: its directory and what image.json says.
type Image struct {
	Dir         string
	Disk        string // absolute path of disk.qcow2
	Name        string `json:"name"`
	Format      string `json:"format"`
	DefaultUser string `json:"defaultUser"`
	KernelRel   string `json:"kernelRelease"`
	VirtualMiB  int64  `json:"virtualSizeMiB"`
}

// Dir is the images/debian directory of the source tree this package was built from.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Dir(filepath.Dir(file))
}

// CacheDir is where tests keep the built image: $KUMO_DEBIAN_IMAGE_DIR,
// else the user's cache directory (kumo/images/debian).
func CacheDir() string {
	if d := os.Getenv("KUMO_DEBIAN_IMAGE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "kumo", "images", "debian")
	}
	return filepath.Join(os.TempDir(), "kumo-images-debian")
}

// Build runs images/debian/build.sh into outDir (nothing to do when the
// image there was built by the same script) and reads its image.json.
func Build(ctx context.Context, outDir string) (Image, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(Dir(), "build.sh"), outDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return Image{}, fmt.Errorf("images/debian/build.sh %s: %v\n%s", outDir, err, out.String())
	}
	return Read(outDir)
}

// Read loads a built image's description.
func Read(dir string) (Image, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Image{}, err
	}
	b, err := os.ReadFile(filepath.Join(abs, "image.json"))
	if err != nil {
		return Image{}, fmt.Errorf("debian image: %w", err)
	}
	img := Image{Dir: abs}
	if err := json.Unmarshal(b, &img); err != nil {
		return Image{}, fmt.Errorf("debian image: image.json: %w", err)
	}
	img.Disk = filepath.Join(abs, "disk.qcow2")
	if _, err := os.Stat(img.Disk); err != nil {
		return Image{}, fmt.Errorf("debian image: %w", err)
	}
	return img, nil
}

// Tools the image's build and boot need.
var Tools = []string{"qemu-system-x86_64", "qemu-img", "mmdebstrap", "sfdisk", "mkfs.ext4", "ssh", "ssh-keygen"}

// Require returns the built image, building it on first use, or skips
// when what it needs is really absent: KUMO_SKIP_QEMU_TESTS is set,
// -short, not root (the build and kumo's node need root), or a tool is
// not installed. A build that fails is a test failure, not a skip.
func Require(tb testing.TB) Image {
	tb.Helper()
	switch {
	case os.Getenv("KUMO_SKIP_QEMU_TESTS") != "":
		tb.Skip("KUMO_SKIP_QEMU_TESTS is set")
	case testing.Short():
		tb.Skip("boots a Debian VM for minutes; skipped in -short")
	case os.Geteuid() != 0:
		tb.Skip("needs root: the image build (mmdebstrap) and kumo's node (network namespaces, taps)")
	}
	for _, tool := range Tools {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err2 := os.Stat(filepath.Join("/usr/sbin", tool)); err2 != nil {
				tb.Skipf("%s is not installed (Debian: apt-get install qemu-system-x86 qemu-utils mmdebstrap fdisk e2fsprogs openssh-client)", tool)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	img, err := Build(ctx, CacheDir())
	if err != nil {
		tb.Fatalf("the Debian image could not be built: %v", err)
	}
	return img
}
