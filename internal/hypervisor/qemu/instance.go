package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// State is a guest's observed state.
type State string

// States.
const (
	StateRunning  State = "running"
	StatePaused   State = "paused"   // vCPUs stopped (by QMP stop, or an I/O error)
	StateCrashed  State = "crashed"  // guest panic or emulation error: reported, kept for inspection
	StateStopping State = "stopping" // the guest powered off; QEMU is exiting
	StateExited   State = "exited"   // no QEMU process any more
	StateStarting State = "starting" // any other QEMU run state (prelaunch, restore...)
)

// pollInterval is how often a stop checks whether QEMU has exited.
const pollInterval = 50 * time.Millisecond

// quitGrace is how long a forced stop waits for QMP quit before SIGKILL.
const quitGrace = 3 * time.Second

// Instance is a handle on one running guest. Closing it (or losing it with
// the agent) leaves the guest running.
type Instance struct {
	spec        Spec
	pid         int
	conn        *qmp.Conn
	stopTimeout time.Duration
	switched    atomic.Bool // the root disk left its NBD backing (SwitchBacking)
}

// Spec is what the guest was started with.
func (i *Instance) Spec() Spec { return i.spec }

// PID is QEMU's process id.
func (i *Instance) PID() int { return i.pid }

// QMP is the monitor connection, for device hot-plug and its events.
func (i *Instance) QMP() *qmp.Conn { return i.conn }

// Close drops the monitor connection; the guest keeps running.
func (i *Instance) Close() error { return i.conn.Close() }

// Exited reports whether QEMU is gone.
func (i *Instance) Exited() bool { return !alive(i.pid, i.spec.RunDir) }

// Status asks QEMU for the guest's run state.
func (i *Instance) Status(ctx context.Context) (State, error) {
	if i.Exited() {
		return StateExited, nil
	}
	st, err := i.conn.QueryStatus(ctx)
	if err != nil {
		if i.Exited() {
			return StateExited, nil
		}
		return "", fmt.Errorf("qemu: status %s: %w", i.spec.ID, err)
	}
	switch st.Status {
	case qmp.StatusRunning:
		return StateRunning, nil
	case qmp.StatusPaused, qmp.StatusIOError, "suspended":
		return StatePaused, nil
	case qmp.StatusGuestPanicked, qmp.StatusInternalError:
		return StateCrashed, nil
	case qmp.StatusShutdown:
		return StateStopping, nil
	}
	return StateStarting, nil
}

// RequestReboot asks the guest's OS to reboot: ctrl-alt-delete on its
// keyboard, which Linux init turns into a clean reboot (its shutdown runs
// first). The guest may ignore it: the caller watches for the guest's own
// RESET event (IsGuestReset) and falls back to Reboot.
func (i *Instance) RequestReboot(ctx context.Context) error {
	if err := i.conn.CtrlAltDelete(ctx); err != nil {
		return fmt.Errorf("qemu: request reboot %s: %w", i.spec.ID, err)
	}
	return nil
}

// IsGuestReset reports whether a QMP event is the guest resetting itself
// (its OS rebooted; not a reset asked over QMP).
func IsGuestReset(ev qmp.Event) bool {
	if ev.Name != "RESET" {
		return false
	}
	var data struct {
		Guest bool `json:"guest"`
	}
	return json.Unmarshal(ev.Data, &data) == nil && data.Guest
}

// Reboot resets the guest (a hardware reset: the guest is not asked).
func (i *Instance) Reboot(ctx context.Context) error {
	if err := i.conn.SystemReset(ctx); err != nil {
		return fmt.Errorf("qemu: reboot %s: %w", i.spec.ID, err)
	}
	return nil
}

// Stop shuts the guest down: the ACPI power button first, then after the
// driver's StopTimeout (at once when force) QMP quit, then SIGKILL. It
// returns when QEMU has exited, and cleans the run directory.
func (i *Instance) Stop(ctx context.Context, force bool) error {
	if !force {
		err := i.conn.SystemPowerdown(ctx)
		if err == nil && i.waitFor(ctx, i.stopTimeout) {
			return i.Cleanup()
		}
		if ctx.Err() != nil {
			return fmt.Errorf("qemu: stop %s: %w", i.spec.ID, ctx.Err())
		}
	}
	if err := i.kill(ctx); err != nil {
		return fmt.Errorf("qemu: stop %s: %w", i.spec.ID, err)
	}
	return i.Cleanup()
}

// kill makes QEMU exit: QMP quit, then SIGKILL when it does not.
func (i *Instance) kill(ctx context.Context) error {
	qctx, cancel := context.WithTimeout(ctx, quitGrace)
	defer cancel()
	if i.conn.Quit(qctx) == nil && i.waitFor(ctx, quitGrace) {
		return nil
	}
	if err := kill(i.pid, i.spec.RunDir); err != nil {
		return err
	}
	if !i.waitFor(ctx, quitGrace) {
		return errors.New("qemu still alive after SIGKILL")
	}
	return nil
}

// Wait blocks until QEMU exits (the guest powered off) or ctx ends.
func (i *Instance) Wait(ctx context.Context) error {
	for !i.Exited() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("qemu: wait %s: %w", i.spec.ID, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
	return nil
}

// waitFor waits up to d for QEMU to exit and reports whether it did.
func (i *Instance) waitFor(ctx context.Context, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return i.Wait(ctx) == nil
}

// Cleanup closes the monitor and removes the socket and pidfile of an
// exited guest; the console log and spec.json stay (the console outlives a
// stop, as GetConsoleOutput's does).
func (i *Instance) Cleanup() error {
	if !i.Exited() {
		return fmt.Errorf("qemu: cleanup %s: %w", i.spec.ID, ErrRunning)
	}
	i.conn.Close()
	for _, name := range []string{qmpSocket, pidFile} {
		err := os.Remove(filepath.Join(i.spec.RunDir, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("qemu: cleanup %s: %w", i.spec.ID, err)
		}
	}
	return nil
}
