package nodeserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// applyReport records a node's report in one transaction: the node row,
// then each of its instances whose state or console changed. It reports
// whether any instance or the node's underlay address changed (so the
// nodes get a fresh Desired: the address is other nodes' VXLAN peer).
func (s *Server) applyReport(ctx context.Context, nodeID string, r *nodeapi.Report) (bool, error) {
	now := s.now()
	changed := false
	err := s.db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		info := r.Node
		before, err := tx.FindNode(ctx, nodeID)
		if err != nil {
			return err
		}
		changed = before.Address != info.Address
		err = tx.UpdateNodeReport(ctx, store.Node{ID: nodeID, Zone: info.Zone, VCPUs: info.Capacity.VCPUs,
			MemoryMiB: info.Capacity.MemoryMiB, DiskGiB: info.Capacity.DiskGiB, Address: info.Address, Version: info.Version, LastSeen: now,
			Accel: info.Accel, AccelReason: info.AccelReason})
		if err != nil {
			return err
		}
		placed, err := tx.ListNodeInstances(ctx, nodeID)
		if err != nil {
			return err
		}
		byID := make(map[string]store.Instance, len(placed))
		for _, i := range placed {
			byID[i.ID] = i
		}
		for _, st := range r.Instances {
			cur, ok := byID[st.ID]
			if !ok {
				continue // not ours: another node's or unknown
			}
			c, err := s.applyInstanceStatus(ctx, tx, nodeID, cur, st, now)
			if err != nil {
				return err
			}
			changed = changed || c
		}
		c, err := s.applyVolumeReports(ctx, tx, nodeID, r.Volumes)
		if err != nil {
			return err
		}
		changed = changed || c
		c, err = s.applySnapshotReports(ctx, tx, r.Snapshots)
		changed = changed || c
		return err
	})
	if err != nil {
		return false, fmt.Errorf("apply report of node %s: %w", nodeID, err)
	}
	return changed, nil
}

// event maps an observed state to the lifecycle event it stands for.
func event(st nodeapi.InstanceStatus) (instancestate.Event, bool) {
	switch st.State {
	case nodeapi.ObservedRunning:
		return instancestate.Booted(), true
	case nodeapi.ObservedStopped:
		return instancestate.StoppedEvent(), true
	case nodeapi.ObservedShutdown:
		return instancestate.GuestShutdown(), true
	case nodeapi.ObservedCrashed:
		return instancestate.Crashed(), true
	case nodeapi.ObservedFailed:
		r := instancestate.InternalError()
		if st.Reason != "" {
			r.Message = r.Code + ": " + st.Reason
		}
		return instancestate.LaunchFailed(r), true
	case nodeapi.ObservedDeleted:
		return instancestate.Deleted(), true
	}
	return instancestate.Event{}, false
}

// powerAfter is what the node is to do once an observation moved the
// instance to state: a guest that powered itself off (or failed to launch)
// stays off, or is deleted when the instance is on its way to terminated.
func powerAfter(state instancestate.State, desired string) string {
	switch state {
	case instancestate.Stopping, instancestate.Stopped:
		if desired == string(nodeapi.PowerRunning) {
			return string(nodeapi.PowerStopped)
		}
	case instancestate.ShuttingDown, instancestate.Terminated:
		return string(nodeapi.PowerTerminated)
	}
	return desired
}

// observe applies one status to an instance; ok is false when nothing
// is to be written.
func observe(cur store.Instance, st nodeapi.InstanceStatus, now time.Time) (store.Instance, bool) {
	next := cur
	if ev, ok := event(st); ok {
		attrs := instancestate.Attributes{InstanceID: cur.ID, DisableAPITermination: cur.DisableAPITermination,
			ShutdownBehavior: instancestate.ShutdownBehavior(cur.ShutdownBehavior), RootDeviceType: cur.RootDeviceType,
			Clock: func() time.Time { return now }}
		t := instancestate.Observe(instancestate.State(cur.State), ev, attrs)
		if t.Current != t.Previous {
			next.State, next.StateChangedAt = string(t.Current), now
			next.DesiredPower = powerAfter(t.Current, cur.DesiredPower)
		}
		if t.SetReason {
			next.StateTransitionReason, next.StateReasonCode, next.StateReasonMessage = t.TransitionReason, t.Reason.Code, t.Reason.Message
		}
	}
	if string(st.State) != cur.ObservedState {
		next.ObservedState, next.ObservedAt = string(st.State), now
	}
	if st.Console != nil {
		if enc := base64.StdEncoding.EncodeToString(st.Console); enc != cur.ConsoleOutput {
			next.ConsoleOutput, next.ConsoleAt = enc, now
		}
	}
	return next, next.State != cur.State || next.DesiredPower != cur.DesiredPower || next.ObservedState != cur.ObservedState || next.ConsoleAt != cur.ConsoleAt ||
		next.StateTransitionReason != cur.StateTransitionReason || next.StateReasonCode != cur.StateReasonCode
}

// applyInstanceStatus records one instance's status and its volumes'.
func (s *Server) applyInstanceStatus(ctx context.Context, tx *store.Tx, nodeID string, cur store.Instance, st nodeapi.InstanceStatus, now time.Time) (bool, error) {
	changed, err := s.applyAttachmentReports(ctx, tx, cur, st)
	if err != nil {
		return false, err
	}
	next, ok := observe(cur, st, now)
	if ok {
		err := tx.UpdateInstanceObserved(ctx, nodeID, cur.State, next)
		if errors.Is(err, store.ErrStale) {
			return changed, nil // an API request moved it; the next report tries again
		}
		if err != nil {
			return false, err
		}
		changed = changed || next.State != cur.State || next.ObservedState != cur.ObservedState
	}
	if next.State == string(instancestate.Terminated) && next.ObservedState == string(nodeapi.ObservedDeleted) {
		// The guest is gone: its volumes are released (or deleted with it).
		atts, err := tx.InstanceVolumeAttachments(ctx, cur.ID)
		if err != nil {
			return false, err
		}
		if len(atts) > 0 {
			changed = true
			if err := tx.SettleInstanceVolumes(ctx, cur.ID, now); err != nil {
				return false, err
			}
		}
	}
	return changed, nil
}
