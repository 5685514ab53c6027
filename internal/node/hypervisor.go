package node

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/qmp"
)

// QEMU adapts a qemu.Driver to Hypervisor.
type QEMU struct{ Driver qemu.Driver }

// Accel implements Hypervisor.
func (q QEMU) Accel() qemu.Accel { return q.Driver.Accel() }

// Start implements Hypervisor.
func (q QEMU) Start(ctx context.Context, s qemu.Spec) (Guest, error) {
	inst, err := q.Driver.Start(ctx, s)
	if err != nil {
		return nil, err
	}
	return watch(inst), nil
}

// Attach implements Hypervisor.
func (q QEMU) Attach(ctx context.Context, runDir string) (Guest, error) {
	inst, err := q.Driver.Attach(ctx, runDir)
	if err != nil {
		return nil, err
	}
	return watch(inst), nil
}

// qemuGuest is a qemu.Instance whose QMP events are watched for the
// guest's own power-off.
type qemuGuest struct {
	*qemu.Instance
	poweredOff  atomic.Bool
	guestResets atomic.Int64  // RESET events of the guest's own (its OS rebooted)
	finished    chan struct{} // closed when the monitor closed and its events were read
}

func watch(inst *qemu.Instance) *qemuGuest {
	g := &qemuGuest{Instance: inst, finished: make(chan struct{})}
	go g.watchEvents(inst.QMP())
	return g
}

// watchEvents drains the monitor's events until the connection ends,
// noting a SHUTDOWN the guest asked for (poweroff, ACPI power-off). The
// events channel is closed when the connection ends, which ends the loop
// (a receive from the closed channel must never be taken for an event: it
// is always ready, and a loop on it spins a core forever).
func (g *qemuGuest) watchEvents(conn *qmp.Conn) {
	defer close(g.finished)
	for ev := range conn.Events() {
		g.note(ev)
	}
}

func (g *qemuGuest) note(ev qmp.Event) {
	if qemu.IsGuestReset(ev) {
		g.guestResets.Add(1)
		return
	}
	if ev.Name != "SHUTDOWN" {
		return
	}
	var data struct {
		Guest bool `json:"guest"`
	}
	if json.Unmarshal(ev.Data, &data) == nil && data.Guest {
		g.poweredOff.Store(true)
	}
}

// GuestResets implements Guest.
func (g *qemuGuest) GuestResets() int64 { return g.guestResets.Load() }

// PoweredOff implements Guest. Once QEMU is gone it waits (briefly) for
// the monitor's last events to be read.
func (g *qemuGuest) PoweredOff() bool {
	if g.Exited() {
		select {
		case <-g.finished:
		case <-time.After(2 * time.Second):
		}
	}
	return g.poweredOff.Load()
}
