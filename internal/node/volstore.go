package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/volume"
	"github.com/kumo-cloud/kumo/internal/volume/nbdexport"
)

// volumeFiller is a backend that can make a volume from an image: a
// snapshot's cached base, or another node's NBD export (local.Backend).
type volumeFiller interface {
	Fill(ctx context.Context, id, src, srcFormat string, size int64) error
}

// volStore is the node's side of volumes that are not a guest's business:
// their data (created on first need, from zeros, a snapshot or another
// node's export), the volumes homed here that the server names in
// Desired.Volumes (kept, exported, deleted), and what the node reports of
// them. Operations on one volume are serialized (lock).
type volStore struct {
	a        *agent
	backends map[string]volume.Backend
	export   *nbdexport.Daemon // nil: no NBD address configured
	wake     chan struct{}

	mu      sync.Mutex
	locks   map[string]*sync.Mutex
	desired []nodeapi.VolumeSpec
	status  map[string]nodeapi.VolumeStatus // of desired volumes: Export, Deleted, Reason
	held    []nodeapi.VolumeStatus          // what report returns, refreshed by the loop
}

func newVolStore(a *agent) *volStore {
	v := &volStore{a: a, backends: a.cfg.VolumeBackends, wake: make(chan struct{}, 1),
		locks: map[string]*sync.Mutex{}, status: map[string]nodeapi.VolumeStatus{}}
	if a.cfg.VolumeExportAddr != "" {
		v.export = &nbdexport.Daemon{Dir: a.volumeRunDir(), Addr: a.cfg.VolumeExportAddr}
	}
	return v
}

// lock serializes the work on one volume.
func (v *volStore) lock(id string) func() {
	v.mu.Lock()
	l := v.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		v.locks[id] = l
	}
	v.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (v *volStore) backend(name string) (volume.Backend, error) {
	if name == "" {
		name = nodeapi.VolumeBackendLocal
	}
	b := v.backends[name]
	if b == nil {
		return nil, fmt.Errorf("no %q volume backend on this node", name)
	}
	return b, nil
}

// ensureData makes sure the volume's data is here, creating it the first
// time: a copy of Source (another node's export), the snapshot's data,
// or zeros. When grow is set a smaller volume is grown to SizeBytes (a
// caller with the volume attached grows it through QEMU instead). It
// returns the volume's size.
func (v *volStore) ensureData(ctx context.Context, d nodeapi.VolumeData, grow bool) (int64, error) {
	defer v.lock(d.VolumeID)()
	be, err := v.backend(d.Backend)
	if err != nil {
		return 0, err
	}
	size, err := be.Size(ctx, d.VolumeID)
	if errors.Is(err, volume.ErrNotFound) {
		if err := v.create(ctx, be, d); err != nil {
			return 0, fmt.Errorf("create volume %s: %w", d.VolumeID, err)
		}
		size, err = be.Size(ctx, d.VolumeID)
	}
	if err != nil {
		return 0, err
	}
	if grow && size < d.SizeBytes {
		if err := be.Grow(ctx, d.VolumeID, d.SizeBytes); err != nil {
			return size, err
		}
		v.a.log.Info("grew volume", "volume", d.VolumeID, "from", size, "to", d.SizeBytes)
		size = d.SizeBytes
	}
	return size, nil
}

func (v *volStore) create(ctx context.Context, be volume.Backend, d nodeapi.VolumeData) error {
	f, canFill := be.(volumeFiller)
	switch {
	case d.Source != "" && canFill:
		v.a.log.Info("copying volume from its export", "volume", d.VolumeID, "source", d.Source)
		return f.Fill(ctx, d.VolumeID, d.Source, "raw", d.SizeBytes)
	case d.SnapshotID != "" && canFill:
		base, err := v.a.cache.Base(ctx, d.SnapshotID)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", d.SnapshotID, err)
		}
		v.a.log.Info("creating volume from snapshot", "volume", d.VolumeID, "snapshot", d.SnapshotID)
		return f.Fill(ctx, d.VolumeID, base, "raw", d.SizeBytes)
	case d.Source != "" || d.SnapshotID != "":
		return fmt.Errorf("the %s backend cannot copy a volume's data", be.Name())
	}
	v.a.log.Info("creating volume", "volume", d.VolumeID, "bytes", d.SizeBytes)
	return be.Create(ctx, d.VolumeID, d.SizeBytes)
}

// setDesired records Desired.Volumes and wakes the loop.
func (v *volStore) setDesired(specs []nodeapi.VolumeSpec) {
	v.mu.Lock()
	v.desired = slices.Clone(specs)
	v.mu.Unlock()
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// loop reconciles Desired.Volumes until ctx ends; the export daemon keeps
// running after.
func (v *volStore) loop(ctx context.Context) {
	if v.export != nil {
		defer v.export.Close()
	}
	t := time.NewTicker(v.a.poll())
	defer t.Stop()
	for {
		v.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-v.wake:
		case <-t.C:
		}
	}
}

