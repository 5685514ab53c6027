package node

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// volumeSlots is how many EBS volumes a guest can have attached at once:
// each gets its own PCIe root port, so that it can be unplugged.
const volumeSlots = 8

// volumeGuest is a Guest whose volumes can be hot-plugged (a QEMU guest).
type volumeGuest interface {
	PlugVolume(ctx context.Context, v qemu.Volume) error
	UnplugVolume(ctx context.Context, volumeID string, force bool) (bool, error)
	Volumes(ctx context.Context) ([]qemu.PluggedVolume, error)
	ResizeVolume(ctx context.Context, volumeID string, size int64) error
	SetVolumeLimits(ctx context.Context, volumeID string, l qemu.Limits) error
}

var _ volumeGuest = (*qemuGuest)(nil)

var volumeIDRE = regexp.MustCompile(`^vol-[0-9a-f]{8,17}$`)

func validVolumeID(id string) bool { return volumeIDRE.MatchString(id) }

// attachments are the spec's volumes, the first of each valid id.
func attachments(spec *nodeapi.InstanceSpec) []nodeapi.VolumeAttachment {
	var out []nodeapi.VolumeAttachment
	for _, a := range spec.Volumes {
		if validVolumeID(a.VolumeID) && !slices.ContainsFunc(out, func(o nodeapi.VolumeAttachment) bool { return o.VolumeID == a.VolumeID }) {
			out = append(out, a)
		}
	}
	return out
}

func limitsOf(d nodeapi.VolumeData) qemu.Limits {
	return qemu.Limits{IOPS: d.IOPS, ThroughputMiB: d.ThroughputMiB}
}

// attachedTo is the instance of this node a volume is attached to (not
// being detached) in the server's specs, "" for none.
func (a *agent) attachedTo(volumeID string) string {
	for _, w := range a.workerList() {
		spec := w.desired()
		if spec == nil || spec.Power == nodeapi.PowerTerminated {
			continue
		}
		for _, att := range spec.Volumes {
			if att.VolumeID == volumeID && !att.Detach {
				return w.id
			}
		}
	}
	return ""
}

// syncVolumes converges the guest's volumes on the spec's attachments and
// records their states. What is plugged is asked of QEMU every time, so a
// restarted agent neither plugs a volume twice nor forgets one. Without
// a running guest the volumes' data is made ready and they count as
// attached (they are plugged when the guest starts).
func (w *worker) syncVolumes(ctx context.Context, spec *nodeapi.InstanceSpec) {
	g, ok := w.guest.(volumeGuest)
	if w.guest != nil && !ok {
		w.noVolumes(spec)
		return
	}
	want := attachments(spec)
	if len(want) == 0 && (g == nil || w.volsClean == w.guest) {
		w.setVolumes(nil)
		return // nothing wanted, and this guest was found with nothing
	}
	var plugged []qemu.PluggedVolume
	if g != nil {
		var err error
		if plugged, err = g.Volumes(ctx); err != nil {
			w.a.log.Warn("list volumes", "instance", w.id, "err", err)
			return
		}
	}
	w.volsClean = nil
	if len(want) == 0 && len(plugged) == 0 {
		w.volsClean = w.guest
	}
	var sts []nodeapi.VolumeAttachmentStatus
	for _, att := range want {
		i := slices.IndexFunc(plugged, func(p qemu.PluggedVolume) bool { return p.ID == att.VolumeID })
		var pv *qemu.PluggedVolume
		if i >= 0 {
			pv = &plugged[i]
		}
		sts = append(sts, w.syncVolume(ctx, g, att, pv))
	}
	for _, pv := range plugged {
		if !slices.ContainsFunc(want, func(a nodeapi.VolumeAttachment) bool { return a.VolumeID == pv.ID }) {
			// Named nowhere any more: take it away, quietly.
			if _, err := g.UnplugVolume(ctx, pv.ID, false); err != nil {
				w.a.log.Warn("unplug volume", "instance", w.id, "volume", pv.ID, "err", err)
			}
		}
	}
	w.setVolumes(sts)
}

