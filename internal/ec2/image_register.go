package ec2

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// SnapshotData copies snapshot contents in the object store (CopyImage
// needs it). A nil SnapshotData makes CopyImage of EBS images unsupported.
type SnapshotData interface {
	Copy(ctx context.Context, srcSnapshotID, dstSnapshotID string) error
}

var validBootModes = []string{"legacy-bios", "uefi", "uefi-preferred"}

func validateRegistration(in *ec2api.RegisterImageRequest) error {
	if !imageName.MatchString(deref(in.Name)) {
		return apiErr("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/', '@', '_', '[', ']', ' ' and \"'\".")
	}
	if in.ImageLocation != nil {
		return apiErr("UnsupportedOperation", "Instance-store bundles (ImageLocation) are not supported by Kumo; register a snapshot in BlockDeviceMappings, or import the disk with ImportImage.")
	}
	if a := deref(in.Architecture); a != "" && a != "x86_64" {
		return invalid("Value (%s) for parameter architecture is invalid. Kumo's hosts run x86_64 guests.", a)
	}
	if v := deref(in.VirtualizationType); v != "" && v != "hvm" {
		return invalid("Value (%s) for parameter virtualizationType is invalid. Only hvm is supported.", v)
	}
	if b := deref(in.BootMode); b != "" && !slices.Contains(validBootModes, b) {
		return invalid("Value (%s) for parameter bootMode is invalid. Valid values: legacy-bios, uefi, uefi-preferred.", b)
	}
	if len(deref(in.Description)) > 255 {
		return invalid("Value for parameter description is invalid. Length exceeds maximum of 255.")
	}
	return nil
}

