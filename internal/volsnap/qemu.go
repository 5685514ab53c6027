package volsnap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/volsnap/nbd"
)

// QEMU is a volume attached to a running QEMU: Take reads it through
// image fleecing. A temporary qcow2 overlay (in TempDir) whose backing is
// the volume's node becomes the target of a blockdev-backup sync=none job:
// from the job's start, QEMU copies a cluster's old data into the overlay
// before the guest overwrites it, so the overlay reads as the volume did
// at that instant. QEMU's own NBD server exports the overlay read-only (on
// a unix socket in TempDir) and Take reads it; then the job, export,
// server and overlay are removed. The job starts inside a QMP transaction
// with the dirty bitmap changes, so they happen at the same instant.
//
// Take owns QEMU's NBD server while it runs (QEMU has one): the guest's
// QEMU must not use nbd-server-start for anything else.
type QEMU struct {
	QMP *qmp.Conn
	// Node is the block node the guest's device uses (the volume's format
	// node, qcow2 or raw).
	Node string
	// TempDir holds the overlay and the NBD socket; it must be on a file
	// system with room for the data the guest overwrites during the read,
	// and short enough for a unix socket path.
	TempDir string
}

// Names of what one snapshot of Node adds to QEMU, derived from the node
// name alone so that a retry finds what an interrupted attempt left.
type qemuNames struct {
	fleece, job, export, overlay, socket string
}

func (q *QEMU) names() qemuNames {
	sum := sha256.Sum256([]byte(q.Node))
	h := hex.EncodeToString(sum[:6])
	return qemuNames{
		fleece:  "ksnap-f-" + h,
		job:     "ksnap-j-" + h,
		export:  "ksnap-e-" + h,
		overlay: filepath.Join(q.TempDir, "ksnap-"+h+".qcow2"),
		socket:  filepath.Join(q.TempDir, "ksnap-"+h+".sock"),
	}
}

func (q *QEMU) describe() string { return "block node " + q.Node }

// blockNode is what query-named-block-nodes says of a node.
type blockNode struct {
	NodeName string `json:"node-name"`
	Driver   string `json:"drv"`
	Image    struct {
		VirtualSize int64 `json:"virtual-size"`
	} `json:"image"`
	DirtyBitmaps []struct {
		Name         string `json:"name"`
		Recording    bool   `json:"recording"`
		Inconsistent bool   `json:"inconsistent"`
	} `json:"dirty-bitmaps"`
}

func (q *QEMU) node(ctx context.Context, name string) (*blockNode, error) {
	var nodes []blockNode
	if err := q.QMP.Execute(ctx, "query-named-block-nodes", map[string]bool{"flat": true}, &nodes); err != nil {
		return nil, err
	}
	for i := range nodes {
		if nodes[i].NodeName == name {
			return &nodes[i], nil
		}
	}
	return nil, nil
}

func (q *QEMU) open(ctx context.Context, id string, parent *snapshot.Manifest) (*view, error) {
	if q.QMP == nil || q.Node == "" || q.TempDir == "" {
		return nil, errors.New("QEMU source needs QMP, Node and TempDir")
	}
	n := q.names()
	if err := q.cleanup(ctx, n); err != nil {
		return nil, err
	}
	if err := reconcileBitmaps(ctx, q, id, parent, false); err != nil {
		return nil, err
	}
	vol, err := q.node(ctx, q.Node)
	if err != nil {
		return nil, err
	}
	if vol == nil {
		return nil, fmt.Errorf("QEMU has no block node %q", q.Node)
	}
	var bms []bitmapInfo
	for _, b := range vol.DirtyBitmaps {
		bms = append(bms, bitmapInfo{Name: b.Name, Recording: b.Recording, Inconsistent: b.Inconsistent})
	}
	parentBM := parentBitmap(bms, parent)
	size := vol.Image.VirtualSize
	if err := (qemuimg.Tool{}).Create(ctx, n.overlay, "qcow2", size, "", ""); err != nil {
		return nil, fmt.Errorf("fleecing overlay: %w", err)
	}
	err = q.QMP.Execute(ctx, "blockdev-add", map[string]any{"driver": "qcow2", "node-name": n.fleece,
		"file": map[string]any{"driver": "file", "filename": n.overlay}, "backing": q.Node}, nil)
	if err != nil {
		return nil, fmt.Errorf("fleecing overlay: %w", err)
	}
	pause, err := q.start(ctx, n, id, parentBM, vol.Driver == "qcow2")
	if err != nil {
		return nil, err
	}
	return q.export(ctx, n, size, parentBM, pause)
}

