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

// Snapshots of volumes: the API writes a pending snapshot; the node that
// holds the volume's data (its home, or a root volume's instance's node)
// gets it as a Desired.Snapshots task and reports progress until done. A
// volume whose data no node has made yet keeps its snapshot pending until
// one does.

// CreateSnapshot starts a point-in-time snapshot of a volume, attached or not.
func (s *Service) CreateSnapshot(ctx context.Context, in *ec2api.CreateSnapshotRequest) (*ec2api.Snapshot, error) {
	if in.OutpostArn != nil {
		return nil, apiErr("UnsupportedOperation", "Outposts are not supported by Kumo.")
	}
	tags, err := specTags(in.TagSpecifications, typeSnapshot)
	if err != nil {
		return nil, err
	}
	var view snapshotView
	var nodes []string
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		v, err := ownedVolume(ctx, tx, account, deref(in.VolumeId))
		if err != nil {
			return err
		}
		sn, rows, err := startSnapshot(ctx, tx, v, deref(in.Description), tags)
		if err != nil {
			return err
		}
		view = snapshotView{Snapshot: sn, tags: rows}
		nodes, err = volumeNodes(ctx, tx, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notify(nodes...)
	out := apiSnapshot(view)
	return &out, nil
}

// startSnapshot records a pending snapshot of v with its tags.
func startSnapshot(ctx context.Context, tx *store.Tx, v store.Volume, desc string, tags []ec2api.Tag) (store.Snapshot, []store.Tag, error) {
	if v.State != store.VolumeAvailable && v.State != store.VolumeInUse {
		return store.Snapshot{}, nil, apiErr("IncorrectState", "The volume '%s' is in the '%s' state.", v.ID, v.State)
	}
	sn := store.Snapshot{ID: ids.Resource("snap"), AccountID: v.AccountID, VolumeID: v.ID, VolumeSize: v.SizeGiB,
		State: "pending", Description: desc, CreatedAt: time.Now().UTC()}
	if err := tx.InsertSnapshot(ctx, sn); err != nil {
		return sn, nil, err
	}
	rows, err := putTags(ctx, tx, v.AccountID, sn.ID, typeSnapshot, tags)
	return sn, rows, err
}

// CreateSnapshots snapshots every volume of an instance (its root unless
// excluded) in one request: the node gets the tasks together.
func (s *Service) CreateSnapshots(ctx context.Context, in *ec2api.CreateSnapshotsRequest) (*ec2api.CreateSnapshotsResult, error) {
	spec := in.InstanceSpecification
	if spec == nil || deref(spec.InstanceId) == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter InstanceSpecification.InstanceId")
	}
	if in.OutpostArn != nil {
		return nil, apiErr("UnsupportedOperation", "Outposts are not supported by Kumo.")
	}
	copyTags := deref(in.CopyTagsFromSource)
	if copyTags != "" && copyTags != "volume" {
		return nil, invalid("Value (%s) for parameter CopyTagsFromSource is invalid. Valid values: volume.", copyTags)
	}
	tags, err := specTags(in.TagSpecifications, typeSnapshot)
	if err != nil {
		return nil, err
	}
	out := &ec2api.CreateSnapshotsResult{Snapshots: []ec2api.SnapshotInfo{}}
	var node string
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		inst, err := tx.GetInstance(ctx, account, deref(spec.InstanceId))
		if errors.Is(err, store.ErrNotFound) {
			return errInstanceNotFound(deref(spec.InstanceId))
		}
		if err != nil {
			return err
		}
		if inst.State == string(instancestate.Terminated) {
			return apiErr("IncorrectState", "The instance '%s' is terminated.", inst.ID)
		}
		node = inst.NodeID
		atts, err := tx.InstanceVolumeAttachments(ctx, inst.ID)
		if err != nil {
			return err
		}
		volTags, err := tx.TagsByResource(ctx, account, typeVolume)
		if err != nil {
			return err
		}
		for _, a := range atts {
			if slices.Contains(spec.ExcludeDataVolumeIds, a.VolumeID) || (deref2(spec.ExcludeBootVolume) && a.Device == inst.RootDeviceName) {
				continue
			}
			v, err := ownedVolume(ctx, tx, account, a.VolumeID)
			if err != nil {
				return err
			}
			these := tags
			if copyTags == "volume" {
				these = append(slices.Clone(tags), apiTagList(volTags[v.ID])...)
			}
			sn, rows, err := startSnapshot(ctx, tx, v, deref(in.Description), these)
			if err != nil {
				return err
			}
			out.Snapshots = append(out.Snapshots, ec2api.SnapshotInfo{SnapshotId: str(sn.ID), VolumeId: str(v.ID), State: str(sn.State),
				VolumeSize: i32(int32(sn.VolumeSize)), StartTime: timep(sn.CreatedAt), Progress: str("0%"), OwnerId: str(account),
				Description: str(sn.Description), Encrypted: boolp(false), Tags: apiTags(rows)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(node)
	return out, nil
}

func apiTagList(tags []store.Tag) []ec2api.Tag {
	var out []ec2api.Tag
	for _, t := range tags {
		out = append(out, ec2api.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return out
}

// CopySnapshot copies a completed snapshot of this region: the chunks are
// shared (content-addressed), the manifest is copied under the new id.
func (s *Service) CopySnapshot(ctx context.Context, in *ec2api.CopySnapshotRequest) (*ec2api.CopySnapshotResult, error) {
	switch {
	case deref(in.SourceRegion) != s.Cfg.Region:
		return nil, apiErr("UnsupportedOperation", "Kumo copies snapshots within its region (%s) only.", s.Cfg.Region)
	case deref2(in.Encrypted) || in.KmsKeyId != nil:
		return nil, apiErr("UnsupportedOperation", "Encrypted snapshots are not supported by Kumo yet.")
	case in.DestinationOutpostArn != nil:
		return nil, apiErr("UnsupportedOperation", "Outposts are not supported by Kumo.")
	case s.Snapshots == nil:
		return nil, apiErr("UnsupportedOperation", "Copying snapshots needs the snapshot store, which this server was started without.")
	}
	src := deref(in.SourceSnapshotId)
	if err := checkID(src, "snap", "InvalidSnapshotID.Malformed"); err != nil {
		return nil, err
	}
	tags, err := specTags(in.TagSpecifications, typeSnapshot)
	if err != nil {
		return nil, err
	}
	var dup store.Snapshot
	var rows []store.Tag
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		sn, err := visibleSnapshot(ctx, tx, account, src)
		if err != nil {
			return err
		}
		if sn.State != "completed" {
			return apiErr("IncorrectState", "Snapshot '%s' is in state '%s'; only a completed snapshot can be copied.", src, sn.State)
		}
		dup = sn
		dup.ID, dup.AccountID, dup.VolumeID, dup.CreatedAt = ids.Resource("snap"), account, "vol-ffffffff", time.Now().UTC()
		dup.State, dup.Progress, dup.Description = "pending", 0, deref(in.Description)
		if in.Description == nil {
			dup.Description = "[Copied " + src + " from " + s.Cfg.Region + "]"
		}
		if err := tx.InsertSnapshot(ctx, dup); err != nil {
			return err
		}
		rows, err = putTags(ctx, tx, account, dup.ID, typeSnapshot, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.Snapshots.Copy(ctx, src, dup.ID); err != nil {
		return nil, s.finishCopy(ctx, dup, err)
	}
	if err := s.finishCopy(ctx, dup, nil); err != nil {
		return nil, err
	}
	return &ec2api.CopySnapshotResult{SnapshotId: str(dup.ID), Tags: apiTags(rows)}, nil
}

// finishCopy marks a copied snapshot completed (recording its usage) or
// failed; it returns cause.
func (s *Service) finishCopy(ctx context.Context, sn store.Snapshot, cause error) error {
	err := s.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if cause != nil {
			sn.State, sn.StateMessage = "error", "Copying the snapshot data failed."
			return tx.UpdateSnapshot(ctx, sn)
		}
		sn.State, sn.Progress = "completed", 100
		if err := tx.UpdateSnapshot(ctx, sn); err != nil {
			return err
		}
		return tx.RecordSnapshotUsage(ctx, sn, store.UsageCreate, time.Now().UTC())
	})
	if cause != nil {
		return cause
	}
	return err
}
