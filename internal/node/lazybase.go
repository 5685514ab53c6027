package node

import (
	"context"
	"time"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
)

// backingSwitcher is a guest whose root disk may still read its image over
// NBD while the image cache fills its base (qemu.Instance; fakes need not).
type backingSwitcher interface {
	LazyBacking() (qemu.NBDBacking, bool)
	SwitchBacking(ctx context.Context, path string) error
}

// switchBacking moves the guest's root disk from the cache's NBD export to
// the base file once the base is complete. Until then, and when a switch
// fails (it is retried at the next round), the guest reads over NBD.
func (w *worker) switchBacking(ctx context.Context) {
	g, ok := w.guest.(backingSwitcher)
	if !ok {
		return
	}
	exp, ok := g.LazyBacking()
	if !ok {
		return
	}
	base, ok := w.a.cache.Complete(exp.Export)
	if !ok {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := g.SwitchBacking(sctx, base); err != nil {
		w.a.log.Warn("switch root disk to the cached image", "instance", w.id, "err", err)
		return
	}
	w.a.log.Info("root disk reads the cached image", "instance", w.id, "base", base)
}

// serveImages starts the image cache's NBD server (first launches read
// the image through it) until ctx ends; reattached guests that still read
// over NBD reconnect to it. It listens before the server's desired state
// can arrive. Without it, a first launch waits for the whole image.
func (a *agent) serveImages(ctx context.Context) {
	done, err := a.cache.StartNBD(ctx)
	if err != nil {
		a.log.Warn("image cache: no NBD server; first launches wait for the whole image", "err", err)
		return
	}
	a.wg.Go(func() {
		if err := <-done; err != nil {
			a.log.Warn("image cache: NBD server ended; first launches wait for the whole image", "err", err)
		}
	})
}
