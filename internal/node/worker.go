package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// Files of an instance directory besides QEMU's run-directory files.
const (
	rootDiskFile  = "root.qcow2"
	rebootSeqFile = "reboot-seq"
	consoleFile   = "console.log"
	pidFileName   = "qemu.pid" // qemu's; present after QEMU exited without a Cleanup
	specFileName  = "spec.json"
)

// worker reconciles one instance. Its exported view (spec and status) is
// guarded by mu; the guest handle belongs to the worker's goroutine.
type worker struct {
	a    *agent
	id   string
	dir  string
	wake chan struct{}
	stop context.CancelFunc
	done chan struct{}

	mu    sync.Mutex
	spec  *nodeapi.InstanceSpec // the last desired spec; nil until the server names it
	st    nodeapi.InstanceStatus
	abort context.CancelFunc // ends a graceful stop in progress

	guest    Guest
	reattach bool // a live guest whose monitor could not be reached yet
	halted   bool // the guest went off (or failed) by itself while meant to run: wait for the server
	netReady bool // DHCP and IMDS serve this instance's subnet in this process

	// The guest whose further interfaces were last found to be those of
	// nicsKey (see syncNICs); after a failed round towards nicsTried, the
	// next waits until nicsAfter.
	nicsFor   Guest
	nicsKey   string
	nicsTried string
	nicsAfter time.Time
	// replug holds further interfaces whose tap was re-made under the
	// running guest (guarded by mu): syncNICs plugs them again.
	replug map[string]bool

	// volsClean is the guest last found with no volume while the spec
	// named none: it is not asked again until the spec names one.
	volsClean Guest

	// reboot is a reboot the guest's OS was asked for and has not done yet.
	reboot *pendingReboot
}

// pendingReboot is a clean reboot asked of a guest.
type pendingReboot struct {
	guest    Guest
	seq      int64     // the reboot request carried out when it is done
	resets   int64     // the guest's own resets when it was asked
	deadline time.Time // then a hard reset
}

func newWorker(a *agent, id string) *worker {
	return &worker{a: a, id: id, dir: filepath.Join(a.instancesDir(), id), wake: make(chan struct{}, 1),
		done: make(chan struct{}), st: nodeapi.InstanceStatus{ID: id, State: nodeapi.ObservedStopped}}
}

// setDesired records the server's latest spec and wakes the worker.
func (w *worker) setDesired(s nodeapi.InstanceSpec) {
	w.mu.Lock()
	w.spec = &s
	if w.abort != nil && (s.ForceStop || s.Power == nodeapi.PowerTerminated) {
		w.abort() // a forced stop or a termination does not wait for the guest
	}
	w.mu.Unlock()
	w.poke()
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) desired() *nodeapi.InstanceSpec {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.spec
}

func (w *worker) status() nodeapi.InstanceStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}

// set changes the observed state and tells the reporter when it changed.
func (w *worker) set(state nodeapi.Observed, reason string) {
	w.mu.Lock()
	changed := w.st.State != state || w.st.Reason != reason
	w.st.State, w.st.Reason = state, reason
	if state == nodeapi.ObservedRunning && changed {
		w.st.BootedAt = w.a.now()
	}
	w.mu.Unlock()
	if changed {
		w.a.log.Info("instance state", "instance", w.id, "state", state, "reason", reason)
		w.a.notify()
	}
}

// run reconciles until ctx ends; the guest keeps running after.
func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.a.poll())
	defer t.Stop()
	for {
		w.reconcile(ctx)
		select {
		case <-ctx.Done():
			if w.guest != nil {
				w.guest.Close()
			}
			return
		case <-w.wake:
		case <-t.C:
		}
	}
}

// recover finds a guest left by a previous agent in the instance directory.
func (w *worker) recover(ctx context.Context) {
	w.st.RebootSeq = readSeq(filepath.Join(w.dir, rebootSeqFile))
	w.st.State = nodeapi.ObservedStopped
	w.attach(ctx)
}

// attach reattaches the instance directory's guest, if it runs.
func (w *worker) attach(ctx context.Context) {
	g, err := w.a.cfg.Driver.Attach(ctx, w.dir)
	w.reattach = false
	switch {
	case err == nil:
		w.guest = g
		w.set(nodeapi.ObservedRunning, "")
		w.a.log.Info("reattached guest", "instance", w.id, "pid", g.PID())
	case !errors.Is(err, qemu.ErrNotRunning):
		// QEMU runs but its monitor did not answer: try again later,
		// and never start a second QEMU meanwhile.
		w.reattach = true
		w.a.log.Warn("reattach guest", "instance", w.id, "err", err)
	case exists(filepath.Join(w.dir, pidFileName)) && exists(filepath.Join(w.dir, specFileName)):
		// QEMU ended while no agent watched (the guest powered off, or
		// the host rebooted): do not start it again by ourselves.
		w.halted = true
		w.set(nodeapi.ObservedShutdown, "")
	}
}

