package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/volsnap"
	"github.com/kumo-cloud/kumo/internal/volume"
)

// maxSnapshotTasks bounds the snapshots a node takes at once: each reads
// a whole volume and uploads its new chunks.
const maxSnapshotTasks = 2

// qmpGuest is a guest whose QEMU monitor volsnap can drive.
type qmpGuest interface{ QMP() *qmp.Conn }

// filePather is a backend whose volumes are files (local.Backend).
type filePather interface{ Path(id string) string }

// snapshotter carries out Desired.Snapshots, each in its own goroutine
// (at most maxSnapshotTasks at once, one per volume and one per guest:
// QEMU has one NBD server), so that no instance's reconcile loop waits
// for a snapshot. A task the server still names after the agent
// restarted is simply run again: volsnap removes what the interrupted
// attempt left, by name.
type snapshotter struct {
	a    *agent
	wake chan struct{}

	mu       sync.Mutex
	desired  []nodeapi.SnapshotTask
	running  map[string]*snapRun // by snapshot id
	statuses map[string]nodeapi.SnapshotStatus
}

type snapRun struct {
	task   nodeapi.SnapshotTask
	guest  string // the instance whose QEMU reads it ("" : a detached file)
	cancel context.CancelFunc
}

func newSnapshotter(a *agent) *snapshotter {
	return &snapshotter{a: a, wake: make(chan struct{}, 1), running: map[string]*snapRun{},
		statuses: map[string]nodeapi.SnapshotStatus{}}
}

// setDesired records Desired.Snapshots: tasks no longer named are
// stopped and forgotten (the server has recorded their end, or dropped
// them).
func (s *snapshotter) setDesired(tasks []nodeapi.SnapshotTask) {
	s.mu.Lock()
	s.desired = slices.Clone(tasks)
	named := map[string]bool{}
	for _, t := range tasks {
		named[t.SnapshotID] = true
	}
	for id, r := range s.running {
		if !named[id] {
			r.cancel()
		}
	}
	for id := range s.statuses {
		if !named[id] {
			delete(s.statuses, id)
		}
	}
	s.mu.Unlock()
	s.poke()
}

func (s *snapshotter) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// report is the state of every named task started so far.
func (s *snapshotter) report() []nodeapi.SnapshotStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []nodeapi.SnapshotStatus
	for _, t := range s.desired {
		if st, ok := s.statuses[t.SnapshotID]; ok {
			out = append(out, st)
		}
	}
	return out
}

// busy reports whether a snapshot of the volume runs: its data must stay,
// and it is neither plugged nor unplugged meanwhile.
func (s *snapshotter) busy(volumeID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.running {
		if r.task.VolumeID == volumeID {
			return true
		}
	}
	return false
}

// loop starts the tasks that can start until ctx ends, then waits for the
// running ones to stop.
func (s *snapshotter) loop(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(s.a.poll())
	defer t.Stop()
	for {
		s.schedule(ctx, &wg)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// schedule starts every named, unfinished task whose volume and guest are
// free, within the bound.
func (s *snapshotter) schedule(ctx context.Context, wg *sync.WaitGroup) {
	s.mu.Lock()
	tasks := slices.Clone(s.desired)
	s.mu.Unlock()
	for _, t := range tasks {
		if !s.startable(t) {
			continue
		}
		src, guest, err := s.source(ctx, t.VolumeID)
		if err != nil {
			s.set(nodeapi.SnapshotStatus{SnapshotID: t.SnapshotID, State: nodeapi.SnapshotError, Reason: err.Error()})
			s.a.log.Warn("volume snapshot", "snapshot", t.SnapshotID, "volume", t.VolumeID, "err", err)
			continue
		}
		if src == nil {
			continue // not readable yet (a guest being started or reattached): later
		}
		s.start(ctx, wg, t, src, guest)
	}
}

// startable: named, not finished, not running, and neither its volume
// nor a guest's NBD server is taken, within the bound.
func (s *snapshotter) startable(t nodeapi.SnapshotTask) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.statuses[t.SnapshotID]; ok && st.State != nodeapi.SnapshotPending {
		return false
	}
	if s.running[t.SnapshotID] != nil || len(s.running) >= maxSnapshotTasks {
		return false
	}
	guest := s.a.attachedTo(t.VolumeID)
	if guest == "" {
		guest = s.a.rootOf(t.VolumeID)
	}
	for _, r := range s.running {
		if r.task.VolumeID == t.VolumeID || (guest != "" && r.guest == guest) {
			return false
		}
	}
	return true
}

func (s *snapshotter) start(ctx context.Context, wg *sync.WaitGroup, t nodeapi.SnapshotTask, src volsnap.Source, guest string) {
	rctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	if !slices.ContainsFunc(s.desired, func(d nodeapi.SnapshotTask) bool { return d.SnapshotID == t.SnapshotID }) {
		s.mu.Unlock()
		cancel() // dropped meanwhile
		return
	}
	s.running[t.SnapshotID] = &snapRun{task: t, guest: guest, cancel: cancel}
	if _, ok := s.statuses[t.SnapshotID]; !ok {
		s.statuses[t.SnapshotID] = nodeapi.SnapshotStatus{SnapshotID: t.SnapshotID, State: nodeapi.SnapshotPending}
	}
	s.mu.Unlock()
	s.a.notify()
	s.a.log.Info("taking volume snapshot", "snapshot", t.SnapshotID, "volume", t.VolumeID, "parent", t.Parent, "guest", guest)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		res, err := volsnap.RunTask(rctx, src, s.a.cfg.Objects, t, s.set)
		s.mu.Lock()
		delete(s.running, t.SnapshotID)
		s.mu.Unlock()
		switch {
		case err == nil:
			s.a.log.Info("took volume snapshot", "snapshot", t.SnapshotID, "volume", t.VolumeID,
				"bytes", res.Manifest.VolumeSize, "uploaded", res.Uploaded, "incremental", res.Incremental, "pause", res.Pause)
		case rctx.Err() != nil:
			s.a.log.Info("volume snapshot stopped", "snapshot", t.SnapshotID, "err", err)
		default:
			s.a.log.Warn("volume snapshot", "snapshot", t.SnapshotID, "volume", t.VolumeID, "err", err)
		}
		s.poke()
	}()
}

