package node

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/volume"
)

// memBackend is a volume.Backend in memory, without Fill: it cannot copy.
type memBackend struct {
	mu   sync.Mutex
	vols map[string]int64
}

func (m *memBackend) Name() string { return "mem" }

func (m *memBackend) Create(_ context.Context, id string, size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.vols[id]; !ok {
		m.vols[id] = size
	}
	return nil
}

func (m *memBackend) Size(_ context.Context, id string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.vols[id]
	if !ok {
		return 0, fmt.Errorf("%s: %w", id, volume.ErrNotFound)
	}
	return n, nil
}

func (m *memBackend) Grow(_ context.Context, id string, size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vols[id] = max(m.vols[id], size)
	return nil
}

func (m *memBackend) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.vols, id)
	return nil
}

func (m *memBackend) List(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id := range m.vols {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func (m *memBackend) Blockdev(id, node string) map[string]any {
	return map[string]any{"driver": "null-co", "node-name": node}
}

func volHarness(t *testing.T) (*harness, *memBackend) {
	h := newHarness(t)
	be := &memBackend{vols: map[string]int64{}}
	h.cfgHook = func(c *Config) {
		c.VolumeBackends = map[string]volume.Backend{nodeapi.VolumeBackendLocal: be}
	}
	return h, be
}

func attachStatus(srv *fakeServer, id string) nodeapi.VolumeAttachmentStatus {
	for _, v := range lastStatus(srv).Volumes {
		if v.VolumeID == id {
			return v
		}
	}
	return nodeapi.VolumeAttachmentStatus{}
}

func reportedVolume(srv *fakeServer, id string) nodeapi.VolumeStatus {
	if r := srv.last(); r != nil {
		for _, v := range r.Volumes {
			if v.VolumeID == id {
				return v
			}
		}
	}
	return nodeapi.VolumeStatus{}
}

// A stopped instance's volumes are made and count as attached; a guest
// that cannot hot-plug (this fake) fails them with a reason.
func TestVolumeAttachmentsWithoutHotplug(t *testing.T) {
	h, be := volHarness(t)
	h.start()
	spec := testSpec()
	spec.Power = nodeapi.PowerStopped
	spec.Volumes = []nodeapi.VolumeAttachment{
		{VolumeData: nodeapi.VolumeData{VolumeID: "vol-0123456789abcdef0", SizeBytes: 1 << 30}, Device: "/dev/sdf"},
		{VolumeData: nodeapi.VolumeData{VolumeID: "vol-0123456789abcdef1", SizeBytes: 1 << 30, SnapshotID: "snap-1"}, Device: "/dev/sdg"},
		{VolumeData: nodeapi.VolumeData{VolumeID: "../../etc", SizeBytes: 1 << 30}, Device: "/dev/sdh"},
	}
	h.srv.push(spec)
	waitUntil(t, "attached while stopped", func() bool {
		return attachStatus(h.srv, "vol-0123456789abcdef0").State == nodeapi.AttachAttached
	})
	if st := attachStatus(h.srv, "vol-0123456789abcdef0"); st.SizeBytes != 1<<30 {
		t.Errorf("attachment %+v", st)
	}
	st := attachStatus(h.srv, "vol-0123456789abcdef1")
	if st.State != nodeapi.AttachFailed || st.Reason == "" {
		t.Errorf("a snapshot volume on a backend that cannot copy: %+v, want failed with a reason", st)
	}
	if n := len(lastStatus(h.srv).Volumes); n != 2 {
		t.Errorf("%d attachments reported, want 2 (the bad id is left out)", n)
	}
	waitUntil(t, "the volume in Report.Volumes", func() bool {
		return reportedVolume(h.srv, "vol-0123456789abcdef0").SizeBytes == 1<<30
	})

	spec.Power = nodeapi.PowerRunning
	h.srv.push(spec)
	waitUntil(t, "failed on a guest without hot-plug", func() bool {
		return attachStatus(h.srv, "vol-0123456789abcdef0").State == nodeapi.AttachFailed
	})

	// Delete refuses a volume attached here; Export needs an address.
	h.srv.desired <- &nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}, Volumes: []nodeapi.VolumeSpec{
		{VolumeData: nodeapi.VolumeData{VolumeID: "vol-0123456789abcdef0"}, Delete: true},
		{VolumeData: nodeapi.VolumeData{VolumeID: "vol-0123456789abcdef3", SizeBytes: 4 << 20}, Export: true},
	}}
	waitUntil(t, "refusals reported", func() bool {
		return reportedVolume(h.srv, "vol-0123456789abcdef0").Reason != "" && reportedVolume(h.srv, "vol-0123456789abcdef3").Reason != ""
	})
	if _, err := be.Size(context.Background(), "vol-0123456789abcdef0"); err != nil {
		t.Fatalf("an attached volume was deleted: %v", err)
	}
	if n, _ := be.Size(context.Background(), "vol-0123456789abcdef3"); n != 4<<20 {
		t.Errorf("a volume homed here was not created: size %d", n)
	}

	// Detached, it can be deleted.
	spec.Volumes = nil
	h.srv.desired <- &nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}, Volumes: []nodeapi.VolumeSpec{
		{VolumeData: nodeapi.VolumeData{VolumeID: "vol-0123456789abcdef0"}, Delete: true},
	}}
	waitUntil(t, "deleted", func() bool { return reportedVolume(h.srv, "vol-0123456789abcdef0").Deleted })
	if _, err := be.Size(context.Background(), "vol-0123456789abcdef0"); err == nil {
		t.Fatal("volume still there after Delete")
	}
}