func (w *worker) reconcile(ctx context.Context) {
	if w.reattach {
		if w.attach(ctx); w.reattach {
			return
		}
	}
	spec := w.desired()
	w.observe(ctx, spec)
	if w.reattach || spec == nil || w.status().State == nodeapi.ObservedDeleted {
		return
	}
	switch spec.Power {
	case nodeapi.PowerRunning:
		w.ensureRunning(ctx, spec)
	case nodeapi.PowerStopped:
		w.halted = false
		// A crashed guest cannot handle the power button.
		force := spec.ForceStop || w.status().State == nodeapi.ObservedCrashed
		if w.stopGuest(ctx, force) {
			w.set(nodeapi.ObservedStopped, "")
			w.syncVolumes(ctx, spec)
		}
		w.skipReboots(spec)
	case nodeapi.PowerTerminated:
		w.terminate(ctx, spec)
	}
}

// observe follows the guest: a QEMU gone or crashed by itself.
func (w *worker) observe(ctx context.Context, spec *nodeapi.InstanceSpec) {
	if w.guest == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := w.guest.Status(sctx)
	if err != nil {
		// The monitor broke while QEMU lives on: connect to it again.
		w.a.log.Warn("guest status; reattaching", "instance", w.id, "err", err)
		w.guest.Close()
		w.guest, w.reattach = nil, true
		return
	}
	switch st {
	case qemu.StateExited:
		off := w.guest.PoweredOff()
		if err := w.guest.Cleanup(); err != nil {
			w.a.log.Warn("clean up exited guest", "instance", w.id, "err", err)
		}
		w.guest = nil
		w.halted = true
		if off {
			w.set(nodeapi.ObservedShutdown, "")
		} else {
			w.set(nodeapi.ObservedCrashed, "QEMU exited unexpectedly")
		}
	case qemu.StateCrashed:
		w.set(nodeapi.ObservedCrashed, "the guest panicked or hit an emulation error")
	case qemu.StateStopping:
		w.set(nodeapi.ObservedShutdown, "")
	default:
		if spec == nil || spec.Power == nodeapi.PowerRunning {
			w.set(nodeapi.ObservedRunning, "")
		}
	}
}

func (w *worker) ensureRunning(ctx context.Context, spec *nodeapi.InstanceSpec) {
	if w.guest == nil {
		if !w.halted {
			w.start(ctx, spec)
		}
		w.syncVolumes(ctx, spec)
		return
	}
	if !w.netReady {
		w.a.vpcMu.RLock()
		_, err := w.a.ensureNetwork(ctx, spec)
		w.a.vpcMu.RUnlock()
		if err != nil {
			w.a.log.Warn("network services", "instance", w.id, "err", err)
		} else {
			w.netReady = true
		}
	}
	w.syncNICs(ctx, spec)
	w.syncVolumes(ctx, spec)
	w.switchBacking(ctx)
	w.rebootGuest(ctx, spec)
}

// rebootGuest carries out reboot requests as EC2 does: the guest's OS is
// asked to reboot (ctrl-alt-delete), and the guest is reset only when it
// has not rebooted after the reboot timeout (or cannot be asked).
func (w *worker) rebootGuest(ctx context.Context, spec *nodeapi.InstanceSpec) {
	if p := w.reboot; p != nil && p.guest != w.guest {
		w.reboot = nil // that guest is gone
	}
	if p := w.reboot; p != nil {
		seq := max(p.seq, spec.RebootSeq)
		switch {
		case w.guest.GuestResets() > p.resets:
			w.reboot = nil
			w.a.log.Info("rebooted by the guest's OS", "instance", w.id, "seq", seq)
			w.doneReboot(seq, true)
		case !w.a.now().Before(p.deadline):
			w.hardReboot(ctx, seq, "the guest did not reboot within "+w.rebootTimeout().String()+" of the request")
		}
		return
	}
	if spec.RebootSeq <= w.status().RebootSeq {
		return
	}
	resets := w.guest.GuestResets()
	if err := w.guest.RequestReboot(ctx); err != nil {
		w.hardReboot(ctx, spec.RebootSeq, "the guest could not be asked to reboot: "+err.Error())
		return
	}
	w.a.log.Info("reboot: asked the guest's OS (ctrl-alt-delete)", "instance", w.id, "seq", spec.RebootSeq, "resetAfter", w.rebootTimeout())
	w.reboot = &pendingReboot{guest: w.guest, seq: spec.RebootSeq, resets: resets, deadline: w.a.now().Add(w.rebootTimeout())}
}

