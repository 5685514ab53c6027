package node

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// prepare makes everything a guest needs (root disk, kernel files, tap and
// the network services) and returns the QEMU Spec. Every step is
// idempotent: a retry or a restarted agent redoes only what is missing.
func (a *agent) prepare(ctx context.Context, dir string, spec *nodeapi.InstanceSpec) (qemu.Spec, error) {
	s := qemu.Spec{
		ID: spec.ID, VCPUs: spec.VCPUs, MemoryMiB: spec.MemoryMiB, SMBIOSUUID: spec.SMBIOSUUID,
		RunDir: dir, ConsoleLog: filepath.Join(dir, consoleFile),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return s, fmt.Errorf("instance directory: %w", err)
	}
	root, err := a.rootDisk(ctx, dir, spec)
	if err != nil {
		return s, err
	}
	s.Disks = []qemu.Disk{root}
	if err := a.bootFiles(ctx, spec, &s); err != nil {
		return s, err
	}
	if err := a.nic(ctx, spec, &s); err != nil {
		return s, err
	}
	if s.SMBIOSUUID == "" {
		if s.SMBIOSUUID, err = qemu.NewSMBIOSUUID(nil); err != nil {
			return s, err
		}
	}
	return s, nil
}

// rootDisk is a qcow2 overlay on the cached image snapshot, or a blank
// qcow2 when the instance has no root snapshot. A snapshot not cached yet
// does not hold up the start: QEMU reads it over NBD from the image cache
// meanwhile (see worker.switchBacking).
func (a *agent) rootDisk(ctx context.Context, dir string, spec *nodeapi.InstanceSpec) (qemu.Disk, error) {
	path := filepath.Join(dir, rootDiskFile)
	disk := qemu.Disk{Path: path, Format: "qcow2"}
	if spec.RootSnapshotID != "" {
		exp, err := a.cache.LazyRootDisk(ctx, spec.RootSnapshotID, path, spec.RootSizeGiB)
		if err != nil {
			return disk, fmt.Errorf("root disk from %s: %w", spec.RootSnapshotID, err)
		}
		if exp != nil {
			disk.Backing = &qemu.NBDBacking{Socket: exp.Socket, Export: exp.Name}
		}
		return disk, nil
	}
	if exists(path) {
		return disk, nil
	}
	size := max(spec.RootSizeGiB, 1) << 30
	tmp := path + ".tmp"
	if err := a.images.Create(ctx, tmp, "qcow2", size, "", ""); err != nil {
		return disk, fmt.Errorf("blank root disk: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return disk, fmt.Errorf("blank root disk: %w", err)
	}
	return disk, nil
}

// bootFiles fetches the kernel and ramdisk of a direct kernel boot.
func (a *agent) bootFiles(ctx context.Context, spec *nodeapi.InstanceSpec, s *qemu.Spec) error {
	if spec.KernelID == "" {
		return nil
	}
	var err error
	if s.Kernel, err = a.imageFile(ctx, spec.KernelID, spec.KernelKey); err != nil {
		return fmt.Errorf("kernel %s: %w", spec.KernelID, err)
	}
	if spec.RamdiskID != "" {
		if s.Initrd, err = a.imageFile(ctx, spec.RamdiskID, spec.RamdiskKey); err != nil {
			return fmt.Errorf("ramdisk %s: %w", spec.RamdiskID, err)
		}
	}
	s.Cmdline = a.cfg.Cmdline
	if s.Cmdline == "" {
		s.Cmdline = DefaultCmdline
	}
	return nil
}

// imageFile returns the cached copy of a kernel or ramdisk image, fetching
// it from the object store once: written to a temp file, synced, made
// read-only and renamed, so the file is complete once it exists.
func (a *agent) imageFile(ctx context.Context, id, key string) (string, error) {
	path := filepath.Join(a.imagesDir(), id)
	if exists(path) {
		return path, nil
	}
	if key == "" {
		return "", fmt.Errorf("no object key for %s", id)
	}
	r, err := a.cfg.Objects.Get(ctx, key)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", key, err)
	}
	defer r.Close()
	f, err := os.CreateTemp(a.imagesDir(), ".tmp-"+id+"-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o444)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", key, err)
	}
	return path, nil
}

// nic gives the guest its taps on the subnet bridges (and QEMU the VPC's
// network namespace): the primary interface on the root bus, the further
// ones (Extra) in their root ports in device-index order; or user-mode
// networking (the primary interface only) without a Network.
func (a *agent) nic(ctx context.Context, spec *nodeapi.InstanceSpec, s *qemu.Spec) error {
	if spec.Network.MAC == "" {
		return nil
	}
	if a.cfg.Network == nil {
		s.NICs = []qemu.NIC{{MAC: spec.Network.MAC, UserNet: true}}
		return nil
	}
	a.vpcMu.RLock()
	defer a.vpcMu.RUnlock()
	sub, err := a.ensureNetwork(ctx, spec)
	if err != nil {
		return err
	}
	tap, err := a.cfg.Network.EnsureTap(ctx, sub, spec.ID)
	if err != nil {
		return fmt.Errorf("tap: %w", err)
	}
	s.NICs = []qemu.NIC{{Tap: tap, MAC: spec.Network.MAC}}
	s.Netns = sub.Netns
	s.NICSlots = nicSlots
	for _, n := range extraNICs(*spec) {
		nic, err := a.extraNIC(ctx, n)
		if err != nil {
			return err
		}
		s.NICs = append(s.NICs, nic)
	}
	return nil
}
