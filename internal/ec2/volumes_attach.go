package ec2

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// ebsDevice is a device name EC2 accepts for an EBS volume on Linux
// (/dev/sdf, /dev/xvdf, /dev/xvdba, /dev/sda1) or Windows (xvdf).
var ebsDevice = regexp.MustCompile(`^(/dev/)?(sd|xvd|hd)[a-z]{1,2}([1-9]|1[0-5])?$`)

// maxVolumeAttachments is how many EBS volumes (the root included) an
// instance may have, as on EC2's Nitro instances.
const maxVolumeAttachments = 28

func checkDevice(dev string) error {
	if dev == "" {
		return apiErr("MissingParameter", "The request must contain the parameter device")
	}
	if !ebsDevice.MatchString(dev) {
		return invalid("Value (%s) for parameter device is invalid. %s is not a valid EBS device name.", dev, dev)
	}
	return nil
}

func errDeviceInUse(dev string) error {
	return invalid("Invalid value '%s' for unixDevice. Attachment point %s is already in use", dev, dev)
}

// AttachVolume attaches an available volume to a running or stopped
// instance of its zone; the instance's node hot-plugs it and reports it
// attached.
func (s *Service) AttachVolume(ctx context.Context, in *ec2api.AttachVolumeRequest) (*ec2api.VolumeAttachment, error) {
	volID, instID, dev := deref(in.VolumeId), deref(in.InstanceId), deref(in.Device)
	if err := checkDevice(dev); err != nil {
		return nil, err
	}
	if err := checkInstanceID(instID); err != nil {
		return nil, err
	}
	var att store.VolumeAttachment
	var nodes []string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		v, err := ownedVolume(ctx, tx, account, volID)
		if err != nil {
			return err
		}
		inst, err := tx.GetInstance(ctx, account, instID)
		if errors.Is(err, store.ErrNotFound) {
			return errInstanceNotFound(instID)
		}
		if err != nil {
			return err
		}
		if err := checkAttachable(ctx, tx, v, inst, dev); err != nil {
			return err
		}
		att = store.VolumeAttachment{VolumeID: v.ID, InstanceID: inst.ID, AccountID: account, Device: dev,
			State: store.AttachmentAttaching, AttachTime: time.Now().UTC()}
		if err := tx.InsertVolumeAttachment(ctx, att); errors.Is(err, store.ErrConflict) {
			return errDeviceInUse(dev)
		} else if err != nil {
			return err
		}
		v.State = store.VolumeInUse
		nodes = []string{inst.NodeID, v.HomeNode}
		return tx.UpdateVolume(ctx, v)
	})
	if err != nil {
		return nil, err
	}
	s.notify(nodes...)
	out := apiVolumeAttachment(att)
	out.DeleteOnTermination = nil
	return &out, nil
}

// checkAttachable applies EC2's rules for one attachment.
func checkAttachable(ctx context.Context, tx *store.Tx, v store.Volume, inst store.Instance, dev string) error {
	if v.AvailabilityZone != inst.AvailabilityZone {
		return apiErr("InvalidVolume.ZoneMismatch", "The volume '%s' is not in the same availability zone as instance '%s'", v.ID, inst.ID)
	}
	switch instancestate.State(inst.State) {
	case instancestate.Running, instancestate.Stopped:
	default:
		return apiErr("IncorrectInstanceState", "The instance '%s' is not in the 'running' or 'stopped' state (it is '%s').", inst.ID, inst.State)
	}
	atts, err := tx.VolumeAttachmentsOf(ctx, v.ID)
	if err != nil {
		return err
	}
	for _, a := range atts {
		if a.InstanceID == inst.ID || !v.MultiAttach {
			return apiErr("VolumeInUse", "%s is already attached to an instance", v.ID)
		}
	}
	switch {
	case v.State == store.VolumeInUse && !v.MultiAttach:
		return apiErr("VolumeInUse", "%s is already attached to an instance", v.ID)
	case v.State != store.VolumeAvailable && v.State != store.VolumeInUse:
		return apiErr("IncorrectState", "The volume '%s' is not 'available'.", v.ID)
	}
	if err := sameHostMultiAttach(ctx, tx, v, inst, atts); err != nil {
		return err
	}
	mine, err := tx.InstanceVolumeAttachments(ctx, inst.ID)
	if err != nil {
		return err
	}
	for _, a := range mine {
		if a.Device == dev {
			return errDeviceInUse(dev)
		}
	}
	if len(mine) >= maxVolumeAttachments {
		return apiErr("AttachmentLimitExceeded", "The instance '%s' already has the maximum of %d volumes attached.", inst.ID, maxVolumeAttachments)
	}
	if dev == inst.RootDeviceName {
		return errDeviceInUse(dev)
	}
	return nil
}