// hardReboot resets the guest (a hardware reset) for reboot request seq.
func (w *worker) hardReboot(ctx context.Context, seq int64, why string) {
	if err := w.guest.Reboot(ctx); err != nil {
		w.a.log.Warn("reboot", "instance", w.id, "err", err)
		return
	}
	w.reboot = nil
	w.a.log.Warn("rebooted by a hard reset", "instance", w.id, "seq", seq, "why", why)
	w.doneReboot(seq, true)
}

func (w *worker) rebootTimeout() time.Duration {
	if w.a.cfg.RebootTimeout > 0 {
		return w.a.cfg.RebootTimeout
	}
	return DefaultRebootTimeout
}

// skipReboots marks reboot requests of a guest that is not running as done:
// there is nothing to reboot.
func (w *worker) skipReboots(spec *nodeapi.InstanceSpec) {
	w.reboot = nil
	if spec.RebootSeq > w.status().RebootSeq {
		w.doneReboot(spec.RebootSeq, false)
	}
}

func (w *worker) doneReboot(seq int64, booted bool) {
	w.mu.Lock()
	w.st.RebootSeq = seq
	if booted {
		w.st.BootedAt = w.a.now()
	}
	w.mu.Unlock()
	if err := os.WriteFile(filepath.Join(w.dir, rebootSeqFile), []byte(strconv.FormatInt(seq, 10)), 0o600); err != nil {
		w.a.log.Warn("record reboot", "instance", w.id, "err", err)
	}
	w.a.notify()
}

func (w *worker) start(ctx context.Context, spec *nodeapi.InstanceSpec) {
	w.set(nodeapi.ObservedStarting, "")
	s, err := w.a.prepare(ctx, w.dir, spec)
	s.HotplugSlots = volumeSlots
	if err == nil {
		w.netReady = w.a.cfg.Network != nil
		w.guest, err = w.a.cfg.Driver.Start(ctx, s)
		if errors.Is(err, qemu.ErrRunning) {
			w.guest, err = w.a.cfg.Driver.Attach(ctx, w.dir)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return // the agent is stopping; the next one retries
		}
		w.halted = true
		w.set(nodeapi.ObservedFailed, reason(err))
		return
	}
	w.doneReboot(spec.RebootSeq, false)
	w.set(nodeapi.ObservedRunning, "")
}

// stopGuest stops the guest if there is one and reports whether it is off.
func (w *worker) stopGuest(ctx context.Context, force bool) bool {
	if w.guest == nil {
		return true
	}
	if !force {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		w.mu.Lock()
		w.abort = cancel
		w.mu.Unlock()
		defer func() {
			w.mu.Lock()
			w.abort = nil
			w.mu.Unlock()
			cancel()
		}()
	}
	if err := w.guest.Stop(ctx, force); err != nil {
		w.a.log.Warn("stop", "instance", w.id, "err", err)
		return false
	}
	w.guest = nil
	return true
}

func (w *worker) terminate(ctx context.Context, spec *nodeapi.InstanceSpec) {
	if !w.stopGuest(ctx, true) {
		return
	}
	if w.a.cfg.Network != nil && spec.Network.VPCID != "" {
		err := w.a.cfg.Network.DeleteTap(ctx, spec.Network.VPCID, w.id)
		if err == nil {
			err = w.deleteExtraTaps(ctx, spec)
		}
		if err != nil {
			w.a.log.Warn("delete tap", "instance", w.id, "err", err)
			return
		}
	}
	if err := os.RemoveAll(w.dir); err != nil {
		w.a.log.Warn("delete instance dir", "instance", w.id, "err", err)
		return
	}
	w.detachAll(spec)
	w.set(nodeapi.ObservedDeleted, "")
	w.a.dropVPC(ctx, spec.Network.VPCID)
}

// reason is an error as a person reads it in the instance's state reason.
func reason(err error) string {
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return strings.TrimSpace(msg)
}

func readSeq(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
