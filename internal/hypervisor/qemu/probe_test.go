package qemu

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// The probe guest itself runs (under TCG here): the firmware writes its
// marker and exits QEMU through isa-debug-exit.
func TestProbeGuestRunsUnderTCG(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)")
	}
	start := time.Now()
	if err := (Driver{}).runProbe(context.Background(), t.TempDir(), AccelTCG, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("probe guest under tcg: %v", time.Since(start))
}
