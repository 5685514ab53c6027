package ec2

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// CreateImage makes an EBS-backed image of an instance: a pending
// snapshot of each of its volumes (root and data), taken by its node like
// CreateSnapshots', and a pending image whose block-device mapping names
// them. The image becomes available when all its snapshots complete, and
// failed if one fails (the node server's snapshot reports decide). The
// snapshots are crash-consistent; Kumo does not shut the guest down first,
// so a running instance needs NoReboot (a stopped one is at rest anyway).
func (s *Service) CreateImage(ctx context.Context, in *ec2api.CreateImageRequest) (*ec2api.CreateImageResult, error) {
	if err := checkID(deref(in.InstanceId), "i", "InvalidInstanceID.Malformed"); err != nil {
		return nil, err
	}
	if !imageName.MatchString(deref(in.Name)) {
		return nil, apiErr("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
	}
	if len(in.BlockDeviceMappings) > 0 {
		return nil, apiErr("UnsupportedOperation", "Kumo does not yet take BlockDeviceMapping in CreateImage: the image maps every volume of the instance.")
	}
	imageTags, snapTags, err := createImageTags(in.TagSpecifications)
	if err != nil {
		return nil, err
	}
	var im store.Image
	var node string
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		inst, err := tx.GetInstance(ctx, account, deref(in.InstanceId))
		if errors.Is(err, store.ErrNotFound) {
			return errInstanceNotFound(deref(in.InstanceId))
		}
		if err != nil {
			return err
		}
		switch inst.State {
		case string(instancestate.Stopped):
		case string(instancestate.Running):
			if !deref2(in.NoReboot) {
				return apiErr("UnsupportedOperation", "Kumo cannot yet shut down and reboot a running instance before imaging it: set NoReboot (the snapshots are then crash-consistent) or stop the instance first.")
			}
		default:
			return apiErr("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be imaged (%s).", inst.ID, inst.State)
		}
		node = inst.NodeID
		im, err = s.imageRecords(ctx, tx, account, inst, deref(in.Name), deref(in.Description), snapTags)
		if err != nil {
			return err
		}
		_, err = putTags(ctx, tx, account, im.ID, typeImage, imageTags)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notify(node)
	return &ec2api.CreateImageResult{ImageId: str(im.ID)}, nil
}

// createImageTags splits TagSpecifications into the image's and the
// snapshots'.
func createImageTags(specs []ec2api.TagSpecification) (image, snaps []ec2api.Tag, err error) {
	for _, sp := range specs {
		switch deref(sp.ResourceType) {
		case typeImage:
			tags, err := specTags([]ec2api.TagSpecification{sp}, typeImage)
			if err != nil {
				return nil, nil, err
			}
			image = append(image, tags...)
		case typeSnapshot:
			tags, err := specTags([]ec2api.TagSpecification{sp}, typeSnapshot)
			if err != nil {
				return nil, nil, err
			}
			snaps = append(snaps, tags...)
		default:
			return nil, nil, invalid("'%s' is not a valid taggable resource type for this operation.", deref(sp.ResourceType))
		}
	}
	return image, snaps, nil
}

// imageRecords writes the pending snapshots of the instance's volumes and
// the pending image that maps them, boot settings from the instance's
// image.
func (s *Service) imageRecords(ctx context.Context, tx *store.Tx, account string, inst store.Instance, name, desc string, snapTags []ec2api.Tag) (store.Image, error) {
	im := store.Image{ID: ids.Resource("ami"), AccountID: account, Name: name, Description: desc, ImageType: "machine",
		State: "pending", Architecture: "x86_64", VirtualizationType: "hvm", RootDeviceName: inst.RootDeviceName,
		RootDeviceType: "ebs", CreatedAt: time.Now().UTC()}
	if src, err := tx.GetImage(ctx, inst.ImageID); err == nil {
		im.Architecture, im.BootMode, im.ENASupport = src.Architecture, src.BootMode, src.ENASupport
		im.KernelID, im.RamdiskID = src.KernelID, src.RamdiskID
	} else if !errors.Is(err, store.ErrNotFound) {
		return im, err
	}
	atts, err := tx.InstanceVolumeAttachments(ctx, inst.ID)
	if err != nil {
		return im, err
	}
	slices.SortFunc(atts, func(a, b store.VolumeAttachment) int { return compareStrings(a.Device, b.Device) })
	for _, a := range atts {
		if a.State == "detaching" {
			continue
		}
		v, err := ownedVolume(ctx, tx, account, a.VolumeID)
		if err != nil {
			return im, err
		}
		sn, _, err := startSnapshot(ctx, tx, v, "Created by CreateImage("+inst.ID+") for "+im.ID+" from "+v.ID, snapTags)
		if err != nil {
			return im, err
		}
		im.BlockDevices = append(im.BlockDevices, store.BlockDevice{DeviceName: a.Device, SnapshotID: sn.ID,
			VolumeSize: v.SizeGiB, VolumeType: v.VolumeType, DeleteOnTermination: a.DeleteOnTermination})
	}
	if !slices.ContainsFunc(im.BlockDevices, func(b store.BlockDevice) bool { return b.DeviceName == inst.RootDeviceName }) {
		return im, apiErr("UnsupportedOperation", "The instance '%s' has no EBS root volume: Kumo images only EBS-backed instances.", inst.ID)
	}
	return im, insertNamedImage(ctx, tx, im)
}
