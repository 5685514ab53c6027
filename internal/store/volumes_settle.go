package store

import (
	"context"
	"time"
)

// Volume and attachment states.
const (
	VolumeCreating  = "creating"
	VolumeAvailable = "available"
	VolumeInUse     = "in-use"
	VolumeDeleting  = "deleting"
	VolumeError     = "error"

	AttachmentAttaching = "attaching"
	AttachmentAttached  = "attached"
	AttachmentDetaching = "detaching"
)

// SettleInstanceVolumes ends every attachment of a terminated instance
// whose guest is gone: volumes with DeleteOnTermination go (a root volume
// at once, its data was the instance's disk; a data volume through its
// home node, which deletes the data), the others become available. It is
// idempotent: a second call finds no attachment.
func (tx *Tx) SettleInstanceVolumes(ctx context.Context, instanceID string, at time.Time) error {
	atts, err := tx.InstanceVolumeAttachments(ctx, instanceID)
	if err != nil {
		return err
	}
	for _, a := range atts {
		if err := tx.DeleteVolumeAttachment(ctx, a.VolumeID, a.InstanceID); err != nil {
			return err
		}
		v, err := tx.GetVolumeAnyAccount(ctx, a.VolumeID)
		if err == ErrNotFound {
			continue
		}
		if err != nil {
			return err
		}
		if err := tx.settleDetached(ctx, v, a.DeleteOnTermination, at); err != nil {
			return err
		}
	}
	return nil
}

// settleDetached moves a volume that just lost an attachment on: deleted
// (when asked), available when nothing else holds it.
func (tx *Tx) settleDetached(ctx context.Context, v Volume, deleteIt bool, at time.Time) error {
	left, err := tx.VolumeAttachmentsOf(ctx, v.ID)
	if err != nil {
		return err
	}
	switch {
	case len(left) > 0:
		return nil
	case deleteIt && (v.RootInstance != "" || v.HomeNode == ""):
		return tx.DeleteVolumeRow(ctx, v, at)
	case deleteIt:
		v.State = VolumeDeleting
	case v.State == VolumeInUse:
		v.State = VolumeAvailable
	default:
		return nil
	}
	return tx.UpdateVolume(ctx, v)
}

// FinishDetach records that a node removed a volume from an instance's guest.
func (tx *Tx) FinishDetach(ctx context.Context, a VolumeAttachment, at time.Time) error {
	if err := tx.DeleteVolumeAttachment(ctx, a.VolumeID, a.InstanceID); err != nil {
		return err
	}
	v, err := tx.GetVolumeAnyAccount(ctx, a.VolumeID)
	if err == ErrNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.settleDetached(ctx, v, false, at)
}