// sameHostMultiAttach: with the local backend a volume's data is a file on
// one host, so its several writers must all run there.
func sameHostMultiAttach(ctx context.Context, tx *store.Tx, v store.Volume, inst store.Instance, atts []store.VolumeAttachment) error {
	if v.Backend != nodeapi.VolumeBackendLocal || len(atts) == 0 {
		return nil
	}
	other, err := tx.GetInstance(ctx, v.AccountID, atts[0].InstanceID)
	if err != nil {
		return err
	}
	if other.NodeID != inst.NodeID {
		return apiErr("UnsupportedOperation", "Kumo's local volume backend can attach '%s' to several instances only when they run on one host; '%s' and '%s' do not.", v.ID, other.ID, inst.ID)
	}
	return nil
}

// DetachVolume asks the instance's node to remove the volume from the
// guest; it stays detaching until the guest lets go, unless Force.
func (s *Service) DetachVolume(ctx context.Context, in *ec2api.DetachVolumeRequest) (*ec2api.VolumeAttachment, error) {
	volID, instID, dev := deref(in.VolumeId), deref(in.InstanceId), deref(in.Device)
	var att store.VolumeAttachment
	var node string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		v, err := ownedVolume(ctx, tx, account, volID)
		if err != nil {
			return err
		}
		if att, err = chooseAttachment(ctx, tx, v, instID, dev); err != nil {
			return err
		}
		if v.RootInstance != "" {
			return apiErr("UnsupportedOperation", "Detaching the root volume '%s' of '%s' is not supported by Kumo yet.", v.ID, v.RootInstance)
		}
		inst, err := tx.GetInstance(ctx, account, att.InstanceID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		node = inst.NodeID
		if errors.Is(err, store.ErrNotFound) || inst.NodeID == "" || inst.State == string(instancestate.Terminated) {
			att.State = "detached" // no guest holds it
			return tx.FinishDetach(ctx, att, time.Now().UTC())
		}
		att.State, att.Force = store.AttachmentDetaching, att.Force || deref2(in.Force)
		return tx.UpdateVolumeAttachment(ctx, att)
	})
	if err != nil {
		return nil, err
	}
	s.notify(node)
	out := apiVolumeAttachment(att)
	out.DeleteOnTermination = nil
	return &out, nil
}

// chooseAttachment finds the attachment a DetachVolume names.
func chooseAttachment(ctx context.Context, tx *store.Tx, v store.Volume, instID, dev string) (store.VolumeAttachment, error) {
	atts, err := tx.VolumeAttachmentsOf(ctx, v.ID)
	if err != nil {
		return store.VolumeAttachment{}, err
	}
	if len(atts) == 0 {
		return store.VolumeAttachment{}, apiErr("IncorrectState", "Volume '%s' is in the '%s' state.", v.ID, v.State)
	}
	if instID == "" && len(atts) > 1 {
		return store.VolumeAttachment{}, apiErr("MissingParameter", "The volume '%s' is attached to several instances; the request must contain the parameter instanceId", v.ID)
	}
	for _, a := range atts {
		if (instID == "" || a.InstanceID == instID) && (dev == "" || a.Device == dev) {
			return a, nil
		}
	}
	target := instID
	if target == "" {
		target = atts[0].InstanceID
	}
	return store.VolumeAttachment{}, apiErr("InvalidAttachment.NotFound", "Volume '%s' is not attached to '%s'%s.", v.ID, target, deviceNote(dev))
}

func deviceNote(dev string) string {
	if dev == "" {
		return ""
	}
	return " at " + dev
}
