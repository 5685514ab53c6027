package qemu

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// nbdReconnectDelay is how long a guest's reads of an NBD backing wait for
// its server to come back (the node agent restarting) before they fail.
const nbdReconnectDelay = 5 * time.Minute

// backingNodes are the node names of disk i's backing: the NBD export it
// starts on and the base file SwitchBacking puts in its place.
func backingNodes(i int) (nbd, file string) {
	return fmt.Sprintf("disk%d-nbd", i), fmt.Sprintf("disk%d-base", i)
}

// LazyBacking returns the NBD export the root disk (disk 0) was started on,
// unless SwitchBacking has moved it to its file since.
func (i *Instance) LazyBacking() (NBDBacking, bool) {
	if len(i.spec.Disks) == 0 || i.spec.Disks[0].Backing == nil || i.switched.Load() {
		return NBDBacking{}, false
	}
	return *i.spec.Disks[0].Backing, true
}

// SwitchBacking moves the running guest's root disk from its NBD backing
// to path, the raw file the export served (complete now; the overlay's
// header names it already): blockdev-add of the file, blockdev-reopen of
// the qcow2 node with it as backing, blockdev-del of the NBD node. The
// guest keeps running; QEMU drains its requests around the reopen. Each
// step is skipped when done, so a retry, or a restarted agent, finishes
// what an interrupted switch began.
func (i *Instance) SwitchBacking(ctx context.Context, path string) error {
	d, ok := i.rootWithBacking()
	if !ok {
		return nil
	}
	nbd, file := backingNodes(0)
	names, err := i.conn.BlockNodeNames(ctx)
	if err != nil {
		return fmt.Errorf("qemu: switch backing of %s: %w", i.spec.ID, err)
	}
	if !slices.Contains(names, file) {
		err = i.conn.BlockdevAdd(ctx, qmp.BlockdevOptions{Driver: "raw", NodeName: file, ReadOnly: true,
			File: &qmp.BlockdevRef{New: &qmp.BlockdevOptions{Driver: "file", Filename: path, ReadOnly: true}}})
		if err != nil {
			return fmt.Errorf("qemu: switch backing of %s: add %s: %w", i.spec.ID, path, err)
		}
	}
	if slices.Contains(names, nbd) {
		if err := i.reopenOn(ctx, d, file); err != nil {
			return fmt.Errorf("qemu: switch backing of %s: %w", i.spec.ID, err)
		}
		if err := i.conn.BlockdevDel(ctx, nbd); err != nil {
			return fmt.Errorf("qemu: switch backing of %s: drop the NBD node: %w", i.spec.ID, err)
		}
	}
	i.switched.Store(true)
	return nil
}

// rootWithBacking is disk 0 when it was started on an NBD backing.
func (i *Instance) rootWithBacking() (Disk, bool) {
	if len(i.spec.Disks) == 0 || i.spec.Disks[0].Backing == nil {
		return Disk{}, false
	}
	return i.spec.Disks[0], true
}

// reopenOn gives disk 0's format node a new backing node; every other
// option is as on the command line (diskArgs), as blockdev-reopen wants.
func (i *Instance) reopenOn(ctx context.Context, d Disk, backing string) error {
	opts := map[string]any{"driver": d.Format, "node-name": "disk0", "file": "disk0-file", "backing": backing}
	if d.ReadOnly {
		opts["read-only"] = true
	}
	if err := i.conn.Execute(ctx, "blockdev-reopen", map[string]any{"options": []any{opts}}, nil); err != nil {
		return fmt.Errorf("reopen on %s: %w", backing, err)
	}
	return nil
}