// RegisterImage makes an AMI from snapshots the caller may use, optionally
// booting a registered kernel and ramdisk.
func (s *Service) RegisterImage(ctx context.Context, in *ec2api.RegisterImageRequest) (*ec2api.RegisterImageResult, error) {
	if err := validateRegistration(in); err != nil {
		return nil, err
	}
	tags, err := specTags(in.TagSpecifications, typeImage)
	if err != nil {
		return nil, err
	}
	im := store.Image{ID: ids.Resource("ami"), Name: deref(in.Name), Description: deref(in.Description), ImageType: "machine",
		State: "available", Architecture: "x86_64", VirtualizationType: "hvm", RootDeviceName: deref(in.RootDeviceName),
		BootMode: deref(in.BootMode), KernelID: deref(in.KernelId), RamdiskID: deref(in.RamdiskId),
		ENASupport: deref2(in.EnaSupport), CreatedAt: time.Now().UTC()}
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		im.AccountID = account
		if err := resolveBootFiles(ctx, tx, account, &im); err != nil {
			return err
		}
		bds, err := blockDevices(ctx, tx, account, in.BlockDeviceMappings)
		if err != nil {
			return err
		}
		im.BlockDevices = bds
		if err := setRootDevice(&im); err != nil {
			return err
		}
		if err := insertNamedImage(ctx, tx, im); err != nil {
			return err
		}
		_, err = putTags(ctx, tx, account, im.ID, typeImage, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.RegisterImageResult{ImageId: str(im.ID)}, nil
}

// resolveBootFiles checks KernelId and RamdiskId name a kernel and a ramdisk the caller may use.
func resolveBootFiles(ctx context.Context, tx *store.Tx, account string, im *store.Image) error {
	check := func(id, want, code string) error {
		if id == "" {
			return nil
		}
		k, err := launchableImage(ctx, tx, account, id)
		if err != nil || k.ImageType != want {
			return apiErr(code, "The %s ID '%s' does not exist", want, id)
		}
		return nil
	}
	if err := check(im.KernelID, "kernel", "InvalidAKIID.NotFound"); err != nil {
		return err
	}
	if im.RamdiskID != "" && im.KernelID == "" {
		return invalid("A ramdisk (RamdiskId) needs a kernel (KernelId).")
	}
	return check(im.RamdiskID, "ramdisk", "InvalidARIID.NotFound")
}

// blockDevices validates a request's mappings against the snapshots the caller may use.
func blockDevices(ctx context.Context, tx *store.Tx, account string, req []ec2api.BlockDeviceMapping) ([]store.BlockDevice, error) {
	var out []store.BlockDevice
	seen := map[string]bool{}
	for _, m := range req {
		name := deref(m.DeviceName)
		if name == "" || seen[name] {
			return nil, apiErr("InvalidBlockDeviceMapping", "Every block device mapping needs a distinct DeviceName (got '%s').", name)
		}
		seen[name] = true
		bd, err := blockDevice(ctx, tx, account, name, m)
		if err != nil {
			return nil, err
		}
		out = append(out, bd)
	}
	return out, nil
}

func blockDevice(ctx context.Context, tx *store.Tx, account, name string, m ec2api.BlockDeviceMapping) (store.BlockDevice, error) {
	bd := store.BlockDevice{DeviceName: name, VirtualName: deref(m.VirtualName)}
	switch {
	case m.NoDevice != nil:
		bd.NoDevice = true
		return bd, nil
	case m.Ebs == nil:
		return bd, nil
	}
	bd.VolumeType = deref(m.Ebs.VolumeType)
	if bd.VolumeType == "" {
		bd.VolumeType = "gp3"
	}
	bd.DeleteOnTermination = m.Ebs.DeleteOnTermination == nil || *m.Ebs.DeleteOnTermination
	if m.Ebs.VolumeSize != nil {
		bd.VolumeSize = int64(*m.Ebs.VolumeSize)
	}
	if id := deref(m.Ebs.SnapshotId); id != "" {
		sn, err := usableSnapshot(ctx, tx, account, id)
		if err != nil {
			return bd, err
		}
		bd.SnapshotID = id
		if bd.VolumeSize == 0 {
			bd.VolumeSize = sn.VolumeSize
		}
		if bd.VolumeSize < sn.VolumeSize {
			return bd, apiErr("InvalidBlockDeviceMapping", "Volume of size %d GiB is smaller than snapshot '%s', expect size >= %d", bd.VolumeSize, id, sn.VolumeSize)
		}
	}
	if bd.VolumeSize < 1 || bd.VolumeSize > 16384 {
		return bd, apiErr("InvalidBlockDeviceMapping", "Volume size for %s must be between 1 and 16384 GiB.", name)
	}
	return bd, nil
}

// usableSnapshot finds a completed snapshot the caller owns or may create volumes from.
func usableSnapshot(ctx context.Context, tx *store.Tx, account, id string) (store.Snapshot, error) {
	if err := checkID(id, "snap", "InvalidSnapshotID.Malformed"); err != nil {
		return store.Snapshot{}, err
	}
	list, err := tx.VisibleSnapshots(ctx, account)
	if err != nil {
		return store.Snapshot{}, err
	}
	for _, sn := range list {
		if sn.ID == id {
			if sn.State != "completed" {
				return sn, apiErr("IncorrectState", "Snapshot '%s' is %s; it must be completed.", id, sn.State)
			}
			return sn, nil
		}
	}
	return store.Snapshot{}, errSnapshotNotFound(id)
}

// setRootDevice decides the image's root: the mapping named by
// RootDeviceName (an EBS image), or a kernel and ramdisk with no root disk.
func setRootDevice(im *store.Image) error {
	if im.RootDeviceName == "" && len(im.BlockDevices) > 0 {
		im.RootDeviceName = im.BlockDevices[0].DeviceName
	}
	for _, bd := range im.BlockDevices {
		if bd.DeviceName == im.RootDeviceName && bd.SnapshotID != "" {
			im.RootDeviceType = "ebs"
			return nil
		}
	}
	if im.KernelID != "" && len(im.BlockDevices) == 0 {
		im.RootDeviceType, im.RootDeviceName = "instance-store", ""
		return nil
	}
	return apiErr("InvalidBlockDeviceMapping", "The root device '%s' must map a snapshot (BlockDeviceMappings with Ebs.SnapshotId), or the image must name a kernel.", im.RootDeviceName)
}

// CopyImage copies an image the caller may launch into the caller's account
// within this region, with copies of its snapshots.
func (s *Service) CopyImage(ctx context.Context, in *ec2api.CopyImageRequest) (*ec2api.CopyImageResult, error) {
	if r := deref(in.SourceRegion); r != s.Cfg.Region {
		return nil, invalid("Value (%s) for parameter sourceRegion is invalid. Kumo copies images within its region %s.", r, s.Cfg.Region)
	}
	if !imageName.MatchString(deref(in.Name)) {
		return nil, apiErr("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long.")
	}
	tags, err := specTags(in.TagSpecifications, typeImage)
	if err != nil {
		return nil, err
	}
	var copied store.Image
	var copies map[string]string // source snapshot → new snapshot
	token := deref(in.ClientToken)
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if copied.ID, err = priorCopy(ctx, tx, account, token, in); copied.ID != "" || err != nil {
			return err
		}
		src, err := launchableImage(ctx, tx, account, deref(in.SourceImageId))
		if err != nil {
			return err
		}
		if src.ImageType != "machine" {
			return invalid("Only machine images (ami-) can be copied.")
		}
		copied, copies, err = s.copyRecords(ctx, tx, account, src, deref(in.Name), in.Description)
		if err != nil {
			return err
		}
		if _, err = putTags(ctx, tx, account, copied.ID, typeImage, tags); err != nil {
			return err
		}
		return recordToken(ctx, tx, account, "CopyImage", token, in, copied.ID)
	})
	if err != nil {
		return nil, err
	}
	for src, dst := range copies {
		if err := s.Snapshots.Copy(ctx, src, dst); err != nil {
			return nil, s.failCopy(ctx, copied, err)
		}
	}
	return &ec2api.CopyImageResult{ImageId: str(copied.ID)}, nil
}

