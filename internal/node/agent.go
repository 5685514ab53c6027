package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kumo-cloud/kumo/internal/dhcpd"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/imagecache"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/volume"
	"github.com/kumo-cloud/kumo/internal/volume/local"
	"github.com/kumo-cloud/kumo/internal/vpcdns"
)

// Reconnect backoff bounds.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

type agent struct {
	cfg     Config
	log     *slog.Logger
	images  qemuimg.Images
	cache   *imagecache.Cache
	net     *netServices
	imdsKey []byte
	info    nodeapi.NodeInfo
	changed chan struct{}
	metrics *prometheus.Registry // the agent's own, served on Config.MetricsListen
	vnet    *vpcNet
	vols    *volStore

	// vpcMu keeps a VPC's namespace from being deleted while an instance
	// is being plugged into it (read-locked while preparing a NIC).
	vpcMu sync.RWMutex

	mu      sync.Mutex
	workers map[string]*worker
	wg      sync.WaitGroup
}

// Run runs the agent until ctx ends: it reattaches the guests it finds,
// then connects to the server, reconnecting with backoff whenever the
// stream breaks. Guests keep running whatever happens to the server or to
// the agent.
func Run(ctx context.Context, cfg Config) error {
	a, err := newAgent(cfg)
	if err != nil {
		return err
	}
	a.net.ctx = ctx
	defer a.net.close()
	if a.cfg.MetricsListen != "" {
		if err := a.serveMetrics(ctx, a.cfg.MetricsListen); err != nil {
			return fmt.Errorf("node: metrics listener: %w", err)
		}
	}
	if err := a.recoverAll(ctx); err != nil {
		return err
	}
	defer a.wg.Wait()
	a.serveImages(ctx)
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		a.vnet.loop(ctx)
	}()
	go func() {
		defer a.wg.Done()
		a.vols.loop(ctx)
	}()
	backoff := minBackoff
	for {
		got, err := a.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if got {
			backoff = minBackoff
		}
		a.log.Warn("server stream ended; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

func newAgent(cfg Config) (*agent, error) {
	if cfg.DataDir == "" || cfg.Driver == nil || cfg.Objects == nil || cfg.Connector == nil {
		return nil, errors.New("node: DataDir, Driver, Objects and Connector are required")
	}
	a := &agent{cfg: cfg, log: cfg.Logger, images: cfg.Images, changed: make(chan struct{}, 1), workers: map[string]*worker{}}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if a.images == nil {
		a.images = qemuimg.Tool{}
	}
	for _, d := range []string{a.imagesDir(), a.instancesDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
	}
	a.cache = &imagecache.Cache{Dir: a.imagesDir(), Snapshots: &snapshot.Store{Objects: cfg.Objects},
		Images: a.images, Logger: a.log, Overlays: []string{a.instancesDir()}}
	key, err := loadIMDSKey(filepath.Join(cfg.DataDir, "imds.key"))
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	a.imdsKey = key
	a.metrics = cfg.Metrics
	if a.metrics == nil {
		a.metrics = prometheus.NewRegistry()
	}
	a.vnet = newVPCNet(a, a.metrics)
	if a.cfg.VolumeBackends == nil {
		a.cfg.VolumeBackends = map[string]volume.Backend{
			nodeapi.VolumeBackendLocal: &local.Backend{Dir: filepath.Join(cfg.DataDir, "volumes")}}
	}
	a.vols = newVolStore(a)
	a.net = &netServices{a: a, dhcp: map[string]*dhcpd.Server{}, imds: map[string]*http.Server{}, dns: map[string]*vpcdns.Running{}}
	capacity, err := measureCapacity(cfg.DataDir, cfg.Capacity)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	name := cfg.Name
	if name == "" {
		name, _ = os.Hostname()
	}
	a.info = nodeapi.NodeInfo{Name: name, Zone: cfg.Zone, Version: cfg.Version, Capacity: capacity,
		Accel: string(cfg.Driver.Accel()), AccelReason: cfg.AccelReason}
	registerAccelGauge(a.metrics, cfg.Driver.Accel(), a.log)
	if cfg.Underlay.IsValid() {
		a.info.Address = cfg.Underlay.Unmap().String()
	}
	return a, nil
}

func (a *agent) imagesDir() string    { return filepath.Join(a.cfg.DataDir, "images") }
func (a *agent) instancesDir() string { return filepath.Join(a.cfg.DataDir, "instances") }
func (a *agent) volumeRunDir() string { return filepath.Join(a.cfg.DataDir, "qsd") }

func (a *agent) now() time.Time {
	if a.cfg.Now != nil {
		return a.cfg.Now()
	}
	return time.Now()
}

func (a *agent) poll() time.Duration {
	if a.cfg.PollInterval > 0 {
		return a.cfg.PollInterval
	}
	return time.Second
}

// notify tells the reporter something changed.
func (a *agent) notify() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// recoverAll reattaches the guests of every instance directory.
func (a *agent) recoverAll(ctx context.Context) error {
	ents, err := os.ReadDir(a.instancesDir())
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		w := newWorker(a, e.Name())
		w.recover(ctx)
		a.startWorker(ctx, w)
	}
	return nil
}

func (a *agent) startWorker(ctx context.Context, w *worker) {
	wctx, cancel := context.WithCancel(ctx)
	w.stop = cancel
	a.mu.Lock()
	a.workers[w.id] = w
	a.mu.Unlock()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		w.run(wctx)
	}()
}

