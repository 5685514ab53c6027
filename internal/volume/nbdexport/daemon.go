// Package nbdexport serves a node's volumes over NBD with one
// qemu-storage-daemon process per node. The daemon is daemonized, so it
// outlives the agent (as guests do): a restarted agent finds it by its
// pidfile and asks it over QMP what it exports. Another node reads an
// export (qemu-img convert from nbd://host:port/vol-…) to move the
// volume's data to the node its guest runs on.
package nbdexport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// Files of the daemon's directory.
const (
	qmpSocket = "qsd.sock"
	pidFile   = "qsd.pid"
	errFile   = "qsd.stderr"
)

// Daemon is a handle on the node's qemu-storage-daemon, started on first
// use. Safe for concurrent use.
type Daemon struct {
	Dir    string // holds its monitor socket and pidfile; short enough for a socket path
	Addr   string // host:port it serves NBD on, and that export URLs name
	Binary string // "qemu-storage-daemon" when empty

	mu   sync.Mutex
	conn *qmp.Conn
}

// URL is the address of volume id's export.
func (d *Daemon) URL(id string) string { return "nbd://" + d.Addr + "/" + id }

func nodeName(id string) string { return "x" + id }

// Export serves a volume read-only as export id (blockdev is the
// backend's blockdev-add argument; its node-name is replaced). An export
// that exists is kept. It returns the export's URL.
func (d *Daemon) Export(ctx context.Context, id string, blockdev map[string]any) (string, error) {
	c, err := d.connect(ctx)
	if err != nil {
		return "", fmt.Errorf("export %s: %w", id, err)
	}
	if ids, err := exports(ctx, c); err != nil || slices.Contains(ids, id) {
		return d.URL(id), err
	}
	nodes, err := c.BlockNodeNames(ctx)
	if err != nil {
		return "", fmt.Errorf("export %s: %w", id, err)
	}
	if !slices.Contains(nodes, nodeName(id)) {
		bd := make(map[string]any, len(blockdev)+2)
		for k, v := range blockdev {
			bd[k] = v
		}
		bd["node-name"], bd["read-only"] = nodeName(id), true
		if err := c.Execute(ctx, "blockdev-add", bd, nil); err != nil {
			return "", fmt.Errorf("export %s: open: %w", id, err)
		}
	}
	args := map[string]any{"type": "nbd", "id": id, "node-name": nodeName(id), "name": id, "writable": false}
	if err := c.Execute(ctx, "block-export-add", args, nil); err != nil {
		c.BlockdevDel(context.WithoutCancel(ctx), nodeName(id))
		return "", fmt.Errorf("export %s: %w", id, err)
	}
	return d.URL(id), nil
}

// Unexport ends export id (disconnecting its clients) and closes the
// volume. Absent is not an error.
func (d *Daemon) Unexport(ctx context.Context, id string) error {
	if !d.running() {
		return nil // nothing can be exported
	}
	c, err := d.connect(ctx)
	if err != nil {
		return fmt.Errorf("unexport %s: %w", id, err)
	}
	if err := unexport(ctx, c, id); err != nil {
		return fmt.Errorf("unexport %s: %w", id, err)
	}
	return nil
}