// priorCopy returns the image an earlier CopyImage with the same token
// made, while it exists ("" when none).
func priorCopy(ctx context.Context, tx *store.Tx, account, token string, in *ec2api.CopyImageRequest) (string, error) {
	id, err := priorToken(ctx, tx, account, "CopyImage", token, in)
	if id == "" || err != nil {
		return "", err
	}
	if _, err := tx.GetImage(ctx, id); errors.Is(err, store.ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return id, nil
}

// copyRecords writes the new image and its snapshot records in one transaction.
func (s *Service) copyRecords(ctx context.Context, tx *store.Tx, account string, src store.Image, name string, desc *string) (store.Image, map[string]string, error) {
	im := src
	im.ID, im.AccountID, im.Name, im.Public, im.CreatedAt = ids.Resource("ami"), account, name, false, time.Now().UTC()
	if desc != nil {
		im.Description = *desc
	}
	copies := map[string]string{}
	im.BlockDevices = slices.Clone(src.BlockDevices)
	for i, bd := range im.BlockDevices {
		if bd.SnapshotID == "" {
			continue
		}
		if s.Snapshots == nil {
			return im, nil, apiErr("UnsupportedOperation", "Copying EBS-backed images needs the snapshot store, which this server was started without.")
		}
		sn, err := tx.GetSnapshot(ctx, bd.SnapshotID)
		if err != nil {
			return im, nil, err
		}
		dup := sn
		dup.ID, dup.AccountID, dup.CreatedAt = ids.Resource("snap"), account, time.Now().UTC()
		dup.Description = "Copied for DestinationAmi " + im.ID + " from SourceAmi " + src.ID + " for SourceSnapshot " + sn.ID
		if err := tx.InsertSnapshot(ctx, dup); err != nil {
			return im, nil, err
		}
		copies[sn.ID] = dup.ID
		im.BlockDevices[i].SnapshotID = dup.ID
	}
	return im, copies, insertNamedImage(ctx, tx, im)
}

// failCopy marks a copy whose data could not be copied as failed.
func (s *Service) failCopy(ctx context.Context, im store.Image, cause error) error {
	_ = s.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		im.State, im.StateReason = "failed", "Copying the snapshot data failed."
		return tx.UpdateImage(ctx, im)
	})
	return cause
}
