package volsnap

import (
	"context"
	"errors"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// RunTask carries out a node's SnapshotTask on src: it loads the parent's
// manifest (a parent deleted since gives a full snapshot), takes the
// snapshot, and reports as nodeapi.SnapshotStatus: pending with progress
// while it runs, then completed or error. report is called from Take's
// goroutines one call at a time and must be quick. A cancelled ctx
// reports nothing more: the task is to be run again, not failed.
func RunTask(ctx context.Context, src Source, objs snapshot.Objects, task nodeapi.SnapshotTask,
	report func(nodeapi.SnapshotStatus)) (*Result, error) {
	if report == nil {
		report = func(nodeapi.SnapshotStatus) {}
	}
	fail := func(err error) (*Result, error) {
		if ctx.Err() != nil {
			return nil, err // stopped, not failed: the task runs again
		}
		report(nodeapi.SnapshotStatus{SnapshotID: task.SnapshotID, State: nodeapi.SnapshotError, Reason: err.Error()})
		return nil, err
	}
	opts := Options{SnapshotID: task.SnapshotID}
	if task.Parent != "" {
		m, err := (&snapshot.Store{Objects: objs}).Manifest(ctx, task.Parent)
		switch {
		case errors.Is(err, snapshot.ErrNotFound):
		case err != nil:
			return fail(fmt.Errorf("snapshot %s: parent: %w", task.SnapshotID, err))
		default:
			opts.Parent = m
		}
	}
	opts.Progress = func(p Progress) {
		report(nodeapi.SnapshotStatus{SnapshotID: task.SnapshotID, State: nodeapi.SnapshotPending,
			Progress: min(p.Percent, 99), Uploaded: p.Uploaded})
	}
	res, err := Take(ctx, src, objs, opts)
	if err != nil {
		return fail(err)
	}
	report(nodeapi.SnapshotStatus{SnapshotID: task.SnapshotID, State: nodeapi.SnapshotCompleted, Progress: 100,
		SizeBytes: res.Manifest.VolumeSize, Uploaded: res.Uploaded})
	return res, nil
}