// set records a task's status (RunTask's report) for the next Report.
func (s *snapshotter) set(st nodeapi.SnapshotStatus) {
	s.mu.Lock()
	prev, ok := s.statuses[st.SnapshotID]
	named := slices.ContainsFunc(s.desired, func(d nodeapi.SnapshotTask) bool { return d.SnapshotID == st.SnapshotID })
	if named {
		s.statuses[st.SnapshotID] = st
	}
	s.mu.Unlock()
	if named && (!ok || prev.State != st.State || prev.Progress/10 != st.Progress/10) {
		s.a.notify() // progress goes up in tens between the periodic reports
	}
}

// source is where the volume's bytes are read: through the QEMU of the
// guest here that has it plugged, or its file when no QEMU has it open.
// A nil source without error means "not now" (its guest is starting or
// being reattached, or it is being plugged or unplugged).
func (s *snapshotter) source(ctx context.Context, volumeID string) (volsnap.Source, string, error) {
	if inst := s.a.rootOf(volumeID); inst != "" {
		return s.guestSource(ctx, inst, qemu.RootNode, "")
	}
	if inst := s.a.attachedTo(volumeID); inst != "" {
		return s.guestSource(ctx, inst, qemu.VolumeNode(volumeID), volumeID)
	}
	if inst := s.a.pluggedIn(volumeID); inst != "" {
		return nil, "", nil // being detached: read it once it is a file again
	}
	return s.fileSource(ctx, volumeID)
}

// guestSource reads a volume (or the root disk, node disk0) of instance
// inst: through its QEMU when it runs, else its file.
func (s *snapshotter) guestSource(ctx context.Context, inst, node, volumeID string) (volsnap.Source, string, error) {
	w := s.a.worker(inst)
	if w == nil {
		return nil, "", nil
	}
	g, known := w.liveGuest()
	if !known {
		return nil, "", nil // its worker has not looked at its guest yet
	}
	if g == nil {
		if w.status().State == nodeapi.ObservedRunning {
			return nil, "", nil // running, its monitor not reached yet
		}
		if volumeID == "" {
			return &volsnap.File{Path: filepath.Join(w.dir, rootDiskFile), TempDir: s.tempDir()}, inst, nil
		}
		return s.fileSource(ctx, volumeID)
	}
	qg, ok := g.(qmpGuest)
	if !ok {
		return nil, "", errors.New("this node's hypervisor cannot snapshot an attached volume")
	}
	if volumeID != "" {
		vg, ok := g.(volumeGuest)
		if !ok {
			return nil, "", errors.New("this node's hypervisor cannot snapshot an attached volume")
		}
		plugged, err := vg.Volumes(ctx)
		if err != nil {
			return nil, "", nil // the monitor is busy or gone: later
		}
		i := slices.IndexFunc(plugged, func(p qemu.PluggedVolume) bool { return p.ID == volumeID })
		if i < 0 || plugged[i].Cut {
			return nil, "", nil // not plugged yet
		}
	}
	return &volsnap.QEMU{QMP: qg.QMP(), Node: node, TempDir: s.tempDir()}, inst, nil
}

// fileSource reads a detached volume's file.
func (s *snapshotter) fileSource(ctx context.Context, volumeID string) (volsnap.Source, string, error) {
	for _, name := range sortedKeys(s.a.vols.backends) {
		be := s.a.vols.backends[name]
		if _, err := be.Size(ctx, volumeID); errors.Is(err, volume.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, "", err
		}
		fp, ok := be.(filePather)
		if !ok {
			return nil, "", fmt.Errorf("a detached %s volume cannot be snapshotted on this node", name)
		}
		return &volsnap.File{Path: fp.Path(volumeID), TempDir: s.tempDir()}, "", nil
	}
	return nil, "", fmt.Errorf("volume %s: its data is not on this node", volumeID)
}

func (s *snapshotter) tempDir() string { return s.a.snapshotDir() }