// start begins the point in time: in one transaction (QEMU drains the
// volume's I/O once for all of it), a new bitmap starts recording for the
// next snapshot, the parent's stops, and copy-before-write starts.
func (q *QEMU) start(ctx context.Context, n qemuNames, id, parentBM string, persistent bool) (time.Duration, error) {
	actions := []map[string]any{
		{"type": "block-dirty-bitmap-add", "data": map[string]any{"node": q.Node, "name": bitmapName(id), "persistent": persistent}},
	}
	if parentBM != "" {
		actions = append(actions, map[string]any{"type": "block-dirty-bitmap-disable",
			"data": map[string]any{"node": q.Node, "name": parentBM}})
	}
	actions = append(actions, map[string]any{"type": "blockdev-backup", "data": map[string]any{
		"job-id": n.job, "device": q.Node, "target": n.fleece, "sync": "none", "auto-dismiss": false}})
	t0 := time.Now()
	err := q.QMP.Execute(ctx, "transaction", map[string]any{"actions": actions}, nil)
	pause := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("start point-in-time view: %w", err)
	}
	return pause, nil
}

// export serves the fleecing node on QEMU's NBD server and connects to it.
func (q *QEMU) export(ctx context.Context, n qemuNames, size int64, parentBM string, pause time.Duration) (*view, error) {
	err := q.QMP.Execute(ctx, "nbd-server-start", map[string]any{
		"addr": map[string]any{"type": "unix", "data": map[string]any{"path": n.socket}}}, nil)
	if err != nil {
		return nil, fmt.Errorf("NBD server: %w", err)
	}
	args := map[string]any{"type": "nbd", "id": n.export, "node-name": n.fleece, "name": n.export, "writable": false}
	metas := []string{nbd.MetaAllocation}
	if parentBM != "" {
		args["bitmaps"] = []string{parentBM}
		metas = append(metas, nbd.MetaDirtyPrefix+parentBM)
	}
	if err := q.QMP.Execute(ctx, "block-export-add", args, nil); err != nil {
		return nil, fmt.Errorf("NBD export: %w", err)
	}
	c, err := nbd.Dial(ctx, n.socket, n.export, metas...)
	if err != nil {
		return nil, err
	}
	if c.Size() != size {
		c.Close()
		return nil, fmt.Errorf("NBD export is %d bytes, the volume %d", c.Size(), size)
	}
	v := &view{nbd: c, size: size, pause: pause, close: func() { c.Close() }}
	if parentBM != "" {
		v.dirtyMeta = nbd.MetaDirtyPrefix + parentBM
	}
	return v, nil
}

func (q *QEMU) finish(ctx context.Context, id string, parent *snapshot.Manifest, ok bool) error {
	return errors.Join(q.cleanup(ctx, q.names()), reconcileBitmaps(ctx, q, id, parent, ok))
}

