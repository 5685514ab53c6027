package qemu

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/qmp/qmptest"
)

// fakeGuest is a run directory with a stand-in QEMU process (the test
// binary, blocked, with the pidfile on its command line) and a fake monitor.
func fakeGuest(t *testing.T) (*qmptest.Server, Spec, *exec.Cmd) {
	t.Helper()
	s := testSpec()
	s.RunDir = t.TempDir()
	if err := prepareRunDir(s); err != nil {
		t.Fatal(err)
	}
	srv := qmptest.NewAt(t, filepath.Join(s.RunDir, qmpSocket))
	cmd := exec.Command(os.Args[0], "-pidfile", filepath.Join(s.RunDir, pidFile))
	cmd.Env = append(os.Environ(), "KUMO_QEMU_TEST_FAKE_QEMU=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Right after exec the kernel may still show an empty command line
	// (the parent of a vfork resumes before the new image's arguments are
	// in place); a real QEMU writes its pidfile long after that.
	cmdline := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline"
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if b, _ := os.ReadFile(cmdline); strings.Contains(string(b), "-pidfile") {
			break
		}
	}
	pid := []byte(strconv.Itoa(cmd.Process.Pid) + "\n")
	if err := os.WriteFile(filepath.Join(s.RunDir, pidFile), pid, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, s, cmd
}

func TestStatusMapping(t *testing.T) {
	srv, s, _ := fakeGuest(t)
	inst, err := Driver{}.Attach(context.Background(), s.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	for qs, want := range map[string]State{
		qmp.StatusRunning: StateRunning, qmp.StatusPaused: StatePaused,
		qmp.StatusGuestPanicked: StateCrashed, qmp.StatusInternalError: StateCrashed,
		qmp.StatusShutdown: StateStopping, qmp.StatusPrelaunch: StateStarting,
	} {
		srv.SetStatus(qs)
		if got, err := inst.Status(context.Background()); err != nil || got != want {
			t.Errorf("QEMU status %s: %s, %v; want %s", qs, got, err, want)
		}
	}
}

// A guest that ignores the power button, in a QEMU that ignores quit, is
// killed after the stop timeout; the run directory is cleaned.
func TestStopEscalatesToKill(t *testing.T) {
	srv, s, _ := fakeGuest(t)
	inst, err := Driver{StopTimeout: 200 * time.Millisecond}.Attach(context.Background(), s.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := inst.Stop(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, c := range srv.Calls() {
		cmds = append(cmds, c.Command)
	}
	if b, _ := json.Marshal(cmds); string(b) != `["system_powerdown","quit"]` {
		t.Errorf("commands %s, want system_powerdown then quit", b)
	}
	if el := time.Since(start); el < 200*time.Millisecond+quitGrace || el > 10*time.Second {
		t.Errorf("stop took %v", el)
	}
	if !inst.Exited() {
		t.Error("the process survived Stop")
	}
	for _, name := range []string{qmpSocket, pidFile} {
		if _, err := os.Stat(filepath.Join(s.RunDir, name)); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", name, err)
		}
	}
}

func TestAttachRefusesStrangers(t *testing.T) {
	_, s, cmd := fakeGuest(t)
	// A pid that is alive but not this run directory's QEMU (pid reuse).
	other := []byte(strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(filepath.Join(s.RunDir, pidFile), other, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (Driver{}).Attach(context.Background(), s.RunDir); err == nil {
		t.Fatal("attached to a process that is not the guest's")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if alive(cmd.Process.Pid, s.RunDir) {
		t.Error("a dead process counts as alive")
	}
}