func (w *worker) syncVolume(ctx context.Context, g volumeGuest, att nodeapi.VolumeAttachment, pv *qemu.PluggedVolume) nodeapi.VolumeAttachmentStatus {
	st := nodeapi.VolumeAttachmentStatus{VolumeID: att.VolumeID}
	fail := func(err error) nodeapi.VolumeAttachmentStatus {
		w.a.log.Warn("volume", "instance", w.id, "volume", att.VolumeID, "err", err)
		st.State, st.Reason = nodeapi.AttachFailed, reason(err)
		return st
	}
	if att.Detach {
		st.State = nodeapi.AttachDetached
		if pv == nil {
			return st
		}
		gone, err := g.UnplugVolume(ctx, att.VolumeID, att.Force)
		if err != nil {
			return fail(err)
		}
		if !gone {
			st.State, st.SizeBytes = nodeapi.AttachDetaching, pv.Size
		} else if w.prev(att.VolumeID).State != nodeapi.AttachDetached {
			w.a.log.Info("detached volume", "instance", w.id, "volume", att.VolumeID, "force", att.Force)
		}
		return st
	}
	size, err := w.a.vols.ensureData(ctx, att.VolumeData, pv == nil || g == nil)
	if err != nil {
		return fail(err)
	}
	st.State, st.SizeBytes = nodeapi.AttachAttached, size
	switch {
	case g == nil:
		return st // plugged when the guest starts
	case pv != nil && (pv.Cut || !pv.Device):
		// Left by a forced detach, or half plugged or unplugged: clear it
		// away before plugging it again.
		if _, err := g.UnplugVolume(ctx, att.VolumeID, false); err != nil {
			return fail(err)
		}
		st.State = nodeapi.AttachAttaching
		return st
	case pv == nil:
		return w.plugVolume(ctx, g, att, st)
	}
	if pv.Size < att.SizeBytes {
		if err := w.growVolume(ctx, g, att); err != nil {
			return fail(err)
		}
		pv.Size = att.SizeBytes
	}
	if pv.Limits != limitsOf(att.VolumeData) {
		if err := g.SetVolumeLimits(ctx, att.VolumeID, limitsOf(att.VolumeData)); err != nil {
			return fail(err)
		}
		w.a.log.Info("changed volume limits", "instance", w.id, "volume", att.VolumeID, "iops", att.IOPS, "mibps", att.ThroughputMiB)
	}
	st.SizeBytes = pv.Size
	return st
}

func (w *worker) plugVolume(ctx context.Context, g volumeGuest, att nodeapi.VolumeAttachment, st nodeapi.VolumeAttachmentStatus) nodeapi.VolumeAttachmentStatus {
	be, err := w.a.vols.backend(att.Backend)
	if err == nil {
		unlock := w.a.vols.lock(att.VolumeID)
		err = g.PlugVolume(ctx, qemu.Volume{ID: att.VolumeID, Blockdev: be.Blockdev(att.VolumeID, qemu.VolumeNode(att.VolumeID)),
			Limits: limitsOf(att.VolumeData)})
		unlock()
	}
	if err != nil {
		w.a.log.Warn("attach volume", "instance", w.id, "volume", att.VolumeID, "err", err)
		st.State, st.Reason = nodeapi.AttachFailed, reason(err)
		return st
	}
	w.a.log.Info("attached volume", "instance", w.id, "volume", att.VolumeID, "device", att.Device, "bytes", st.SizeBytes)
	return st
}

// growVolume grows an attached volume online: QMP block_resize grows
// what is below the guest's device (a qcow2 file, an RBD image) and tells
// the guest; the backend's Grow then finds it done (or finishes it).
func (w *worker) growVolume(ctx context.Context, g volumeGuest, att nodeapi.VolumeAttachment) error {
	be, err := w.a.vols.backend(att.Backend)
	if err != nil {
		return err
	}
	defer w.a.vols.lock(att.VolumeID)()
	if err := g.ResizeVolume(ctx, att.VolumeID, att.SizeBytes); err != nil {
		return err
	}
	if err := be.Grow(ctx, att.VolumeID, att.SizeBytes); err != nil {
		return fmt.Errorf("grow volume %s: %w", att.VolumeID, err)
	}
	w.a.log.Info("grew attached volume", "instance", w.id, "volume", att.VolumeID, "bytes", att.SizeBytes)
	return nil
}

// noVolumes records the attachments of a guest that cannot have volumes
// as failed (detachments as done).
func (w *worker) noVolumes(spec *nodeapi.InstanceSpec) {
	var sts []nodeapi.VolumeAttachmentStatus
	for _, att := range attachments(spec) {
		st := nodeapi.VolumeAttachmentStatus{VolumeID: att.VolumeID, State: nodeapi.AttachDetached}
		if !att.Detach {
			st.State, st.Reason = nodeapi.AttachFailed, "this node's hypervisor cannot attach volumes"
		}
		sts = append(sts, st)
	}
	w.setVolumes(sts)
}

// detachAll records every attachment as detached: the guest is gone for
// good (terminated).
func (w *worker) detachAll(spec *nodeapi.InstanceSpec) {
	var sts []nodeapi.VolumeAttachmentStatus
	for _, att := range attachments(spec) {
		sts = append(sts, nodeapi.VolumeAttachmentStatus{VolumeID: att.VolumeID, State: nodeapi.AttachDetached})
	}
	w.setVolumes(sts)
}

func (w *worker) prev(volumeID string) nodeapi.VolumeAttachmentStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.st.Volumes {
		if s.VolumeID == volumeID {
			return s
		}
	}
	return nodeapi.VolumeAttachmentStatus{}
}

// setVolumes records the attachments' states and tells the reporter when
// they changed.
func (w *worker) setVolumes(sts []nodeapi.VolumeAttachmentStatus) {
	w.mu.Lock()
	changed := !slices.Equal(w.st.Volumes, sts)
	w.st.Volumes = sts
	w.mu.Unlock()
	if changed {
		w.a.notify()
	}
}
