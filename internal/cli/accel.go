package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/node"
)

const accelUsage = "accelerator of the guests: auto (KVM when a probe guest runs under it, else TCG with a warning), kvm (fail at start-up when KVM does not run guests) or tcg (never try KVM)"

// checkAccelFlag refuses an --accel value other than auto, kvm and tcg.
func checkAccelFlag(v string) error {
	switch v {
	case qemu.ChooseAuto, qemu.ChooseKVM, qemu.ChooseTCG:
		return nil
	}
	return fmt.Errorf("--accel %q: want auto, kvm or tcg", v)
}

// devAccel makes kumo dev's accelerator choice before anything starts, so
// that --accel kvm on a host where KVM runs no guest fails start-up. No
// choice (nil) when kumo dev runs no node.
func devAccel(ctx context.Context, mode string, noNode bool, log *slog.Logger) (*qemu.Choice, error) {
	if err := checkAccelFlag(mode); err != nil {
		return nil, err
	}
	if noNode || os.Geteuid() != 0 {
		return nil, nil
	}
	c, err := node.ChooseAccel(ctx, qemu.Driver{}, mode, 0, log.With("role", "node"))
	if err != nil {
		return nil, err
	}
	return &c, nil
}
