package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kumo-cloud/kumo/internal/admin"
)

// DemoImageName is the public image `kumo dev` registers.
const DemoImageName = "kumo-demo"

// RegisterDemoImage registers dir/vmlinuz and dir/initrd.img as the public
// machine image kumo-demo (and its kernel and ramdisk). Running it again
// changes nothing.
func (c *Controller) RegisterDemoImage(ctx context.Context, dir string) (admin.RegisteredImage, error) {
	kernel, err := c.registerFile(ctx, "kernel", DemoImageName+"-kernel", filepath.Join(dir, "vmlinuz"))
	if err != nil {
		return admin.RegisteredImage{}, err
	}
	ramdisk, err := c.registerFile(ctx, "ramdisk", DemoImageName+"-ramdisk", filepath.Join(dir, "initrd.img"))
	if err != nil {
		return admin.RegisteredImage{}, err
	}
	return c.Images.RegisterMachine(ctx, admin.MachineImageRequest{Name: DemoImageName, KernelId: kernel.ImageId, RamdiskId: ramdisk.ImageId,
		Description: "Kumo demo guest: busybox, DHCP, reads the metadata service, runs #! user-data"})
}

func (c *Controller) registerFile(ctx context.Context, kind, name, path string) (admin.RegisteredImage, error) {
	f, err := os.Open(path)
	if err != nil {
		return admin.RegisteredImage{}, fmt.Errorf("demo image %s: %w", kind, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return admin.RegisteredImage{}, err
	}
	return c.Images.RegisterBootFile(ctx, kind, name, f, fi.Size())
}
