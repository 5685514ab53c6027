// Package qemuimg is a small typed wrapper around the qemu-img tool: it
// inspects, checks, converts, creates and resizes disk images.
//
// Untrusted images (user uploads) are handled defensively: qemu-img never
// probes a format (Detect reads magic bytes in Go; -f is always passed, as
// probing a guest-writable raw image is a known hole), images naming
// backing or external data files (qcow2 data-file, vmdk extents) are refused,
// paths are made absolute so a name like "json:{...}" or "nbd:host" is never
// taken for a qemu protocol, virtual sizes are capped, and info/check run
// under prlimit(1) CPU and memory limits when prlimit is installed.
package qemuimg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// DefaultMaxVirtualSize is the largest image accepted unless Tool says
// otherwise: 2 TiB.
const DefaultMaxVirtualSize = 2 << 40

// Limits applied through prlimit(1) to qemu-img runs that parse untrusted
// metadata (info, check): crafted images can make qemu-img allocate or spin.
const (
	limitAddressSpace = 1 << 30 // bytes
	limitCPUSeconds   = 60
)

// Tool runs qemu-img. The zero value uses qemu-img and prlimit from PATH
// and the default size limit.
type Tool struct {
	// Path is the qemu-img binary; "" means "qemu-img" from PATH.
	Path string
	// MaxVirtualSize refuses larger images in Info and Convert; 0 means
	// DefaultMaxVirtualSize.
	MaxVirtualSize int64
	// Prlimit is the prlimit(1) binary used to cap info and check; "" means
	// "prlimit" from PATH when present, "-" disables the limits.
	Prlimit string
}

var _ Images = Tool{}

func (t Tool) binary() string {
	if t.Path == "" {
		return "qemu-img"
	}
	return t.Path
}

func (t Tool) maxSize() int64 {
	if t.MaxVirtualSize <= 0 {
		return DefaultMaxVirtualSize
	}
	return t.MaxVirtualSize
}

// argv is the command line for qemu-img args, behind prlimit when limited.
func (t Tool) argv(limited bool, args ...string) []string {
	cmd := append([]string{t.binary()}, args...)
	if !limited || t.Prlimit == "-" {
		return cmd
	}
	pl := t.Prlimit
	if pl == "" {
		found, err := exec.LookPath("prlimit")
		if err != nil {
			return cmd
		}
		pl = found
	}
	return append([]string{pl,
		"--as=" + strconv.Itoa(limitAddressSpace),
		"--cpu=" + strconv.Itoa(limitCPUSeconds), "--"}, cmd...)
}

// command builds the process; a cancelled context kills it (SIGKILL) and
// Wait gives up on its pipes shortly after.
func (t Tool) command(ctx context.Context, argv []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run executes qemu-img and returns its stdout (at most maxOut bytes).
func (t Tool) run(ctx context.Context, op, path string, limited bool, args ...string) ([]byte, error) {
	var stdout, stderr cappedBuffer
	stdout.max, stderr.max = maxOut, maxErr
	cmd := t.command(ctx, t.argv(limited, args...))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), t.fail(ctx, op, path, stderr.Bytes(), err)
	}
	if stdout.overflow {
		return nil, &Error{Op: op, Path: path, Err: errors.New("output too large")}
	}
	return stdout.Bytes(), nil
}

// fail wraps a failed run; a cancelled context wins over the exit status.
func (t Tool) fail(ctx context.Context, op, path string, stderr []byte, err error) error {
	if ctx.Err() != nil {
		return &Error{Op: op, Path: path, Err: context.Cause(ctx)}
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return &Error{Op: op, Path: path, Err: fmt.Errorf("run %s: %w", t.binary(), err)}
	}
	return &Error{Op: op, Path: path, Stderr: summarize(stderr), Err: err}
}

// absPath makes p absolute, so qemu-img reads it as a plain file: a name
// with a ':' before any '/' ("json:{...}", "nbd:host:1") is otherwise a
// protocol.
func absPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("path %s: %w", p, err)
	}
	return a, nil
}

const (
	maxOut = 1 << 20
	maxErr = 64 << 10
)

// cappedBuffer keeps the first max bytes written and drops the rest.
type cappedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.Len()
	if len(p) > room {
		b.overflow = true
		b.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
