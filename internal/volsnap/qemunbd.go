package volsnap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kumo-cloud/kumo/internal/volsnap/nbd"
)

// qemuNBD is a qemu-nbd process serving one qcow2 file on a unix socket.
// Its socket and pid file are named after the file, so that a retry finds
// and stops the server an interrupted attempt left running (it would hold
// the file's lock).
type qemuNBD struct {
	cmd            *exec.Cmd
	socket, pidDir string
	pidFile        string
	stderr         bytes.Buffer
	exited         chan error
}

func nbdPaths(tempDir, file string) (socket, pidFile string) {
	sum := sha256.Sum256([]byte(file))
	h := hex.EncodeToString(sum[:6])
	return filepath.Join(tempDir, "ksnap-"+h+".nbd"), filepath.Join(tempDir, "ksnap-"+h+".pid")
}

// stopLeftoverNBD kills a qemu-nbd an earlier attempt started for file.
func stopLeftoverNBD(tempDir, file string) {
	socket, pidFile := nbdPaths(tempDir, file)
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			// Only a qemu-nbd serving our socket: a recycled pid is left alone.
			if cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil &&
				bytes.Contains(cmdline, []byte(socket)) {
				syscall.Kill(pid, syscall.SIGKILL)
				waitExit(pid)
			}
		}
		os.Remove(pidFile)
	}
	os.Remove(socket)
}

func waitExit(pid int) {
	for range 200 {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
				return // a zombie of another parent: it holds no file any more
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startQemuNBD serves file (qcow2) on a socket in tempDir and connects to
// it, asking for metas. The server exits with its last client; it is also
// killed if this process dies first.
func startQemuNBD(ctx context.Context, tempDir, file string, readOnly bool, bitmap string, metas ...string) (*qemuNBD, *nbd.Client, error) {
	return startQemuNBDShared(ctx, tempDir, file, readOnly, 1, bitmap, metas...)
}

// startQemuNBDShared is startQemuNBD with room for shared clients in all
// (the caller dials the others with p.dial).
func startQemuNBDShared(ctx context.Context, tempDir, file string, readOnly bool, shared int, bitmap string, metas ...string) (*qemuNBD, *nbd.Client, error) {
	stopLeftoverNBD(tempDir, file)
	socket, pidFile := nbdPaths(tempDir, file)
	args := []string{"-f", "qcow2", "-k", socket, "-x", "vol", "--pid-file", pidFile, "--shared", strconv.Itoa(shared)}
	if readOnly {
		args = append(args, "-r")
	} else {
		args = append(args, "--discard=unmap", "--detect-zeroes=unmap")
	}
	if bitmap != "" {
		args = append(args, "-B", bitmap)
	}
	p := &qemuNBD{socket: socket, pidFile: pidFile}
	p.cmd = exec.Command("qemu-nbd", append(args, file)...)
	p.cmd.Stderr = &p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("qemu-nbd: %w", err)
	}
	p.exited = make(chan error, 1)
	go func() { p.exited <- p.cmd.Wait() }()
	for {
		c, err := nbd.Dial(ctx, socket, "vol", metas...)
		if err == nil {
			return p, c, nil
		}
		select {
		case werr := <-p.exited:
			return nil, nil, fmt.Errorf("qemu-nbd %s: %v: %s", file, werr, strings.TrimSpace(p.stderr.String()))
		case <-ctx.Done():
			p.kill()
			return nil, nil, fmt.Errorf("qemu-nbd %s: %w (last: %v)", file, ctx.Err(), err)
		case <-time.After(10 * time.Millisecond):
		}
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ECONNREFUSED) {
			p.kill() // the server answered, but not as an NBD server should
			return nil, nil, err
		}
	}
}

// dial opens another connection to the export.
func (p *qemuNBD) dial(ctx context.Context) (*nbd.Client, error) {
	return nbd.Dial(ctx, p.socket, "vol")
}

// kill stops the server (after its client is done, it exits by itself).
func (p *qemuNBD) kill() {
	p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
	os.Remove(p.socket)
	os.Remove(p.pidFile)
}
