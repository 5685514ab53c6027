package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// Errors a caller acts on.
var (
	ErrRunning    = errors.New("qemu: guest already running")
	ErrNotRunning = errors.New("qemu: guest not running")
)

// Default timeouts.
const (
	DefaultStopTimeout = 2 * time.Minute // ACPI power-down, before the kill
	dialTimeout        = 10 * time.Second
)

// Driver starts and finds guests. The zero value uses qemu-system-x86_64
// from PATH, KVM when /dev/kvm opens, and DefaultStopTimeout.
type Driver struct {
	Binary string // QEMU binary; "qemu-system-x86_64" when empty
	// Accelerator is the accelerator every guest gets, chosen once at
	// start-up (see Choose); empty: KVM when KVMUsable says so.
	Accelerator Accel
	KVMUsable   func() bool // accelerator check when no Accelerator; KVMUsable when nil
	StopTimeout time.Duration
}

// KVMUsable reports whether /dev/kvm can be opened for reading and writing.
func KVMUsable() bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// Accel is the accelerator the driver would use now.
func (d Driver) Accel() Accel {
	if d.Accelerator != "" {
		return d.Accelerator
	}
	probe := d.KVMUsable
	if probe == nil {
		probe = KVMUsable
	}
	if probe() {
		return AccelKVM
	}
	return AccelTCG
}

func (d Driver) binary() string {
	if d.Binary != "" {
		return d.Binary
	}
	return "qemu-system-x86_64"
}

func (d Driver) stopTimeout() time.Duration {
	if d.StopTimeout > 0 {
		return d.StopTimeout
	}
	return DefaultStopTimeout
}

// Start launches the guest daemonized and attaches to it. It fails with
// ErrRunning when the run directory's guest is already up.
func (d Driver) Start(ctx context.Context, s Spec) (*Instance, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if pid, err := readPID(s.RunDir); err == nil && alive(pid, s.RunDir) {
		return nil, fmt.Errorf("qemu: start %s: %w (pid %d)", s.ID, ErrRunning, pid)
	}
	if err := prepareRunDir(s); err != nil {
		return nil, fmt.Errorf("qemu: start %s: %w", s.ID, err)
	}
	if err := d.launch(ctx, s); err != nil {
		return nil, fmt.Errorf("qemu: start %s: %w", s.ID, err)
	}
	return d.Attach(ctx, s.RunDir)
}

// prepareRunDir creates the run directory, clears what a previous run left
// and records the Spec for Attach.
func prepareRunDir(s Spec) error {
	if err := os.MkdirAll(s.RunDir, 0o700); err != nil {
		return err
	}
	for _, name := range []string{qmpSocket, pidFile, errFile} {
		if err := os.Remove(filepath.Join(s.RunDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.RunDir, specFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.RunDir, specFile))
}

// launch runs QEMU, which forks the guest and exits once it is set up. Its
// stderr goes to a file (a pipe would be held open by the daemon).
func (d Driver) launch(ctx context.Context, s Spec) error {
	errPath := filepath.Join(s.RunDir, errFile)
	f, err := os.OpenFile(errPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, d.binary(), Args(s, d.Accel())...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := inNetns(s.Netns, cmd.Run); err != nil {
		msg, _ := os.ReadFile(errPath)
		return fmt.Errorf("%s: %w: %s", d.binary(), err, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Attach finds the guest of a run directory and connects to its monitor.
// It fails with ErrNotRunning when there is no live QEMU there.
func (d Driver) Attach(ctx context.Context, runDir string) (*Instance, error) {
	s, err := readSpec(runDir)
	if err != nil {
		return nil, fmt.Errorf("qemu: attach %s: %w", runDir, err)
	}
	s.RunDir = runDir // the directory may have been reached by another path
	pid, err := readPID(runDir)
	if err != nil || !alive(pid, runDir) {
		return nil, fmt.Errorf("qemu: attach %s: %w", runDir, ErrNotRunning)
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := qmp.Dial(ctx, filepath.Join(runDir, qmpSocket))
	if err != nil {
		return nil, fmt.Errorf("qemu: attach %s: %w", s.ID, err)
	}
	return &Instance{spec: s, pid: pid, conn: conn, stopTimeout: d.stopTimeout()}, nil
}

func readSpec(runDir string) (Spec, error) {
	var s Spec
	b, err := os.ReadFile(filepath.Join(runDir, specFile))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", specFile, err)
	}
	return s, nil
}
