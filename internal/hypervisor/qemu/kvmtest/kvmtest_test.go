package kvmtest

import (
	"os/exec"
	"syscall"
	"testing"
)

// The guard refuses outside a private mount namespace (so a caller that
// loses Wrap's CLONE_NEWNS never mounts over the host's /dev) and passes
// inside one. Only the guard runs here: nothing is mounted.
func TestGuardRefusesTheHostsNamespace(t *testing.T) {
	if !Available() {
		t.Skip("needs root")
	}
	host := exec.Command("/bin/sh", "-c", guard+"exit 0")
	if err := host.Run(); err == nil {
		t.Fatal("the guard let the script run in the host's mount namespace")
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 99 {
		t.Fatalf("guard in the host's namespace: %v, want exit 99", err)
	}
	private := exec.Command("/bin/sh", "-c", guard+"exit 0")
	private.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if out, err := private.CombinedOutput(); err != nil {
		t.Fatalf("guard in a private namespace: %v: %s", err, out)
	}
}

// Wrap keeps what the caller set in SysProcAttr and adds CLONE_NEWNS.
func TestWrapAddsMountNamespace(t *testing.T) {
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	Wrap(cmd, t.TempDir())
	if !cmd.SysProcAttr.Setpgid || cmd.SysProcAttr.Unshareflags&syscall.CLONE_NEWNS == 0 {
		t.Fatalf("SysProcAttr = %+v", cmd.SysProcAttr)
	}
}
