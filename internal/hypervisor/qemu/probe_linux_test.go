package qemu_test

// The accelerator choice as a node makes it at start-up, on a host whose
// /dev/kvm opens but runs no guest (a private mount namespace where
// /dev/kvm is /dev/null: kvmtest), with the real QEMU and with fake QEMUs
// that hang or abort the way QEMU does under nested virtualisation.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu/kvmtest"
)

// chooseEnv makes the test binary run Driver.Choose once and print the
// outcome as JSON (in the mount namespace kvmtest made).
const chooseEnv = "KUMO_QEMU_TEST_CHOOSE"

type chooseRequest struct {
	Binary  string
	Mode    string
	Timeout time.Duration
}

type chooseResult struct {
	Choice  qemu.Choice
	Err     string
	Elapsed time.Duration
}

func runChoose(req string) int {
	var r chooseRequest
	if err := json.Unmarshal([]byte(req), &r); err != nil {
		fmt.Println(err)
		return 1
	}
	start := time.Now()
	c, err := qemu.Driver{Binary: r.Binary}.Choose(context.Background(), r.Mode, r.Timeout)
	out := chooseResult{Choice: c, Elapsed: time.Since(start)}
	if err != nil {
		out.Err = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// chooseWithBrokenKVM runs Choose in a child whose /dev/kvm is /dev/null.
func chooseWithBrokenKVM(t *testing.T, req chooseRequest) chooseResult {
	t.Helper()
	if !kvmtest.Available() {
		t.Skip("needs root (a mount namespace with a fake /dev/kvm)")
	}
	b, _ := json.Marshal(req)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), chooseEnv+"="+string(b))
	kvmtest.Wrap(cmd, t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	var res chooseResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	t.Logf("choice %+v, err %q, in %v", res.Choice, res.Err, res.Elapsed)
	return res
}

// fakeQEMU writes an executable script standing in for QEMU.
func fakeQEMU(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "qemu-system-x86_64")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// msrAbort is what QEMU 7.2 prints under nested virtualisation with
// -cpu host before it aborts.
const msrAbort = `echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x2000000fd" >&2
echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3009: kvm_buf_set_msrs: Assertion \` + "`" + `ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
kill -ABRT $$`

func TestChooseFallsBackToTCGWhenKVMOpensButFails(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)")
	}
	res := chooseWithBrokenKVM(t, chooseRequest{Mode: qemu.ChooseAuto})
	if res.Err != "" || res.Choice.Accel != qemu.AccelTCG {
		t.Fatalf("choice %+v, %q: want tcg", res.Choice, res.Err)
	}
	if !strings.Contains(res.Choice.Reason, "failed to initialize kvm") {
		t.Fatalf("reason %q does not carry QEMU's own message", res.Choice.Reason)
	}
}

func TestChooseGivesUpOnAHangingProbe(t *testing.T) {
	bin := fakeQEMU(t, "sleep 600 & wait") // a child holding the output open, too
	res := chooseWithBrokenKVM(t, chooseRequest{Binary: bin, Mode: qemu.ChooseAuto, Timeout: 2 * time.Second})
	if res.Err != "" || res.Choice.Accel != qemu.AccelTCG || !strings.Contains(res.Choice.Reason, "no sign of life in 2s") {
		t.Fatalf("choice %+v, %q: want tcg after the probe's timeout", res.Choice, res.Err)
	}
	if res.Elapsed > 6*time.Second {
		t.Fatalf("the probe took %v with a 2s timeout", res.Elapsed)
	}
}

func TestChooseReportsQEMUsMSRAbort(t *testing.T) {
	res := chooseWithBrokenKVM(t, chooseRequest{Binary: fakeQEMU(t, msrAbort), Mode: qemu.ChooseAuto})
	if res.Err != "" || res.Choice.Accel != qemu.AccelTCG || !strings.Contains(res.Choice.Reason, "failed to set MSR 0x10a") {
		t.Fatalf("choice %+v, %q: want tcg with QEMU's MSR message", res.Choice, res.Err)
	}
}

func TestChooseKVMRequiredFailsClearly(t *testing.T) {
	res := chooseWithBrokenKVM(t, chooseRequest{Binary: fakeQEMU(t, msrAbort), Mode: qemu.ChooseKVM})
	if res.Err == "" || !strings.Contains(res.Err, "--accel kvm") || !strings.Contains(res.Err, "failed to set MSR 0x10a") {
		t.Fatalf("choice %+v, err %q: want a clear error naming --accel kvm and QEMU's message", res.Choice, res.Err)
	}
}

func TestChooseTCGNeverTriesKVM(t *testing.T) {
	ran := filepath.Join(t.TempDir(), "ran")
	bin := fakeQEMU(t, "touch "+ran+"; exit 1")
	c, err := qemu.Driver{Binary: bin}.Choose(context.Background(), qemu.ChooseTCG, time.Second)
	if err != nil || c.Accel != qemu.AccelTCG {
		t.Fatalf("Choose(tcg) = %+v, %v", c, err)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Fatal("--accel tcg ran QEMU to probe KVM")
	}
	if _, err := (qemu.Driver{Binary: bin}).Choose(context.Background(), "xen", time.Second); err == nil {
		t.Fatal("Choose(xen) succeeded")
	}
}

func TestChooseWithoutDevKVM(t *testing.T) {
	if _, err := os.Stat("/dev/kvm"); err == nil {
		t.Skip("this host has /dev/kvm")
	}
	c, err := qemu.Driver{}.Choose(context.Background(), qemu.ChooseAuto, time.Second)
	if err != nil || c.Accel != qemu.AccelTCG || !strings.Contains(c.Reason, "/dev/kvm") {
		t.Fatalf("Choose(auto) without /dev/kvm = %+v, %v", c, err)
	}
	if _, err := (qemu.Driver{}).Choose(context.Background(), qemu.ChooseKVM, time.Second); err == nil || !strings.Contains(err.Error(), "/dev/kvm") {
		t.Fatalf("Choose(kvm) without /dev/kvm: %v", err)
	}
}
