package nbd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serve runs a Server on a unix socket in a temp dir with the given
// exports and returns the socket's path.
func serve(t *testing.T, exports map[string]Export) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "nbd.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s := &Server{Open: func(_ context.Context, name string) (Export, func(), error) {
		e, ok := exports[name]
		if !ok {
			return nil, nil, errors.New("no such export")
		}
		return e, func() {}, nil
	}}
	go func() { defer close(done); s.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	return sock
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// QEMU's own NBD client (qemu-img) reads every byte of an export as it is.
func TestQEMUReadsExport(t *testing.T) {
	requireTool(t, "qemu-img")
	data := randomBytes(t, 8<<20+4096)
	sock := serve(t, map[string]Export{"snap-1": bytes.NewReader(data)})
	file := filepath.Join(t.TempDir(), "want.raw")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	url := "nbd+unix:///snap-1?socket=" + sock
	out, err := exec.Command("qemu-img", "compare", "-f", "raw", "-F", "raw", url, file).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img compare: %v\n%s", err, out)
	}
	out, err = exec.Command("qemu-img", "info", "--output=json", "nbd+unix:///nope?socket="+sock).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no such export") {
		t.Errorf("an unknown export opened: %v\n%s", err, out)
	}
}

// QEMU cannot write: the export is read-only, and a write is refused.
func TestQEMUCannotWrite(t *testing.T) {
	requireTool(t, "qemu-io")
	data := randomBytes(t, 1<<20)
	sock := serve(t, map[string]Export{"snap-1": bytes.NewReader(data)})
	out, err := exec.Command("qemu-io", "-f", "raw", "-c", "write -P 7 0 4k", "nbd+unix:///snap-1?socket="+sock).CombinedOutput()
	if err == nil && !strings.Contains(string(out), "read-only") && !strings.Contains(string(out), "Operation not permitted") {
		t.Fatalf("write accepted:\n%s", out)
	}
	c := dial(t, sock, "snap-1")
	c.send(t, cmdWrite, 1, 0, 4096)
	c.Write(make([]byte, 4096))
	if errno, _ := c.recv(t, 0); errno != errPerm {
		t.Errorf("write answered errno %d, want EPERM", errno)
	}
	if errno, _ := c.roundTrip(t, cmdRead, 2, 0, 4096); errno != 0 {
		t.Errorf("read after a refused write: errno %d", errno)
	}
}

// gated is an export whose reads at gateOff wait until gate is closed.
type gated struct {
	*bytes.Reader
	gateOff int64
	gate    chan struct{}
	waiting atomic.Bool
}

func (g *gated) ReadAt(p []byte, off int64) (int, error) {
	if off == g.gateOff {
		g.waiting.Store(true)
		<-g.gate
	}
	return g.Reader.ReadAt(p, off)
}

// A read that waits does not hold up later reads on the same connection;
// each reply carries its request's handle and bytes.
func TestSlowReadDoesNotBlockOthers(t *testing.T) {
	data := randomBytes(t, 1<<20)
	g := &gated{Reader: bytes.NewReader(data), gateOff: 0, gate: make(chan struct{})}
	c := dial(t, serve(t, map[string]Export{"x": g}), "x")
	c.send(t, cmdRead, 1, 0, 4096)
	for !g.waiting.Load() {
		time.Sleep(time.Millisecond)
	}
	c.send(t, cmdRead, 2, 8192, 4096)
	if errno, h := c.recv(t, 4096); errno != 0 || h.handle != 2 || !bytes.Equal(h.data, data[8192:8192+4096]) {
		t.Fatalf("second read: errno %d handle %d", errno, h.handle)
	}
	close(g.gate)
	if errno, h := c.recv(t, 4096); errno != 0 || h.handle != 1 || !bytes.Equal(h.data, data[:4096]) {
		t.Fatalf("first read: errno %d handle %d", errno, h.handle)
	}
	if errno, _ := c.roundTrip(t, cmdRead, 3, uint64(len(data))-100, 4096); errno != errInval {
		t.Errorf("read past the end: errno %d, want EINVAL", errno)
	}
}

// client is a minimal NBD client for protocol tests.
type client struct{ net.Conn }

type reply struct {
	handle uint64
	data   []byte
}

func dial(t *testing.T, sock, name string) *client {
	t.Helper()
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &client{nc}
	var hello [18]byte
	if _, err := io.ReadFull(c, hello[:]); err != nil || binary.BigEndian.Uint64(hello[:]) != magicInit {
		t.Fatalf("hello: %v", err)
	}
	binary.Write(c, binary.BigEndian, uint32(flagFixedNewstyle|flagNoZeroes))
	opt := binary.BigEndian.AppendUint32(nil, uint32(len(name)))
	opt = append(opt, name...)
	opt = binary.BigEndian.AppendUint16(opt, 0)
	hdr := binary.BigEndian.AppendUint64(nil, magicOpt)
	hdr = binary.BigEndian.AppendUint32(hdr, optGo)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(opt)))
	c.Write(append(hdr, opt...))
	for {
		var rep [20]byte
		if _, err := io.ReadFull(c, rep[:]); err != nil {
			t.Fatal(err)
		}
		data := make([]byte, binary.BigEndian.Uint32(rep[16:]))
		io.ReadFull(c, data)
		switch binary.BigEndian.Uint32(rep[12:]) {
		case repAck:
			return c
		case repInfo:
		default:
			t.Fatalf("GO refused: %x %s", rep[12:16], data)
		}
	}
}

func (c *client) send(t *testing.T, typ uint16, handle, off uint64, length uint32) {
	t.Helper()
	b := binary.BigEndian.AppendUint32(nil, magicRequest)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint64(b, handle)
	b = binary.BigEndian.AppendUint64(b, off)
	b = binary.BigEndian.AppendUint32(b, length)
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// recv reads one simple reply, with want bytes of data when it succeeded.
func (c *client) recv(t *testing.T, want int) (uint32, reply) {
	t.Helper()
	var h [16]byte
	if _, err := io.ReadFull(c, h[:]); err != nil || binary.BigEndian.Uint32(h[:]) != magicSimpleRep {
		t.Fatalf("reply: %v", err)
	}
	r := reply{handle: binary.BigEndian.Uint64(h[8:])}
	errno := binary.BigEndian.Uint32(h[4:])
	if errno == 0 && want > 0 {
		r.data = make([]byte, want)
		if _, err := io.ReadFull(c, r.data); err != nil {
			t.Fatal(err)
		}
	}
	return errno, r
}

func (c *client) roundTrip(t *testing.T, typ uint16, handle, off uint64, length uint32) (uint32, reply) {
	t.Helper()
	c.send(t, typ, handle, off, length)
	want := 0
	if typ == cmdRead {
		want = int(length)
	}
	return c.recv(t, want)
}