func (v *volStore) reconcile(ctx context.Context) {
	v.mu.Lock()
	specs := slices.Clone(v.desired)
	v.mu.Unlock()
	exported := map[string]bool{}
	next := map[string]nodeapi.VolumeStatus{}
	for _, s := range specs {
		if !validVolumeID(s.VolumeID) {
			continue
		}
		st := v.reconcileOne(ctx, s)
		if st.Export != "" {
			exported[s.VolumeID] = true
		}
		next[s.VolumeID] = st
	}
	v.unexportOthers(ctx, exported)
	held := v.list(ctx, next)
	v.mu.Lock()
	changed := !slices.Equal(held, v.held)
	v.status, v.held = next, held
	v.mu.Unlock()
	if changed {
		v.a.notify()
	}
}

// reconcileOne keeps, exports or deletes one volume homed here.
func (v *volStore) reconcileOne(ctx context.Context, s nodeapi.VolumeSpec) nodeapi.VolumeStatus {
	st := nodeapi.VolumeStatus{VolumeID: s.VolumeID}
	if s.Delete {
		if inst := v.a.attachedTo(s.VolumeID); inst != "" {
			st.Reason = "attached to " + inst + " on this node"
			return st
		}
		if err := v.delete(ctx, s.VolumeData); err != nil {
			st.Reason = reason(err)
			v.a.log.Warn("delete volume", "volume", s.VolumeID, "err", err)
			return st
		}
		st.Deleted = true
		return st
	}
	if v.a.attachedTo(s.VolumeID) != "" {
		return st // a guest here has it: its worker looks after it
	}
	size, err := v.ensureData(ctx, s.VolumeData, true)
	st.SizeBytes = size
	if err == nil && s.Export {
		st.Export, err = v.exportOne(ctx, s.VolumeData)
	}
	if err != nil {
		st.Reason = reason(err)
		v.a.log.Warn("volume", "volume", s.VolumeID, "err", err)
	}
	return st
}

func (v *volStore) exportOne(ctx context.Context, d nodeapi.VolumeData) (string, error) {
	if v.export == nil {
		return "", errors.New("this node has no NBD export address (VolumeExportAddr)")
	}
	be, err := v.backend(d.Backend)
	if err != nil {
		return "", err
	}
	defer v.lock(d.VolumeID)()
	return v.export.Export(ctx, d.VolumeID, be.Blockdev(d.VolumeID, "x"))
}

func (v *volStore) delete(ctx context.Context, d nodeapi.VolumeData) error {
	be, err := v.backend(d.Backend)
	if err != nil {
		return err
	}
	defer v.lock(d.VolumeID)()
	if v.export != nil {
		if err := v.export.Unexport(ctx, d.VolumeID); err != nil {
			return err
		}
	}
	if _, err := be.Size(ctx, d.VolumeID); errors.Is(err, volume.ErrNotFound) {
		return nil
	}
	if err := be.Delete(ctx, d.VolumeID); err != nil {
		return err
	}
	v.a.log.Info("deleted volume", "volume", d.VolumeID)
	return nil
}

// unexportOthers ends the exports the server no longer asks for: an
// export holds the volume open, which would keep a guest here from
// attaching it.
func (v *volStore) unexportOthers(ctx context.Context, keep map[string]bool) {
	if v.export == nil {
		return
	}
	ids, err := v.export.Exports(ctx)
	if err != nil {
		v.a.log.Warn("list volume exports", "err", err)
		return
	}
	for _, id := range ids {
		if keep[id] {
			continue
		}
		unlock := v.lock(id)
		err := v.export.Unexport(ctx, id)
		unlock()
		if err != nil {
			v.a.log.Warn("unexport volume", "volume", id, "err", err)
		}
	}
}

// report is what the node reports of volumes, as the loop last saw them
// (listing a backend on every report would be too dear for some).
func (v *volStore) report() []nodeapi.VolumeStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.held)
}

// list lists every volume the backends hold, with what the node knows of
// the desired ones (export, failure), and the deleted ones still named.
func (v *volStore) list(ctx context.Context, status map[string]nodeapi.VolumeStatus) []nodeapi.VolumeStatus {
	var out []nodeapi.VolumeStatus
	seen := map[string]bool{}
	for _, name := range sortedKeys(v.backends) {
		be := v.backends[name]
		ids, err := be.List(ctx)
		if err != nil {
			v.a.log.Warn("list volumes", "backend", name, "err", err)
			continue
		}
		for _, id := range ids {
			size, err := be.Size(ctx, id)
			if err != nil || seen[id] {
				continue
			}
			seen[id] = true
			st := status[id]
			st.VolumeID, st.SizeBytes, st.Deleted = id, size, false
			out = append(out, st)
		}
	}
	for _, id := range sortedKeys(status) {
		if st := status[id]; !seen[id] && (st.Deleted || st.Reason != "") {
			out = append(out, st)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
