package node

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
)

// ChooseAccel picks the accelerator of every guest of this node from mode
// (`--accel auto|kvm|tcg`; "" is auto) by booting a probe guest under KVM
// (bounded by timeout, qemu.DefaultProbeTimeout when zero): a /dev/kvm that
// opens but runs no guest (nested virtualisation) makes auto fall back to
// TCG with a warning, and kvm fail.
func ChooseAccel(ctx context.Context, d qemu.Driver, mode string, timeout time.Duration, log *slog.Logger) (qemu.Choice, error) {
	start := time.Now()
	c, err := d.Choose(ctx, mode, timeout)
	switch {
	case err != nil:
		return c, err
	case c.Accel == qemu.AccelKVM:
		log.Info("accelerator: kvm", "reason", c.Reason, "probe", time.Since(start).Round(time.Millisecond))
	case mode == qemu.ChooseTCG:
		log.Info("accelerator: tcg", "reason", c.Reason)
	default:
		log.Warn("accelerator: tcg (slow): KVM does not run guests on this host; guests are emulated", "reason", c.Reason)
	}
	return c, nil
}

// accelGauge is kumo_node_accelerator{accel}: 1 for the accelerator the
// node runs guests with, 0 for the other.
func registerAccelGauge(reg *prometheus.Registry, accel qemu.Accel, log *slog.Logger) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kumo_node_accelerator",
		Help: "The accelerator this node runs guests with (1), as its start-up KVM probe chose it.",
	}, []string{"accel"})
	if err := reg.Register(g); err != nil {
		var dup prometheus.AlreadyRegisteredError
		if !errors.As(err, &dup) { // an agent run again with the same registry reuses it
			log.Error("register metrics", "err", err)
			return
		}
		g = dup.ExistingCollector.(*prometheus.GaugeVec)
	}
	for _, a := range []qemu.Accel{qemu.AccelKVM, qemu.AccelTCG} {
		v := 0.0
		if a == accel {
			v = 1
		}
		g.WithLabelValues(string(a)).Set(v)
	}
}
