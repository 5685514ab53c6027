package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Accelerator choices of `kumo node --accel`.
const (
	ChooseAuto = "auto" // KVM when a probe guest runs under it, else TCG
	ChooseKVM  = "kvm"  // KVM, or fail when the probe guest does not run
	ChooseTCG  = "tcg"  // TCG, KVM never tried
)

// DefaultProbeTimeout bounds the probe guest: it runs in well under a
// second under KVM; a guest that hangs (nested virtualisation without the
// CPU features QEMU asks for) is given up on after it.
const DefaultProbeTimeout = 10 * time.Second

// probeMarker is what the probe guest writes to its serial port.
const probeMarker = "KUMO-PROBE-OK"

// probeExitCode is QEMU's exit status when the probe guest writes 0x10 to
// isa-debug-exit: (0x10 << 1) | 1.
const probeExitCode = 0x21

// Choice is the accelerator chosen at start-up and why.
type Choice struct {
	Accel  Accel
	Reason string // what the probe found, for people: "kvm probe guest ran in 120ms", "…: failed to set MSR 0x10a"
}

// Choose picks the accelerator for mode (ChooseAuto, ChooseKVM, ChooseTCG;
// "" is auto) by running a probe guest under KVM. It fails only when mode
// is kvm and KVM does not run guests, or mode is unknown.
func (d Driver) Choose(ctx context.Context, mode string, timeout time.Duration) (Choice, error) {
	switch mode {
	case ChooseTCG:
		return Choice{Accel: AccelTCG, Reason: "tcg requested (--accel tcg): kvm not tried"}, nil
	case ChooseAuto, "", ChooseKVM:
	default:
		return Choice{}, fmt.Errorf("qemu: accelerator %q: want auto, kvm or tcg", mode)
	}
	err := d.ProbeKVM(ctx, timeout)
	if err == nil {
		return Choice{Accel: AccelKVM, Reason: "kvm probe guest ran"}, nil
	}
	if mode == ChooseKVM {
		return Choice{}, fmt.Errorf("qemu: --accel kvm, but kvm does not run guests: %w", err)
	}
	return Choice{Accel: AccelTCG, Reason: "kvm unusable, falling back to tcg: " + err.Error()}, nil
}

// ProbeKVM boots a tiny guest under KVM, with the machine and CPU
// arguments real guests get, and reports why it did not write its serial
// marker and exit within timeout (DefaultProbeTimeout when zero).
func (d Driver) ProbeKVM(ctx context.Context, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open /dev/kvm: %w", err)
	}
	f.Close()
	dir, err := os.MkdirTemp("", "kumo-kvm-probe-")
	if err != nil {
		return fmt.Errorf("kvm probe: %w", err)
	}
	defer os.RemoveAll(dir)
	return d.runProbe(ctx, dir, AccelKVM, timeout)
}

// runProbe runs the probe guest under accel in dir.
func (d Driver) runProbe(ctx context.Context, dir string, accel Accel, timeout time.Duration) error {
	bios := filepath.Join(dir, "probe.bin")
	if err := os.WriteFile(bios, probeBIOS(), 0o600); err != nil {
		return fmt.Errorf("kvm probe: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := append(accelArgs(accel),
		"-smp", "1", "-m", "16", "-nodefaults", "-no-user-config", "-display", "none",
		"-bios", bios, "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
	cmd := exec.CommandContext(ctx, d.binary(), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	start := time.Now()
	err := cmd.Run()
	msg := oneLine(out.String())
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("probe guest gave no sign of life in %v (%s %s): %s", timeout, d.binary(), accel, orNothing(msg))
	case errors.As(err, &exit) && exit.ExitCode() == probeExitCode && strings.Contains(out.String(), probeMarker):
		return nil
	case err == nil:
		return fmt.Errorf("probe guest exited without its marker: %s", orNothing(msg))
	}
	return fmt.Errorf("%s -accel %s failed after %v: %v: %s", d.binary(), accel, time.Since(start).Round(time.Millisecond), err, orNothing(msg))
}

// oneLine is QEMU's output on one line, trimmed to a readable length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func orNothing(s string) string {
	if s == "" {
		return "no output"
	}
	return s
}

// probeBIOS is a 64 KiB firmware image (QEMU's -bios wants a multiple of
// 64 KiB) whose reset vector writes probeMarker to COM1 and exits QEMU
// through isa-debug-exit. Real mode, no stack, no RAM touched:
//
//	0xFFF0: jmp near 0xF000
//	0xF000: mov dx, 0x3f8; mov si, msg
//	loop:   cs lodsb; test al, al; jz done; out dx, al; jmp loop
//	done:   mov dx, 0xf4; mov al, 0x10; out dx, al
//	halt:   hlt; jmp halt
//	msg:    "KUMO-PROBE-OK\n", 0
func probeBIOS() []byte {
	const size, codeAt, msgAt = 0x10000, 0xF000, 0xF100
	b := make([]byte, size)
	code := []byte{
		0xBA, 0xF8, 0x03, // mov dx, 0x3f8
		0xBE, msgAt & 0xFF, msgAt >> 8, // mov si, msgAt
		0x2E, 0xAC, // loop: cs lodsb
		0x84, 0xC0, // test al, al
		0x74, 0x03, // jz done (+3)
		0xEE,       // out dx, al
		0xEB, 0xF7, // jmp loop (-9)
		0xBA, 0xF4, 0x00, // done: mov dx, 0xf4
		0xB0, 0x10, // mov al, 0x10
		0xEE,       // out dx, al
		0xF4,       // halt: hlt
		0xEB, 0xFD, // jmp halt
	}
	copy(b[codeAt:], code)
	copy(b[msgAt:], probeMarker+"\n\x00")
	var rel uint16 = codeAt - 0xFFF3 + size // jmp near: relative to the next instruction, mod 64 KiB
	copy(b[0xFFF0:], []byte{0xE9, byte(rel), byte(rel >> 8)})
	return b
}
