package qemu

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// detachPoll is how often DetachDisk checks whether the guest let go.
const detachPoll = 100 * time.Millisecond

// ErrNoSlot is returned when a hot-plug slot is out of the Spec's range.
var ErrNoSlot = errors.New("qemu: no such hot-plug slot")

// volumeNames are the QEMU ids of a hot-plugged volume, from its serial
// (node names must start with a letter and fit in 31 bytes).
func volumeNames(volumeID string) (format, file, dev string) {
	serial := DiskSerial(volumeID)
	return serial, serial + "-file", serial + "-dev"
}

// AttachDisk hot-plugs a volume into an empty PCIe root port (slot <
// Spec.HotplugSlots) as virtio-blk with the volume's serial. On failure
// what was added is removed again.
func (i *Instance) AttachDisk(ctx context.Context, slot int, d Disk) error {
	if err := validateHotplug(i.spec, slot, d); err != nil {
		return fmt.Errorf("qemu: attach disk to %s: %w", i.spec.ID, err)
	}
	format, file, dev := volumeNames(d.VolumeID)
	steps := []struct {
		do   func() error
		undo func()
	}{
		{func() error { return i.conn.BlockdevAdd(ctx, fileNode(file, d)) },
			func() { i.conn.BlockdevDel(context.WithoutCancel(ctx), file) }},
		{func() error { return i.conn.BlockdevAdd(ctx, formatNode(format, file, d)) },
			func() { i.conn.BlockdevDel(context.WithoutCancel(ctx), format) }},
		{func() error { return i.conn.DeviceAdd(ctx, "virtio-blk-pci", dev, deviceProps(slot, format, d)) }, nil},
	}
	for n, s := range steps {
		if err := s.do(); err != nil {
			for k := n - 1; k >= 0; k-- {
				steps[k].undo()
			}
			return fmt.Errorf("qemu: attach %s to %s: %w", d.VolumeID, i.spec.ID, err)
		}
	}
	return nil
}

func validateHotplug(s Spec, slot int, d Disk) error {
	if slot < 0 || slot >= s.HotplugSlots {
		return fmt.Errorf("%w: %d (the guest has %d)", ErrNoSlot, slot, s.HotplugSlots)
	}
	probe := Spec{ID: s.ID, VCPUs: 1, MemoryMiB: 16, Kernel: "k", SMBIOSUUID: s.SMBIOSUUID,
		RunDir: s.RunDir, Disks: []Disk{d}}
	if err := probe.Validate(); err != nil {
		return err
	}
	if d.VolumeID == "" {
		return errors.New("a hot-plugged disk needs a volume id")
	}
	return nil
}

func fileNode(name string, d Disk) qmp.BlockdevOptions {
	return qmp.BlockdevOptions{Driver: "file", NodeName: name, Filename: d.Path, ReadOnly: d.ReadOnly}
}

func formatNode(name, file string, d Disk) qmp.BlockdevOptions {
	return qmp.BlockdevOptions{Driver: d.Format, NodeName: name, ReadOnly: d.ReadOnly,
		File: &qmp.BlockdevRef{Node: file}}
}

func deviceProps(slot int, format string, d Disk) map[string]any {
	return map[string]any{"bus": fmt.Sprintf("hotplug%d", slot), "drive": format,
		"serial": DiskSerial(d.VolumeID)}
}

// DetachDisk asks the guest to release a hot-plugged volume, waits until
// the device is gone (ctx bounds the wait: a guest may refuse), then
// removes its block nodes. Detaching a volume that is not attached is not
// an error, so a retry after an agent restart is safe.
func (i *Instance) DetachDisk(ctx context.Context, volumeID string) error {
	format, file, dev := volumeNames(volumeID)
	err := i.conn.DeviceDel(ctx, dev)
	var qe *qmp.Error
	if err != nil && !(errors.As(err, &qe) && qe.Class == "DeviceNotFound") {
		return fmt.Errorf("qemu: detach %s from %s: %w", volumeID, i.spec.ID, err)
	}
	if err := i.waitDeviceGone(ctx, dev); err != nil {
		return fmt.Errorf("qemu: detach %s from %s: %w", volumeID, i.spec.ID, err)
	}
	for _, node := range []string{format, file} {
		if err := i.deleteNode(ctx, node); err != nil {
			return fmt.Errorf("qemu: detach %s from %s: %w", volumeID, i.spec.ID, err)
		}
	}
	return nil
}

// deleteNode removes a block node if it exists. QEMU drops the device's
// reference to its node a little after the device leaves query-block, so a
// refusal from QEMU is retried until ctx ends.
func (i *Instance) deleteNode(ctx context.Context, node string) error {
	for {
		names, err := i.conn.BlockNodeNames(ctx)
		if err != nil || !slices.Contains(names, node) {
			return err
		}
		err = i.conn.BlockdevDel(ctx, node)
		var qe *qmp.Error
		if err == nil || !errors.As(err, &qe) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(detachPoll):
		}
	}
}

// waitDeviceGone polls query-block until no device has the id. (Polling,
// not the DEVICE_DELETED event, so it also works after a reattach.)
func (i *Instance) waitDeviceGone(ctx context.Context, dev string) error {
	for {
		bs, err := i.conn.QueryBlock(ctx)
		if err != nil {
			return err
		}
		if !hasDevice(bs, dev) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("guest has not released %s: %w", dev, ctx.Err())
		case <-time.After(detachPoll):
		}
	}
}

func hasDevice(bs []qmp.BlockInfo, dev string) bool {
	for _, b := range bs {
		if b.QDev == dev || b.QDev == "/machine/peripheral/"+dev+"/virtio-backend" {
			return true
		}
	}
	return false
}