func unexport(ctx context.Context, c *qmp.Conn, id string) error {
	ids, err := exports(ctx, c)
	if err != nil {
		return err
	}
	if slices.Contains(ids, id) {
		if err := c.Execute(ctx, "block-export-del", map[string]any{"id": id, "mode": "hard"}, nil); err != nil {
			return err
		}
	}
	// The export goes once its clients are gone; then the node is free.
	for {
		nodes, err := c.BlockNodeNames(ctx)
		if err != nil || !slices.Contains(nodes, nodeName(id)) {
			return err
		}
		err = c.BlockdevDel(ctx, nodeName(id))
		var qe *qmp.Error
		if err == nil || !errors.As(err, &qe) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Exports lists the ids exported now (none when the daemon is not running).
func (d *Daemon) Exports(ctx context.Context) ([]string, error) {
	if !d.running() {
		return nil, nil
	}
	c, err := d.connect(ctx)
	if err != nil {
		return nil, err
	}
	return exports(ctx, c)
}

func exports(ctx context.Context, c *qmp.Conn) ([]string, error) {
	var xs []struct {
		ID       string `json:"id"`
		Shutting bool   `json:"shutting-down"`
	}
	if err := c.Execute(ctx, "query-block-exports", nil, &xs); err != nil {
		return nil, err
	}
	var ids []string
	for _, x := range xs {
		if !x.Shutting {
			ids = append(ids, x.ID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Close drops the monitor connection; the daemon keeps serving.
func (d *Daemon) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil
	}
	err := d.conn.Close()
	d.conn = nil
	return err
}

// Stop ends the daemon (its exports with it).
func (d *Daemon) Stop(ctx context.Context) error {
	pid, ok := d.pid()
	if !ok {
		return d.Close()
	}
	if c, err := d.connect(ctx); err == nil {
		c.Quit(ctx)
	}
	d.Close()
	for deadline := time.Now().Add(5 * time.Second); d.alive(pid); {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(5 * time.Second)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// connect returns the monitor connection, starting the daemon when none
// runs for Dir.
func (d *Daemon) connect(ctx context.Context) (*qmp.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		select {
		case <-d.conn.Done():
			d.conn = nil
		default:
			return d.conn, nil
		}
	}
	if !d.running() {
		if err := d.start(ctx); err != nil {
			return nil, err
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := qmp.Dial(dctx, filepath.Join(d.Dir, qmpSocket))
	if err != nil {
		return nil, fmt.Errorf("storage daemon: %w", err)
	}
	d.conn = c
	return c, nil
}

func (d *Daemon) binary() string {
	if d.Binary != "" {
		return d.Binary
	}
	return "qemu-storage-daemon"
}

// start runs the daemon, which forks and exits once it serves.
func (d *Daemon) start(ctx context.Context) error {
	host, port, err := net.SplitHostPort(d.Addr)
	if err != nil {
		return fmt.Errorf("storage daemon address %q: %w", d.Addr, err)
	}
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return err
	}
	for _, f := range []string{qmpSocket, pidFile} {
		os.Remove(filepath.Join(d.Dir, f))
	}
	sock := filepath.Join(d.Dir, qmpSocket)
	args := []string{
		"--chardev", "socket,id=m,path=" + esc(sock) + ",server=on,wait=off",
		"--monitor", "chardev=m",
		"--nbd-server", "addr.type=inet,addr.host=" + host + ",addr.port=" + port,
		"--pidfile", filepath.Join(d.Dir, pidFile), "--daemonize",
	}
	errf, err := os.Create(filepath.Join(d.Dir, errFile))
	if err != nil {
		return err
	}
	defer errf.Close()
	cmd := exec.CommandContext(ctx, d.binary(), args...)
	cmd.Stdout, cmd.Stderr = errf, errf
	if err := cmd.Run(); err != nil {
		msg, _ := os.ReadFile(filepath.Join(d.Dir, errFile))
		return fmt.Errorf("start %s: %w: %s", d.binary(), err, strings.TrimSpace(string(msg)))
	}
	return nil
}

func (d *Daemon) running() bool {
	pid, ok := d.pid()
	return ok && d.alive(pid)
}

func (d *Daemon) pid() (int, bool) {
	b, err := os.ReadFile(filepath.Join(d.Dir, pidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 1
}

// alive: pid is a live process whose command line names our socket (a
// recycled pid is not taken for the daemon).
func (d *Daemon) alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X' {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && bytes.Contains(cmdline, []byte(filepath.Join(d.Dir, qmpSocket)))
}

// esc quotes a value for QEMU's option syntax, where a comma is doubled.
func esc(v string) string { return strings.ReplaceAll(v, ",", ",,") }
