package volsnap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

const (
	volNode = "vol0"
	volDev  = "dev-vol0"
)

func needTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"qemu-system-x86_64", "qemu-img", "qemu-nbd", "qemu-io"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian: qemu-system-x86, qemu-utils); skipping", tool)
		}
	}
}

// tempDir is a short directory (unix socket paths are limited to 108 bytes).
func tempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "volsnap")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// newVolume creates a qcow2 volume file of size bytes.
func newVolume(t testing.TB, dir string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, "vol.qcow2")
	if err := (qemuimg.Tool{}).Create(context.Background(), p, "qcow2", size, "", ""); err != nil {
		t.Fatal(err)
	}
	return p
}

// guest is a real QEMU (TCG, no guest OS: the firmware finds nothing to
// boot) with the volume attached as a virtio-blk disk, as a node attaches
// one. Writes go through the device's block backend with HMP qemu-io -d,
// the path a guest's writes take.
type guest struct {
	t     testing.TB
	cmd   *exec.Cmd
	qmp   *qmp.Conn
	qmp2  string // a second monitor socket, for another process
	model []byte // what the volume holds, write by write

	stdout lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.b.String(), s)
}

func startGuest(t testing.TB, dir, volume string, size int64) *guest {
	t.Helper()
	sock, sock2 := filepath.Join(dir, "qmp.sock"), filepath.Join(dir, "qmp2.sock")
	// stdbuf: qemu-io's reports must reach the pipe at once.
	cmd := exec.Command("stdbuf", "-oL", "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-nodefaults", "-no-user-config",
		"-display", "none", "-m", "64", "-device", "pcie-root-port,id=hp0,chassis=1",
		"-qmp", "unix:"+sock+",server=on,wait=off", "-qmp", "unix:"+sock2+",server=on,wait=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	g := &guest{t: t, cmd: cmd, qmp2: sock2, model: make([]byte, size)}
	cmd.Stdout = &g.stdout // HMP qemu-io prints there
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		c, err := qmp.Dial(ctx, sock)
		if err == nil {
			g.qmp = c
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("QEMU's monitor never answered: %v; %s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	err := g.qmp.Execute(ctx, "blockdev-add", map[string]any{"driver": "qcow2", "node-name": volNode,
		"file": map[string]any{"driver": "file", "filename": volume}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.qmp.DeviceAdd(ctx, "virtio-blk-pci", volDev, map[string]any{"drive": volNode, "bus": "hp0"}); err != nil {
		t.Fatal(err)
	}
	return g
}

func (g *guest) stop() {
	if g.cmd.ProcessState != nil {
		return
	}
	if g.qmp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		g.qmp.Quit(ctx)
		cancel()
		g.qmp.Close()
	}
	done := make(chan struct{})
	go func() { g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		g.cmd.Process.Kill()
		<-done
	}
}

// write writes n bytes of pattern b at off through the guest's device.
func (g *guest) write(off, n int64, b byte) {
	g.t.Helper()
	if err := g.tryWrite(off, n, b); err != nil {
		g.t.Fatal(err)
	}
}

func (g *guest) tryWrite(off, n int64, b byte) error {
	cmdline := fmt.Sprintf(`qemu-io -d %s "write -P 0x%02x %d %d"`, "/machine/peripheral/"+volDev+"/virtio-backend", b, off, n)
	var out string
	err := g.qmp.Execute(context.Background(), "human-monitor-command", map[string]string{"command-line": cmdline}, &out)
	if err != nil {
		return err
	}
	// qemu-io reports on QEMU's stdout, which may reach us after the reply.
	done := fmt.Sprintf("wrote %d/%d bytes at offset %d", n, n, off)
	for deadline := time.Now().Add(5 * time.Second); !g.stdout.contains(done); {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no %q on QEMU's stdout (monitor said %q)", cmdline, done, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if off+n <= int64(len(g.model)) {
		copy(g.model[off:off+n], bytes.Repeat([]byte{b}, int(n)))
	}
	return nil
}

// leftovers lists what a snapshot may add to QEMU and must remove.
func (g *guest) leftovers() []string {
	g.t.Helper()
	ctx := context.Background()
	var out []string
	names, err := g.qmp.BlockNodeNames(ctx)
	if err != nil {
		g.t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "ksnap") {
			out = append(out, "node "+n)
		}
	}
	var jobs, exports []map[string]any
	g.qmp.Execute(ctx, "query-jobs", nil, &jobs)
	g.qmp.Execute(ctx, "query-block-exports", nil, &exports)
	for _, j := range jobs {
		out = append(out, fmt.Sprint("job ", j["id"]))
	}
	for _, e := range exports {
		out = append(out, fmt.Sprint("export ", e["id"]))
	}
	return out
}

func (g *guest) bitmaps() []string {
	g.t.Helper()
	q := &QEMU{QMP: g.qmp, Node: volNode}
	bms, err := q.listBitmaps(context.Background())
	if err != nil {
		g.t.Fatal(err)
	}
	var names []string
	for _, b := range bms {
		names = append(names, b.Name)
	}
	slices.Sort(names)
	return names
}

// rawImage reads a qcow2 file's guest-visible bytes.
func rawImage(t testing.TB, path string) []byte {
	t.Helper()
	raw := filepath.Join(t.TempDir(), "raw")
	out, err := exec.Command("qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", path, raw).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img convert %s: %v: %s", path, err, out)
	}
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// snapshotBytes reads a stored snapshot back in full.
func snapshotBytes(t testing.TB, objs snapshot.Objects, m *snapshot.Manifest) []byte {
	t.Helper()
	buf := &memWriter{b: make([]byte, m.VolumeSize)}
	if err := (&snapshot.Store{Objects: objs}).ReadTo(context.Background(), m, buf); err != nil {
		t.Fatal(err)
	}
	return buf.b
}

type memWriter struct{ b []byte }

func (w *memWriter) WriteAt(p []byte, off int64) (int, error) { return copy(w.b[off:], p), nil }

func sameBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d bytes, want %d", what, len(got), len(want))
	}
	if sha256.Sum256(got) == sha256.Sum256(want) {
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s differs first at byte %d (chunk %d): %#x, want %#x", what, i, i/snapshot.DefaultChunkSize, got[i], want[i])
		}
	}
}