// cleanup removes the export, NBD server, job, overlay node and file of
// a snapshot of Node, whichever exist. The job goes before the overlay
// node: cancelling it removes the copy-before-write filter.
func (q *QEMU) cleanup(ctx context.Context, n qemuNames) error {
	var errs []error
	if err := q.QMP.Execute(ctx, "block-export-del", map[string]any{"id": n.export, "mode": "hard"}, nil); err != nil && !notFound(err) {
		errs = append(errs, fmt.Errorf("remove NBD export: %w", err))
	}
	errs = append(errs, q.waitGone(ctx, "query-block-exports", "id", n.export))
	if _, err := os.Stat(n.socket); err == nil {
		// Ours: the server of an attempt that did not finish.
		if err := q.QMP.Execute(ctx, "nbd-server-stop", nil, nil); err != nil && !notFound(err) {
			errs = append(errs, fmt.Errorf("stop NBD server: %w", err))
		}
		os.Remove(n.socket)
	}
	if err := q.QMP.Execute(ctx, "block-job-cancel", map[string]any{"device": n.job, "force": true}, nil); err != nil && !notFound(err) {
		errs = append(errs, fmt.Errorf("cancel fleecing job: %w", err))
	}
	errs = append(errs, q.dismissJob(ctx, n.job))
	if fl, err := q.node(ctx, n.fleece); err != nil {
		errs = append(errs, err)
	} else if fl != nil {
		if err := q.QMP.BlockdevDel(ctx, n.fleece); err != nil {
			errs = append(errs, fmt.Errorf("remove fleecing overlay: %w", err))
		}
	}
	if err := os.Remove(n.overlay); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// dismissJob waits for the job to conclude and dismisses it.
func (q *QEMU) dismissJob(ctx context.Context, id string) error {
	for {
		var jobs []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		if err := q.QMP.Execute(ctx, "query-jobs", nil, &jobs); err != nil {
			return err
		}
		i := slices.IndexFunc(jobs, func(j struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}) bool {
			return j.ID == id
		})
		if i < 0 {
			return nil
		}
		if jobs[i].Status == "concluded" {
			if err := q.QMP.Execute(ctx, "job-dismiss", map[string]string{"id": id}, nil); err != nil && !notFound(err) {
				return fmt.Errorf("dismiss job %s: %w", id, err)
			}
			continue
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return fmt.Errorf("job %s still %s: %w", id, jobs[i].Status, err)
		}
	}
}

// waitGone polls a query command until no entry has key == value.
func (q *QEMU) waitGone(ctx context.Context, cmd, key, value string) error {
	for {
		var list []map[string]any
		if err := q.QMP.Execute(ctx, cmd, nil, &list); err != nil {
			return err
		}
		if !slices.ContainsFunc(list, func(e map[string]any) bool { return e[key] == value }) {
			return nil
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return fmt.Errorf("%s still lists %s: %w", cmd, value, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notFound reports QMP's answers for something already gone.
func notFound(err error) bool {
	var qe *qmp.Error
	if !errors.As(err, &qe) {
		return false
	}
	d := strings.ToLower(qe.Desc)
	return qe.Class == "DeviceNotFound" || strings.Contains(d, "not found") || strings.Contains(d, "no job") ||
		strings.Contains(d, "not running") || strings.Contains(d, "cannot find") ||
		strings.Contains(d, "cannot accept command verb") // a job already concluded
}

// Bitmap operations on the running volume (bitmapOps).

func (q *QEMU) listBitmaps(ctx context.Context) ([]bitmapInfo, error) {
	vol, err := q.node(ctx, q.Node)
	if err != nil {
		return nil, err
	}
	if vol == nil {
		return nil, fmt.Errorf("QEMU has no block node %q", q.Node)
	}
	var out []bitmapInfo
	for _, b := range vol.DirtyBitmaps {
		out = append(out, bitmapInfo{Name: b.Name, Recording: b.Recording, Inconsistent: b.Inconsistent})
	}
	return out, nil
}

func (q *QEMU) mergeBitmaps(ctx context.Context, dst string, srcs []string) error {
	if len(srcs) > 0 {
		err := q.QMP.Execute(ctx, "block-dirty-bitmap-merge", map[string]any{"node": q.Node, "target": dst, "bitmaps": srcs}, nil)
		if err != nil {
			return fmt.Errorf("merge bitmaps %v into %s: %w", srcs, dst, err)
		}
	}
	if err := q.QMP.Execute(ctx, "block-dirty-bitmap-enable", map[string]any{"node": q.Node, "name": dst}, nil); err != nil {
		return fmt.Errorf("enable bitmap %s: %w", dst, err)
	}
	return nil
}

func (q *QEMU) removeBitmaps(ctx context.Context, names []string) error {
	var errs []error
	for _, name := range names {
		err := q.QMP.Execute(ctx, "block-dirty-bitmap-remove", map[string]any{"node": q.Node, "name": name}, nil)
		if err != nil && !notFound(err) {
			errs = append(errs, fmt.Errorf("remove bitmap %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
