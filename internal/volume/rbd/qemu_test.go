package rbd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/volume/rbd"
	"github.com/kumo-cloud/kumo/internal/volume/rbd/rbdtest"
)

// startQEMU runs a real, diskless QEMU under TCG (no guest OS: the block
// layer and QMP are what is tested) and returns a connection to its monitor.
func startQEMU(t *testing.T) *qmp.Conn {
	t.Helper()
	c, _ := runQEMU(t)
	return c
}

// runQEMU is startQEMU that also gives the process (to kill it).
func runQEMU(t *testing.T) (*qmp.Conn, *os.Process) {
	t.Helper()
	bin, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)")
	}
	if m, _ := filepath.Glob("/usr/lib/*/qemu/block-rbd.so"); len(m) == 0 {
		t.Skip("QEMU's rbd block driver is not installed (Debian: apt-get install qemu-block-extra)")
	}
	sock := filepath.Join(t.TempDir(), "qmp.sock")
	cmd := exec.Command(bin, "-machine", "q35", "-accel", "tcg", "-nodefaults", "-no-user-config",
		"-display", "none", "-m", "64", "-device", "pcie-root-port,id=hp0,chassis=1",
		"-qmp", "unix:"+sock+",server=on,wait=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// A clean quit closes the images: a killed QEMU's watch on an
		// image lingers for 30 s and keeps Delete from removing it.
		if c, err := qmp.Dial(context.Background(), sock); err == nil {
			c.Quit(context.Background())
			c.Close()
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("QEMU's stderr: %s", stderr.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		c, err := qmp.Dial(ctx, sock)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c, cmd.Process
		}
		if ctx.Err() != nil {
			t.Fatalf("QEMU's monitor never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// qemuIO runs a qemu-io command (HMP) on the device's block backend, as
// the guest's own writes would go, and fails the test on an error (HMP
// reports failures as text: a success prints "wrote ..."/"read ..." or
// nothing).
func qemuIO(t *testing.T, c *qmp.Conn, dev, cmd string) {
	t.Helper()
	line := fmt.Sprintf(`qemu-io -d /machine/peripheral/%s/virtio-backend "%s"`, dev, cmd)
	var out string
	if err := c.Execute(context.Background(), "human-monitor-command",
		map[string]string{"command-line": line}, &out); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if out != "" && !strings.HasPrefix(out, "wrote ") && !strings.HasPrefix(out, "read ") {
		t.Fatalf("%s: %s", line, out)
	}
}

// guestSize is the size the virtio-blk device's medium has in query-block.
func guestSize(t *testing.T, c *qmp.Conn, dev string) int64 {
	t.Helper()
	var bs []struct {
		QDev     string `json:"qdev"`
		Inserted *struct {
			Image struct {
				VirtualSize int64 `json:"virtual-size"`
			} `json:"image"`
		} `json:"inserted"`
	}
	if err := c.Execute(context.Background(), "query-block", nil, &bs); err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Inserted != nil && strings.Contains(b.QDev, dev) {
			return b.Inserted.Image.VirtualSize
		}
	}
	t.Fatalf("query-block has no device %s: %+v", dev, bs)
	return 0
}

// nodeSize is the size query-named-block-nodes gives the named node.
func nodeSize(t *testing.T, c *qmp.Conn, node string) int64 {
	t.Helper()
	var nodes []struct {
		NodeName string `json:"node-name"`
		Driver   string `json:"drv"`
		Image    struct {
			VirtualSize int64 `json:"virtual-size"`
		} `json:"image"`
	}
	if err := c.Execute(context.Background(), "query-named-block-nodes", map[string]bool{"flat": true}, &nodes); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.NodeName == node {
			return n.Image.VirtualSize
		}
	}
	t.Fatalf("no block node %s", node)
	return 0
}

// attach opens the volume in QEMU as the backend says and plugs it into a
// virtio-blk device with the volume's serial, as a node does.
func attach(t *testing.T, c *qmp.Conn, b *rbd.Backend, id string) (node, dev string) {
	t.Helper()
	ctx := ctxT(t)
	node, dev = "n"+id[4:], "d"+id[4:]
	if err := c.Execute(ctx, "blockdev-add", b.Blockdev(id, node), nil); err != nil {
		opts, _ := json.Marshal(b.Blockdev(id, node))
		t.Fatalf("blockdev-add %s: %v", opts, err)
	}
	err := c.DeviceAdd(ctx, "virtio-blk-pci", dev,
		map[string]any{"drive": node, "bus": "hp0", "serial": strings.ReplaceAll(id, "-", "")})
	if err != nil {
		t.Fatalf("device_add: %v", err)
	}
	return node, dev
}

// readAt reads n bytes at off of the volume's current data with rbd export.
func readAt(t *testing.T, r io.Reader, off, n int64) []byte {
	t.Helper()
	if _, err := io.CopyN(io.Discard, r, off); err != nil {
		t.Fatalf("skipping to %d: %v", off, err)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatalf("reading %d bytes at %d: %v", n, off, err)
	}
	return buf
}

func exportHead(t *testing.T, id string) io.Reader {
	t.Helper()
	cfg := rbdtest.Config(t)
	out, err := exec.Command("rbd", "--conf", cfg.Conf, "--id", cfg.User, "export", cfg.Pool+"/"+id, "-").Output()
	if err != nil {
		t.Fatalf("rbd export: %v", err)
	}
	return bytes.NewReader(out)
}

// TestQEMUWritesAndGrowsOnline: QEMU opens the image with what Blockdev
// gives, sees exactly its size, writes that rbd then reads back, and a
// grow (rbd resize, then QMP block_resize) reaches the device while open.
func TestQEMUWritesAndGrowsOnline(t *testing.T) {
	b, id := backend(t)
	c := startQEMU(t)
	ctx := ctxT(t)
	const size, grown = 32<<20 + 512, 48 << 20
	if err := b.Create(ctx, id, size); err != nil {
		t.Fatal(err)
	}
	node, dev := attach(t, c, b, id)
	if n := guestSize(t, c, dev); n != size {
		t.Fatalf("the device sees %d bytes, want exactly %d", n, size)
	}
	if n := nodeSize(t, c, node); n != size {
		t.Fatalf("query-named-block-nodes: %d bytes, want %d", n, size)
	}

	qemuIO(t, c, dev, "write -P 0xa5 1048576 65536")
	qemuIO(t, c, dev, "flush")
	got := readAt(t, exportHead(t, id), 1<<20, 64<<10)
	if !bytes.Equal(got, bytes.Repeat([]byte{0xa5}, 64<<10)) {
		t.Fatal("rbd export does not read back what QEMU wrote")
	}

	if err := b.Grow(ctx, id, grown); err != nil {
		t.Fatalf("grow while QEMU has the image open: %v", err)
	}
	err := c.Execute(ctx, "block_resize", map[string]any{"node-name": node, "size": grown}, nil)
	if err != nil {
		t.Fatalf("block_resize: %v", err)
	}
	if n := guestSize(t, c, dev); n != grown {
		t.Fatalf("after the online grow the device sees %d bytes, want %d", n, grown)
	}
	if n, err := b.Size(ctx, id); err != nil || n != grown {
		t.Fatalf("Size after the online grow = %d, %v; want %d", n, err, grown)
	}
	// The new space is usable at once.
	qemuIO(t, c, dev, fmt.Sprintf("write -P 0x5a %d 4096", grown-4096))
	qemuIO(t, c, dev, "flush")
	if got := readAt(t, exportHead(t, id), grown-4096, 4096); !bytes.Equal(got, bytes.Repeat([]byte{0x5a}, 4096)) {
		t.Fatal("rbd export does not read back what QEMU wrote in the grown space")
	}
	if err := b.Delete(ctx, id); err == nil {
		t.Fatal("Delete of a volume QEMU has open succeeded")
	}
}

// TestStorageDaemonServesANetworklessQEMU: guests run in their VPC's
// network namespace, where Ceph's monitors and OSDs are out of reach. A
// qemu-storage-daemon in the host's namespace opens the image with the
// same Blockdev arguments and serves it on a unix socket, which crosses
// namespaces; a QEMU with no network at all then writes to the volume.
func TestStorageDaemonServesANetworklessQEMU(t *testing.T) {
	b, id := backend(t)
	ctx := ctxT(t)
	qsd, err := exec.LookPath("qemu-storage-daemon")
	if err != nil {
		t.Skip("qemu-storage-daemon is not installed (Debian: qemu-system-common)")
	}
	if _, err := exec.LookPath("unshare"); err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and unshare (util-linux) for a namespace without network")
	}
	if err := b.Create(ctx, id, 8<<20); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opts, _ := json.Marshal(b.Blockdev(id, "vol"))
	sock := filepath.Join(dir, "nbd.sock")
	cmd := exec.Command(qsd, "--blockdev", string(opts),
		"--nbd-server", "addr.type=unix,addr.path="+sock,
		"--export", "type=nbd,id=e,node-name=vol,name=vol,writable=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }) // SIGINT: a clean close of the image
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i == 300 {
			t.Fatalf("qemu-storage-daemon never served %s: %s", sock, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := exec.Command("unshare", "--net", "qemu-io", "-f", "raw",
		"nbd+unix:///vol?socket="+sock, "-c", "write -P 0x6b 4096 4096", "-c", "flush").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "wrote 4096/4096") {
		t.Fatalf("qemu-io in a namespace without network: %v: %s", err, out)
	}
	if got := readAt(t, exportHead(t, id), 4096, 4096); !bytes.Equal(got, fill(0x6b, 4096)) {
		t.Fatal("rbd export does not read back what the networkless client wrote")
	}
}