// A volume from a snapshot gets the snapshot's bytes, then zeros up to
// its size (real qemu-img, the local backend, the image cache).
func TestVolumeFromSnapshot(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed")
	}
	h := newHarness(t)
	data := bytes.Repeat([]byte("snapshot"), 1<<17) // 1 MiB
	if _, err := (&snapshot.Store{Objects: h.objects}).Write(context.Background(), "snap-0123456789abcdef0", bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
	h.start()
	spec := testSpec()
	spec.Power = nodeapi.PowerStopped
	const id = "vol-0123456789abcdef0"
	spec.Volumes = []nodeapi.VolumeAttachment{{VolumeData: nodeapi.VolumeData{VolumeID: id, SizeBytes: 8 << 20,
		Backend: nodeapi.VolumeBackendLocal, SnapshotID: "snap-0123456789abcdef0"}, Device: "/dev/sdf"}}
	h.srv.push(spec)
	waitUntil(t, "attached", func() bool { return attachStatus(h.srv, id).State == nodeapi.AttachAttached })
	if st := attachStatus(h.srv, id); st.SizeBytes != 8<<20 {
		t.Fatalf("attachment %+v", st)
	}
	out := filepath.Join(t.TempDir(), "out.raw")
	path := filepath.Join(h.dir, "volumes", id+".qcow2")
	if o, err := exec.Command("qemu-img", "convert", "-f", "qcow2", "-O", "raw", path, out).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, o)
	}
	got, _ := os.ReadFile(out)
	if len(got) != 8<<20 || !bytes.Equal(got[:len(data)], data) || !bytes.Equal(got[len(data):], make([]byte, 7<<20)) {
		t.Fatal("the volume is not the snapshot's bytes then zeros")
	}
	waitUntil(t, "reported", func() bool { return reportedVolume(h.srv, id).SizeBytes == 8<<20 })
}

// volHypervisor hands out fake guests that can have volumes, kept by run
// directory so that they outlive an agent, as QEMU's do.
type volHypervisor struct {
	*fakeHypervisor
	mu     sync.Mutex
	guests map[string]*fakeVolGuest
}

func (h *volHypervisor) wrap(g Guest, err error) (Guest, error) {
	if err != nil {
		return nil, err
	}
	fg := g.(*fakeGuest)
	h.mu.Lock()
	defer h.mu.Unlock()
	vg := h.guests[fg.spec.RunDir]
	if vg == nil || vg.fakeGuest != fg {
		vg = &fakeVolGuest{fakeGuest: fg, vols: map[string]*qemu.PluggedVolume{}}
		h.guests[fg.spec.RunDir] = vg
	}
	return vg, nil
}

func (h *volHypervisor) Start(ctx context.Context, s qemu.Spec) (Guest, error) {
	return h.wrap(h.fakeHypervisor.Start(ctx, s))
}

func (h *volHypervisor) Attach(ctx context.Context, runDir string) (Guest, error) {
	return h.wrap(h.fakeHypervisor.Attach(ctx, runDir))
}

// fakeVolGuest keeps its volumes in memory; holding makes its OS keep a
// device it is asked to release.
type fakeVolGuest struct {
	*fakeGuest
	vmu     sync.Mutex
	vols    map[string]*qemu.PluggedVolume
	plugs   int
	holding bool
}

func (g *fakeVolGuest) PlugVolume(_ context.Context, v qemu.Volume) error {
	g.vmu.Lock()
	defer g.vmu.Unlock()
	g.plugs++
	g.vols[v.ID] = &qemu.PluggedVolume{ID: v.ID, Device: true, Size: 1 << 30, Limits: v.Limits}
	return nil
}

