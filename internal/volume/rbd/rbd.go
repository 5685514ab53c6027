// Package rbd keeps volumes as Ceph RBD images, one image per volume named
// by the volume id, in one pool. It runs Ceph's rbd CLI (package
// ceph-common) rather than linking librbd: no cgo, and the CLI's exit
// status is the errno of the failed call, which is all the error
// vocabulary a backend needs. QEMU opens the images itself through its
// rbd block driver (Debian: qemu-block-extra).
package rbd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/volume"
)

// Config says which cluster, as whom, and where.
type Config struct {
	// Conf is the ceph.conf path ("": Ceph's default, /etc/ceph/ceph.conf).
	// It names the monitors and, for the user, its keyring.
	Conf string
	// User is the cephx user without "client." ("": Ceph's default, admin).
	// It needs `profile rbd pool=<Pool>` on mon, mgr and osd.
	User string
	// Pool holds the images; it must exist and be initialised for RBD
	// (`rbd pool init`).
	Pool string
}

// Backend is a volume.Backend on one RBD pool. Safe for concurrent use.
type Backend struct {
	cfg Config
	bin string
}

var _ volume.Backend = (*Backend)(nil)

// New checks the configuration and finds the rbd CLI. It does not contact
// the cluster (a node starts even while Ceph is away).
func New(cfg Config) (*Backend, error) {
	if cfg.Pool == "" {
		return nil, errors.New("rbd backend: no pool given")
	}
	bin, err := exec.LookPath("rbd")
	if err != nil {
		return nil, fmt.Errorf("rbd backend: the rbd command is missing (Debian: apt-get install ceph-common): %w", err)
	}
	return &Backend{cfg: cfg, bin: bin}, nil
}

// Name is nodeapi.VolumeBackendRBD.
func (b *Backend) Name() string { return nodeapi.VolumeBackendRBD }

// Create makes an image of exactly size bytes; an existing one is kept.
func (b *Backend) Create(ctx context.Context, id string, size int64) error {
	if size <= 0 {
		return fmt.Errorf("create volume %s: size %d is not positive", id, size)
	}
	spec, err := b.spec(id)
	if err != nil {
		return err
	}
	_, err = b.run(ctx, "create", "--size", bytesArg(size), spec)
	if errors.Is(err, syscall.EEXIST) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create volume %s: %w", id, err)
	}
	return nil
}

// imageInfo is the part of `rbd info --format json` Kumo reads.
type imageInfo struct {
	Size          int64 `json:"size"`
	SnapshotCount int   `json:"snapshot_count"`
}

func (b *Backend) info(ctx context.Context, spec string) (imageInfo, error) {
	var info imageInfo
	out, err := b.run(ctx, "info", "--format", "json", spec)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return info, fmt.Errorf("rbd info %s: %w", spec, err)
	}
	return info, nil
}

// Size is the image's size in bytes.
func (b *Backend) Size(ctx context.Context, id string) (int64, error) {
	spec, err := b.spec(id)
	if err != nil {
		return 0, err
	}
	info, err := b.info(ctx, spec)
	if err != nil {
		return 0, fmt.Errorf("size of volume %s: %w", id, err)
	}
	return info.Size, nil
}

// Grow resizes the image to size bytes when that is larger. An image open
// in QEMU may be resized: librbd tells its owner, and QMP block_resize
// then tells the guest.
func (b *Backend) Grow(ctx context.Context, id string, size int64) error {
	cur, err := b.Size(ctx, id)
	if err != nil {
		return fmt.Errorf("grow: %w", err)
	}
	if size <= cur {
		return nil
	}
	spec, _ := b.spec(id)
	if _, err := b.run(ctx, "resize", "--size", bytesArg(size), spec); err != nil {
		return fmt.Errorf("grow volume %s to %d bytes: %w", id, size, err)
	}
	return nil
}

