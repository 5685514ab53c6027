package qemu_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
)

// The demo guest reboots cleanly on ctrl-alt-delete: its shutdown runs
// (marker on the console) before the next boot, and QEMU reports the
// guest's own RESET.
func TestRequestRebootIsClean(t *testing.T) {
	img := demoImage(t)
	s := demoSpec(t, img)
	inst, err := qemu.Driver{StopTimeout: 30 * time.Second}.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Stop(context.Background(), true) })
	log := s.RunDir + "/console.log"
	waitMarkers(t, log, demotest.Ready, 1, 90*time.Second)
	if err := inst.RequestReboot(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(60 * time.Second)
	for reset := false; !reset; {
		select {
		case ev, ok := <-inst.QMP().Events():
			if !ok {
				t.Fatal("monitor closed before the guest reset")
			}
			t.Logf("event %s %s", ev.Name, ev.Data)
			reset = qemu.IsGuestReset(ev)
		case <-deadline:
			b, _ := os.ReadFile(log)
			t.Fatalf("no guest RESET 60s after ctrl-alt-delete; console:\n%s", b)
		}
	}
	waitMarkers(t, log, demotest.Booted, 2, 90*time.Second)
	b, _ := qemu.ConsoleTail(log, qemu.ConsoleMax)
	ms := demotest.Parse(b)
	var order []string
	for _, m := range ms {
		if m.Event == demotest.Booted || m.Event == demotest.Shutdown {
			order = append(order, m.Event)
		}
	}
	if len(order) < 3 || order[0] != demotest.Booted || order[1] != demotest.Shutdown || order[2] != demotest.Booted {
		t.Fatalf("console markers %v: want booted, shutdown, booted (a clean reboot)", order)
	}
}