func (a *agent) workerList() []*worker {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*worker, 0, len(a.workers))
	for _, w := range a.workers {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// apply hands each named instance's spec to its worker. Instances not
// named are left alone, except deleted ones the server no longer names,
// which are forgotten.
func (a *agent) apply(ctx context.Context, d *nodeapi.Desired) {
	named := map[string]bool{}
	for _, s := range d.Instances {
		named[s.ID] = true
		a.mu.Lock()
		w := a.workers[s.ID]
		a.mu.Unlock()
		if w == nil {
			if !validID(s.ID) {
				a.log.Warn("ignoring an instance with a bad id", "instance", s.ID)
				continue
			}
			w = newWorker(a, s.ID)
			w.setDesired(s)
			a.startWorker(ctx, w)
			continue
		}
		w.setDesired(s)
	}
	for _, w := range a.workerList() {
		if !named[w.id] && w.status().State == nodeapi.ObservedDeleted {
			w.stop()
			a.mu.Lock()
			delete(a.workers, w.id)
			a.mu.Unlock()
			a.notify()
		}
	}
	a.vnet.setPool(d.PublicPool)
	a.net.setZones(d.VPCs, d.PublicPool)
	a.vnet.setDesired(d.VPCs)
	a.vols.setDesired(d.Volumes)
}

// validID keeps instance ids usable as directory names.
func validID(id string) bool {
	return id != "" && id != "." && id != ".." && filepath.Base(id) == id && len(id) <= 64
}

// session runs one stream to the server: it sends a Report at once, on
// every change, at least every ReportInterval and when a console changed,
// and applies every Desired it receives. It reports whether a Desired came.
func (a *agent) session(ctx context.Context) (bool, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sess, err := a.cfg.Connector.Connect(sctx)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	var got bool
	var gotMu sync.Mutex
	errc := make(chan error, 1)
	go func() {
		for {
			d, err := sess.Recv()
			if err != nil {
				errc <- fmt.Errorf("receive: %w", err)
				return
			}
			gotMu.Lock()
			got = true
			gotMu.Unlock()
			a.apply(ctx, d)
		}
	}()
	err = a.reportLoop(sctx, sess, errc)
	gotMu.Lock()
	defer gotMu.Unlock()
	return got, err
}

func (a *agent) reportLoop(ctx context.Context, sess nodeapi.Session, errc <-chan error) error {
	sent := map[string][sha256.Size]byte{} // console last sent on this stream
	report := time.NewTicker(nodeapi.ReportInterval)
	defer report.Stop()
	console := time.NewTicker(a.poll())
	defer console.Stop()
	force := true
	for {
		if r, news := a.report(sent); force || news {
			if err := sess.Send(r); err != nil {
				return fmt.Errorf("send: %w", err)
			}
		}
		force = false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errc:
			return err
		case <-a.changed:
			force = true
		case <-report.C:
			force = true
		case <-console.C:
		}
	}
}

// report builds a Report of every instance; news says whether a console
// changed since it was last sent on this stream (sent is updated).
func (a *agent) report(sent map[string][sha256.Size]byte) (*nodeapi.Report, bool) {
	r := &nodeapi.Report{Node: a.info, Instances: []nodeapi.InstanceStatus{}}
	news := false
	for _, w := range a.workerList() {
		st := w.status()
		if st.State != nodeapi.ObservedDeleted {
			tail, err := qemu.ConsoleTail(filepath.Join(w.dir, consoleFile), qemu.ConsoleMax)
			if h := sha256.Sum256(tail); err == nil && len(tail) > 0 && h != sent[w.id] {
				st.Console, sent[w.id], news = tail, h, true
			}
		}
		r.Instances = append(r.Instances, st)
	}
	r.Volumes = a.vols.report()
	return r, news
}
