package nodeserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Volumes in the node protocol. A volume's data is homed on one node (the
// one whose Report.Volumes lists it). An instance on another node gets the
// attachment with Source = the home's NBD export once the home (told
// Export) reports one; when that node then reports the volume as its own,
// the home moves and the old one is told to delete its copy. Every step
// is re-derived from the database and the last reports, so a restart of
// either side resumes.

const gib = 1 << 30

func volumeData(v store.Volume) nodeapi.VolumeData {
	return nodeapi.VolumeData{VolumeID: v.ID, SizeBytes: v.SizeGiB * gib, Backend: v.Backend, SnapshotID: v.SnapshotID,
		IOPS: int(v.IOPS), ThroughputMiB: int(v.Throughput)}
}

// instanceVolumes fills an instance's root volume id and its attachments.
// An attachment whose data is on another node that does not export it yet
// is left out: the node waits rather than make a blank volume.
func instanceVolumes(ctx context.Context, tx *store.Tx, nodeID string, sp *nodeapi.InstanceSpec) error {
	atts, err := tx.InstanceVolumeAttachments(ctx, sp.ID)
	if err != nil {
		return err
	}
	for _, a := range atts {
		v, err := tx.GetVolumeAnyAccount(ctx, a.VolumeID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if v.RootInstance == sp.ID {
			sp.RootVolumeID = v.ID
			continue
		}
		va := nodeapi.VolumeAttachment{VolumeData: volumeData(v), Device: a.Device,
			Detach: a.State == store.AttachmentDetaching, Force: a.Force}
		if v.Backend == nodeapi.VolumeBackendLocal && v.HomeNode != "" && v.HomeNode != nodeID {
			if v.ExportURL == "" && !va.Detach {
				continue
			}
			va.Source = v.ExportURL
		}
		sp.Volumes = append(sp.Volumes, va)
	}
	return nil
}

// nodeVolumes are the volumes homed on a node and not attached to one of
// its instances (kept, exported, or deleted), and the copies it must drop.
func nodeVolumes(ctx context.Context, tx *store.Tx, nodeID string) ([]nodeapi.VolumeSpec, error) {
	homed, err := tx.ListHomedVolumes(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	var out []nodeapi.VolumeSpec
	for _, v := range homed {
		spec := nodeapi.VolumeSpec{VolumeData: volumeData(v), Delete: v.State == store.VolumeDeleting}
		if spec.Delete {
			// A snapshot still being taken reads the data: delete it after.
			busy, err := tx.VolumeHasPendingSnapshots(ctx, v.ID)
			if err != nil {
				return nil, err
			}
			spec.Delete = !busy
		}
		atts, err := tx.VolumeAttachmentsOf(ctx, v.ID)
		if err != nil {
			return nil, err
		}
		local := false
		for _, a := range atts {
			node, err := tx.InstanceNode(ctx, a.InstanceID)
			if err != nil {
				return nil, err
			}
			if node == nodeID {
				local = true
			} else if node != "" && a.State != store.AttachmentDetaching {
				spec.Export = true
			}
		}
		if local && !spec.Export {
			continue // the instance's spec carries it
		}
		out = append(out, spec)
	}
	stale, err := tx.StaleVolumeCopies(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	for _, id := range stale {
		out = append(out, nodeapi.VolumeSpec{VolumeData: nodeapi.VolumeData{VolumeID: id, Backend: nodeapi.VolumeBackendLocal}, Delete: true})
	}
	return out, nil
}

// applyVolumeReports records what a node says of the volumes it holds;
// it reports whether anything changed.
func (s *Server) applyVolumeReports(ctx context.Context, tx *store.Tx, nodeID string, list []nodeapi.VolumeStatus) (bool, error) {
	changed := false
	for _, st := range list {
		c, err := s.applyVolumeStatus(ctx, tx, nodeID, st)
		if err != nil {
			return false, fmt.Errorf("volume %s: %w", st.VolumeID, err)
		}
		changed = changed || c
	}
	return changed, nil
}

func (s *Server) applyVolumeStatus(ctx context.Context, tx *store.Tx, nodeID string, st nodeapi.VolumeStatus) (bool, error) {
	if st.Reason != "" {
		s.logger.WarnContext(ctx, "node reports a volume problem", "node", nodeID, "volume", st.VolumeID, "reason", st.Reason)
	}
	stale, err := tx.StaleVolumeCopies(ctx, nodeID)
	if err != nil {
		return false, err
	}
	isStale := contains(stale, st.VolumeID)
	v, err := tx.GetVolumeAnyAccount(ctx, st.VolumeID)
	if errors.Is(err, store.ErrNotFound) {
		if st.Deleted && isStale {
			return true, tx.DropStaleVolumeCopy(ctx, st.VolumeID, nodeID)
		}
		return false, nil // not a volume we know: left alone
	}
	if err != nil {
		return false, err
	}
	switch {
	case st.Deleted && isStale:
		return true, tx.DropStaleVolumeCopy(ctx, st.VolumeID, nodeID)
	case st.Deleted && v.HomeNode == nodeID && v.State == store.VolumeDeleting:
		return true, tx.DeleteVolumeRow(ctx, v, s.now())
	case st.Deleted, isStale, v.State == store.VolumeDeleting && v.HomeNode != nodeID:
		return false, nil
	}
	next := v
	if v.HomeNode != nodeID {
		// First data (home was empty) or a completed copy from the old home.
		if v.HomeNode != "" {
			if err := tx.AddStaleVolumeCopy(ctx, v.ID, v.HomeNode); err != nil {
				return false, err
			}
		}
		next.HomeNode = nodeID
	}
	next.DataBytes, next.ExportURL = st.SizeBytes, st.Export
	if next == v {
		return false, nil
	}
	if err := tx.MarkVolumeSizeReached(ctx, v.ID, st.SizeBytes/gib, s.now()); err != nil {
		return false, err
	}
	return true, tx.UpdateVolume(ctx, next)
}

// applyAttachmentReports moves an instance's attachments on from what its
// node reports: attaching → attached, detaching → gone (reported detached
// or no longer listed), a failed attach is dropped.
func (s *Server) applyAttachmentReports(ctx context.Context, tx *store.Tx, inst store.Instance, st nodeapi.InstanceStatus) (bool, error) {
	atts, err := tx.InstanceVolumeAttachments(ctx, inst.ID)
	if err != nil {
		return false, err
	}
	reported := map[string]nodeapi.VolumeAttachmentStatus{}
	for _, vs := range st.Volumes {
		reported[vs.VolumeID] = vs
	}
	changed := false
	for _, a := range atts {
		if a.VolumeID == rootVolumeOf(inst) {
			continue
		}
		vs, listed := reported[a.VolumeID]
		c, err := s.applyAttachment(ctx, tx, a, vs, listed)
		if err != nil {
			return false, fmt.Errorf("attachment of %s to %s: %w", a.VolumeID, a.InstanceID, err)
		}
		changed = changed || c
	}
	return changed, nil
}

func (s *Server) applyAttachment(ctx context.Context, tx *store.Tx, a store.VolumeAttachment, vs nodeapi.VolumeAttachmentStatus, listed bool) (bool, error) {
	if listed && vs.SizeBytes > 0 {
		if err := tx.MarkVolumeSizeReached(ctx, a.VolumeID, vs.SizeBytes/gib, s.now()); err != nil {
			return false, err
		}
	}
	switch {
	case a.State == store.AttachmentDetaching && (!listed || vs.State == nodeapi.AttachDetached):
		return true, tx.FinishDetach(ctx, a, s.now())
	case a.State == store.AttachmentAttaching && listed && vs.State == nodeapi.AttachAttached:
		a.State = store.AttachmentAttached
		return true, tx.UpdateVolumeAttachment(ctx, a)
	case a.State == store.AttachmentAttaching && listed && vs.State == nodeapi.AttachFailed:
		s.logger.WarnContext(ctx, "volume attach failed", "volume", a.VolumeID, "instance", a.InstanceID, "reason", vs.Reason)
		return true, tx.FinishDetach(ctx, a, s.now())
	}
	return false, nil
}

// rootVolumeOf names an instance's root volume (store and ec2 agree on it).
func rootVolumeOf(i store.Instance) string {
	if len(i.ID) < 3 {
		return ""
	}
	return "vol-" + i.ID[2:]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nodeSnapshots are the snapshot tasks of the volumes a node holds.
func nodeSnapshots(ctx context.Context, tx *store.Tx, nodeID string) ([]nodeapi.SnapshotTask, error) {
	tasks, err := tx.PendingVolumeSnapshots(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	var out []nodeapi.SnapshotTask
	for _, t := range tasks {
		out = append(out, nodeapi.SnapshotTask{SnapshotID: t.SnapshotID, VolumeID: t.VolumeID, Parent: t.Parent})
	}
	return out, nil
}

// applySnapshotReports records a node's progress on its snapshot tasks;
// a snapshot no longer pending (done, failed, deleted) is left alone.
func (s *Server) applySnapshotReports(ctx context.Context, tx *store.Tx, list []nodeapi.SnapshotStatus) (bool, error) {
	changed := false
	for _, st := range list {
		sn, err := tx.GetSnapshot(ctx, st.SnapshotID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if sn.State != nodeapi.SnapshotPending {
			continue
		}
		next := sn
		next.Progress = int64(max(0, min(st.Progress, 100)))
		switch st.State {
		case nodeapi.SnapshotCompleted:
			next.State, next.Progress = nodeapi.SnapshotCompleted, 100
			if st.SizeBytes > 0 {
				next.SizeBytes, next.VolumeSize = st.SizeBytes, (st.SizeBytes+gib-1)/gib
			}
		case nodeapi.SnapshotError:
			next.State, next.StateMessage = nodeapi.SnapshotError, st.Reason
		}
		if next == sn {
			continue
		}
		if err := tx.UpdateSnapshot(ctx, next); err != nil {
			return false, fmt.Errorf("snapshot %s: %w", sn.ID, err)
		}
		if next.State == nodeapi.SnapshotCompleted {
			if err := tx.RecordSnapshotUsage(ctx, next, store.UsageCreate, s.now()); err != nil {
				return false, err
			}
		}
		changed = changed || next.State != sn.State
	}
	return changed, nil
}