// Delete removes the image and its RBD snapshots. An image some client
// still has open (a watcher: a QEMU that did not let go) is refused, so
// a volume in use keeps its snapshots too.
func (b *Backend) Delete(ctx context.Context, id string) error {
	spec, err := b.spec(id)
	if err != nil {
		return err
	}
	out, err := b.run(ctx, "status", "--format", "json", spec)
	if errors.Is(err, volume.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	var st struct {
		Watchers []struct {
			Address string `json:"address"`
		} `json:"watchers"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return fmt.Errorf("delete volume %s: rbd status: %w", id, err)
	}
	if len(st.Watchers) > 0 {
		return fmt.Errorf("delete volume %s: still open by %s: %w", id, st.Watchers[0].Address, syscall.EBUSY)
	}
	if _, err := b.run(ctx, "snap", "purge", spec); err != nil && !errors.Is(err, volume.ErrNotFound) {
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	if _, err := b.run(ctx, "rm", spec); err != nil && !errors.Is(err, volume.ErrNotFound) {
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	return nil
}

// List is every image in the pool: with RBD every node sees every volume.
func (b *Backend) List(ctx context.Context) ([]string, error) {
	out, err := b.run(ctx, "ls", "--format", "json", b.cfg.Pool)
	if err != nil {
		return nil, fmt.Errorf("list volumes in pool %s: %w", b.cfg.Pool, err)
	}
	var ids []string
	if err := json.Unmarshal(out, &ids); err != nil {
		return nil, fmt.Errorf("list volumes in pool %s: %w", b.cfg.Pool, err)
	}
	return ids, nil
}

// Blockdev is a raw format node over QEMU's rbd protocol driver. Discards
// pass down so space the guest frees returns to the pool.
func (b *Backend) Blockdev(id, nodeName string) map[string]any {
	file := map[string]any{"driver": "rbd", "pool": b.cfg.Pool, "image": id, "discard": "unmap"}
	if b.cfg.Conf != "" {
		file["conf"] = b.cfg.Conf
	}
	if b.cfg.User != "" {
		file["user"] = b.cfg.User
	}
	return map[string]any{"driver": "raw", "node-name": nodeName, "discard": "unmap", "file": file}
}

// spec is pool/image for the CLI. An id that could be read as another
// pool, a snapshot or a flag is refused.
func (b *Backend) spec(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, "/@") || strings.HasPrefix(id, "-") {
		return "", fmt.Errorf("rbd backend: %q is not a volume id", id)
	}
	return b.cfg.Pool + "/" + id, nil
}

func bytesArg(n int64) string { return strconv.FormatInt(n, 10) + "B" }

// CLIError is a failed rbd command: its exit status is the errno of what
// failed (Is matches syscall.Errno values; ENOENT also matches
// volume.ErrNotFound).
type CLIError struct {
	Args   []string
	Errno  syscall.Errno
	Stderr string
}

func (e *CLIError) Error() string {
	return fmt.Sprintf("rbd %s: %s", strings.Join(e.Args, " "), e.Stderr)
}

// Is makes errors.Is(err, syscall.ENOENT) and errors.Is(err,
// volume.ErrNotFound) work.
func (e *CLIError) Is(target error) bool {
	if target == volume.ErrNotFound {
		return e.Errno == syscall.ENOENT
	}
	errno, ok := target.(syscall.Errno)
	return ok && errno == e.Errno
}

// run runs rbd with the connection arguments first and returns stdout.
func (b *Backend) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, b.bin, append(b.connArgs(), args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, b.cliError(ctx, args, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func (b *Backend) connArgs() []string {
	var a []string
	if b.cfg.Conf != "" {
		a = append(a, "--conf", b.cfg.Conf)
	}
	if b.cfg.User != "" {
		a = append(a, "--id", b.cfg.User)
	}
	return a
}

func (b *Backend) cliError(ctx context.Context, args []string, err error, stderr string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("rbd %s: %w", strings.Join(args, " "), ctx.Err())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
		return fmt.Errorf("rbd %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr))
	}
	return &CLIError{Args: args, Errno: syscall.Errno(ee.ExitCode()), Stderr: lastLine(stderr)}
}

// lastLine is the message of rbd's stderr (progress lines come before it).
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, "\r\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// BreakLock removes the exclusive lock of the volume's writer and fences
// that writer (librbd blocklists it: it can write no more, even were it
// alive). It is for a writer known to be gone, a QEMU killed with its
// node's agent or moved elsewhere: without it the next writer waits until
// Ceph expires the dead one's watch (30 s, osd_client_watch_timeout).
// A volume nobody holds is left as it is.
func (b *Backend) BreakLock(ctx context.Context, id string) error {
	spec, err := b.spec(id)
	if err != nil {
		return err
	}
	out, err := b.run(ctx, "lock", "ls", "--format", "json", spec)
	if err != nil {
		return fmt.Errorf("break the lock of volume %s: %w", id, err)
	}
	var locks []struct {
		ID     string `json:"id"`
		Locker string `json:"locker"`
	}
	if err := json.Unmarshal(out, &locks); err != nil {
		return fmt.Errorf("break the lock of volume %s: %w", id, err)
	}
	for _, l := range locks {
		_, err := b.run(ctx, "lock", "rm", spec, l.ID, l.Locker)
		if err != nil && !errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("break the lock of volume %s held by %s: %w", id, l.Locker, err)
		}
	}
	return nil
}