func (g *fakeVolGuest) UnplugVolume(_ context.Context, id string, force bool) (bool, error) {
	g.vmu.Lock()
	defer g.vmu.Unlock()
	v := g.vols[id]
	switch {
	case v == nil:
		return true, nil
	case !g.holding:
		delete(g.vols, id)
		return true, nil
	case force:
		v.Cut = true
		return true, nil
	}
	return false, nil
}

func (g *fakeVolGuest) Volumes(context.Context) ([]qemu.PluggedVolume, error) {
	g.vmu.Lock()
	defer g.vmu.Unlock()
	var out []qemu.PluggedVolume
	for _, v := range g.vols {
		out = append(out, *v)
	}
	return out, nil
}

func (g *fakeVolGuest) ResizeVolume(_ context.Context, id string, size int64) error {
	g.vmu.Lock()
	defer g.vmu.Unlock()
	g.vols[id].Size = size
	return nil
}

func (g *fakeVolGuest) SetVolumeLimits(_ context.Context, id string, l qemu.Limits) error {
	g.vmu.Lock()
	defer g.vmu.Unlock()
	g.vols[id].Limits = l
	return nil
}

func (g *fakeVolGuest) volume(id string) (qemu.PluggedVolume, int) {
	g.vmu.Lock()
	defer g.vmu.Unlock()
	if v := g.vols[id]; v != nil {
		return *v, g.plugs
	}
	return qemu.PluggedVolume{}, g.plugs
}

// The attachment states through a guest's life: attach, grow, limits, an
// agent restart, a detach the guest holds up, then forced.
func TestVolumeAttachmentStates(t *testing.T) {
	h, be := volHarness(t)
	hv := &volHypervisor{fakeHypervisor: h.hv, guests: map[string]*fakeVolGuest{}}
	h.cfgHook = func(c *Config) {
		c.Driver = hv
		c.VolumeBackends = map[string]volume.Backend{nodeapi.VolumeBackendLocal: be}
	}
	h.start()
	const id = "vol-0123456789abcdef0"
	spec := testSpec()
	spec.Volumes = []nodeapi.VolumeAttachment{{VolumeData: nodeapi.VolumeData{VolumeID: id, SizeBytes: 1 << 30, IOPS: 3000, ThroughputMiB: 125}, Device: "/dev/sdf"}}
	h.srv.push(spec)
	waitUntil(t, "attached", func() bool { return attachStatus(h.srv, id).State == nodeapi.AttachAttached })
	hv.mu.Lock()
	g := hv.guests[filepath.Join(h.dir, "instances", testID)]
	hv.mu.Unlock()
	if h.hv.lastStart().HotplugSlots != volumeSlots {
		t.Errorf("guest started with %d volume slots", h.hv.lastStart().HotplugSlots)
	}

	spec.Volumes = slices.Clone(spec.Volumes) // the pushed spec shares the array
	spec.Volumes[0].SizeBytes, spec.Volumes[0].IOPS = 2<<30, 16000
	h.srv.push(spec)
	waitUntil(t, "grown", func() bool { return attachStatus(h.srv, id).SizeBytes == 2<<30 })
	if v, _ := g.volume(id); v.Limits != (qemu.Limits{IOPS: 16000, ThroughputMiB: 125}) {
		t.Errorf("limits %+v after the change", v.Limits)
	}
	if n, _ := be.Size(context.Background(), id); n != 2<<30 {
		t.Errorf("backend size %d after the grow", n)
	}

	h.stop()
	h.srv = newFakeServer()
	h.start()
	h.srv.push(spec)
	waitUntil(t, "attached after restart", func() bool { return attachStatus(h.srv, id).State == nodeapi.AttachAttached })
	if _, plugs := g.volume(id); plugs != 1 {
		t.Errorf("%d plugs after an agent restart, want 1", plugs)
	}

	g.vmu.Lock()
	g.holding = true
	g.vmu.Unlock()
	spec.Volumes = slices.Clone(spec.Volumes) // the pushed spec shares the array
	spec.Volumes[0].Detach = true
	h.srv.push(spec)
	waitUntil(t, "detaching", func() bool { return attachStatus(h.srv, id).State == nodeapi.AttachDetaching })
	time.Sleep(100 * time.Millisecond)
	if st := attachStatus(h.srv, id); st.State != nodeapi.AttachDetaching {
		t.Fatalf("a held volume went %s without Force", st.State)
	}
	spec.Volumes = slices.Clone(spec.Volumes) // the pushed spec shares the array
	spec.Volumes[0].Force = true
	h.srv.push(spec)
	waitUntil(t, "detached by force", func() bool { return attachStatus(h.srv, id).State == nodeapi.AttachDetached })
}
