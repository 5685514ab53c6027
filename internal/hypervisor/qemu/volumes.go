package qemu

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// Volume is an EBS volume as a guest gets it: the backend's block node
// (format layer included, named VolumeNode(ID)), under a throttle filter
// whose throttle group carries the volume's limits, under a virtio-blk
// device whose serial is the volume id without the dash.
type Volume struct {
	ID string // "vol-…"
	// Blockdev is blockdev-add's argument for the backend's node
	// (volume.Backend.Blockdev(ID, VolumeNode(ID))).
	Blockdev map[string]any
	Limits   Limits
}

// Limits are a volume's I/O limits; 0 is unlimited.
type Limits struct {
	IOPS          int // operations per second, reads and writes together
	ThroughputMiB int // MiB/s, reads and writes together
}

// PluggedVolume is a volume as QEMU has it now.
type PluggedVolume struct {
	ID string
	// Device: the guest's virtio-blk device exists (it may be on its way
	// out: a device_del the guest has not honoured yet).
	Device bool
	// Cut: a forced detach cut the device from the volume's data.
	Cut    bool
	Size   int64 // bytes the guest sees (the throttle node's size)
	Limits Limits
}

// Names of a volume's QEMU objects, from its serial (node names start
// with a letter and fit in 31 bytes: vol + 17 hex + a suffix does).
type volNames struct{ format, throttle, gone, group, dev string }

// VolumeNode is the node name a volume's backend node must have.
func VolumeNode(volumeID string) string { return DiskSerial(volumeID) }

func namesOf(volumeID string) volNames {
	s := DiskSerial(volumeID)
	return volNames{format: s, throttle: s + "-thr", gone: s + "-gone", group: "tg-" + s, dev: s + "-dev"}
}

// volumeOfDev is the volume id of a device id ("" if it is not one).
func volumeOfDev(dev string) string {
	s, ok := strings.CutSuffix(dev, "-dev")
	if !ok || !strings.HasPrefix(s, "vol") {
		return ""
	}
	id := "vol-" + s[3:]
	if !volumeRE.MatchString(id) {
		return ""
	}
	return id
}

// PlugVolume hot-plugs a volume into a free root port (of HotplugSlots).
// Each step is skipped when QEMU already has its object, so a repeat
// after an interrupted attempt (an agent killed half-way) finishes it. On
// failure the block nodes it added are removed again, so the volume's
// file is not left locked by a device-less node.
func (i *Instance) PlugVolume(ctx context.Context, v Volume) error {
	if !volumeRE.MatchString(v.ID) {
		return fmt.Errorf("qemu: plug volume %q: bad id", v.ID)
	}
	if err := i.plugVolume(ctx, v); err != nil {
		return fmt.Errorf("qemu: plug volume %s into %s: %w", v.ID, i.spec.ID, err)
	}
	return nil
}

func (i *Instance) plugVolume(ctx context.Context, v Volume) error {
	n := namesOf(v.ID)
	if err := i.ensureGroup(ctx, n.group, v.Limits); err != nil {
		return err
	}
	nodes, err := i.conn.BlockNodeNames(ctx)
	if err != nil {
		return err
	}
	var added []string
	undo := func() {
		for _, node := range slices.Backward(added) {
			i.conn.BlockdevDel(context.WithoutCancel(ctx), node)
		}
	}
	if !slices.Contains(nodes, n.format) {
		bd := map[string]any{}
		maps.Copy(bd, v.Blockdev)
		bd["node-name"] = n.format
		if err := i.conn.Execute(ctx, "blockdev-add", bd, nil); err != nil {
			return fmt.Errorf("open the volume: %w", err)
		}
		added = append(added, n.format)
	}
	if !slices.Contains(nodes, n.throttle) {
		thr := map[string]any{"driver": "throttle", "node-name": n.throttle, "throttle-group": n.group, "file": n.format}
		if err := i.conn.Execute(ctx, "blockdev-add", thr, nil); err != nil {
			undo()
			return fmt.Errorf("throttle filter: %w", err)
		}
		added = append(added, n.throttle)
	}
	if has, err := i.hasPeripheral(ctx, n.dev); err != nil || has {
		return err
	}
	slot, err := i.freeVolumeSlot(ctx)
	if err != nil {
		undo()
		return err
	}
	props := map[string]any{"bus": fmt.Sprintf("hotplug%d", slot), "drive": n.throttle, "serial": DiskSerial(v.ID)}
	if err := i.conn.DeviceAdd(ctx, "virtio-blk-pci", n.dev, props); err != nil {
		undo()
		return err
	}
	return nil
}

// throttleLimits is the throttle group's "limits" property.
func throttleLimits(l Limits) map[string]any {
	return map[string]any{"iops-total": l.IOPS, "bps-total": int64(l.ThroughputMiB) << 20}
}

// ensureGroup creates the throttle group, or sets its limits if it exists.
func (i *Instance) ensureGroup(ctx context.Context, id string, l Limits) error {
	exists, err := i.hasObject(ctx, id)
	if err != nil {
		return err
	}
	if exists {
		return i.setGroupLimits(ctx, id, l)
	}
	args := map[string]any{"qom-type": "throttle-group", "id": id, "limits": throttleLimits(l)}
	if err := i.conn.Execute(ctx, "object-add", args, nil); err != nil {
		return fmt.Errorf("throttle group: %w", err)
	}
	return nil
}

func (i *Instance) setGroupLimits(ctx context.Context, id string, l Limits) error {
	args := map[string]any{"path": "/objects/" + id, "property": "limits", "value": throttleLimits(l)}
	if err := i.conn.Execute(ctx, "qom-set", args, nil); err != nil {
		return fmt.Errorf("throttle group limits: %w", err)
	}
	return nil
}

func (i *Instance) hasObject(ctx context.Context, id string) (bool, error) {
	props, err := i.conn.QOMList(ctx, "/objects")
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(props, func(p qmp.QOMProperty) bool { return p.Name == id }), nil
}

// freeVolumeSlot is the lowest hot-plug root port no device sits in, as
// QEMU says (the devices' parent buses), not as anything remembered.
func (i *Instance) freeVolumeSlot(ctx context.Context) (int, error) {
	props, err := i.conn.QOMList(ctx, peripheral)
	if err != nil {
		return 0, err
	}
	used := map[int]bool{}
	for _, p := range props {
		if !strings.HasPrefix(p.Type, "child<virtio-blk") {
			continue
		}
		var bus string
		args := map[string]string{"path": peripheral + "/" + p.Name, "property": "parent_bus"}
		if err := i.conn.Execute(ctx, "qom-get", args, &bus); err != nil {
			return 0, err
		}
		// "/machine/peripheral/hotplug3/hotplug3"
		if port, ok := strings.CutPrefix(bus, peripheral+"/hotplug"); ok {
			if n, err := strconv.Atoi(strings.SplitN(port, "/", 2)[0]); err == nil {
				used[n] = true
			}
		}
	}
	for slot := range i.spec.HotplugSlots {
		if !used[slot] {
			return slot, nil
		}
	}
	return 0, fmt.Errorf("%w: all %d volume slots are taken", ErrNoSlot, i.spec.HotplugSlots)
}

// UnplugVolume takes a volume away from the guest without waiting: it
// asks the guest to release the device (device_del, again on every call:
// QEMU refuses a repeat while one is pending, which is fine), and once
// the device is gone removes the throttle filter, the volume's node and
// the throttle group. It reports whether everything is gone; call it
// again until then. A volume that is not plugged is gone.
//
// QEMU cannot take a PCI device from a guest that does not let go (the
// removal is a handshake with the guest's OS). force cuts the device
// from the volume instead: the throttle filter is reopened onto an empty
// null node, so the guest's I/O on the device fails from then on, and
// the volume's node is closed at once, which releases its data (and its
// file lock) for another writer. The device itself stays until the guest
// lets go; the volume is reported gone (detached) as soon as it is cut.
func (i *Instance) UnplugVolume(ctx context.Context, volumeID string, force bool) (bool, error) {
	gone, err := i.unplugVolume(ctx, namesOf(volumeID), force)
	if err != nil {
		return false, fmt.Errorf("qemu: unplug volume %s from %s: %w", volumeID, i.spec.ID, err)
	}
	return gone, nil
}

func (i *Instance) unplugVolume(ctx context.Context, n volNames, force bool) (bool, error) {
	present, err := i.hasPeripheral(ctx, n.dev)
	if err != nil {
		return false, err
	}
	nodes, err := i.conn.BlockNodeNames(ctx)
	if err != nil {
		return false, err
	}
	if present {
		if err := i.conn.DeviceDel(ctx, n.dev); err != nil && !isQMPError(err) {
			return false, err
		}
		if !force {
			return false, nil
		}
		if err := i.cut(ctx, n, nodes); err != nil {
			return false, err
		}
		return true, nil
	}
	for _, node := range []string{n.throttle, n.gone, n.format} {
		if !slices.Contains(nodes, node) {
			continue
		}
		if err := i.conn.BlockdevDel(ctx, node); err != nil {
			if isQMPError(err) {
				return false, nil // QEMU drops the device's reference a little later
			}
			return false, err
		}
	}
	if has, err := i.hasObject(ctx, n.group); err != nil || !has {
		return err == nil, err
	}
	if err := i.conn.Execute(ctx, "object-del", map[string]string{"id": n.group}, nil); err != nil {
		return false, err
	}
	return true, nil
}

// cut reopens the throttle filter onto an empty node and closes the
// volume's node (see UnplugVolume).
func (i *Instance) cut(ctx context.Context, n volNames, nodes []string) error {
	if !slices.Contains(nodes, n.format) {
		return nil // cut already
	}
	if !slices.Contains(nodes, n.gone) {
		gone := map[string]any{"driver": "null-co", "node-name": n.gone, "size": 0}
		if err := i.conn.Execute(ctx, "blockdev-add", gone, nil); err != nil {
			return fmt.Errorf("cut: %w", err)
		}
	}
	if slices.Contains(nodes, n.throttle) {
		reopen := map[string]any{"options": []map[string]any{{
			"driver": "throttle", "node-name": n.throttle, "throttle-group": n.group, "file": n.gone}}}
		if err := i.conn.Execute(ctx, "blockdev-reopen", reopen, nil); err != nil {
			return fmt.Errorf("cut: %w", err)
		}
	}
	if err := i.conn.BlockdevDel(ctx, n.format); err != nil {
		return fmt.Errorf("cut: close the volume: %w", err)
	}
	return nil
}

func isQMPError(err error) bool {
	var qe *qmp.Error
	return errors.As(err, &qe)
}

// Volumes lists the volumes QEMU has now: those with a device, and those
// with only block nodes left (an interrupted plug or unplug). This, not
// anything the caller remembers, is the truth after an agent restart.
func (i *Instance) Volumes(ctx context.Context) ([]PluggedVolume, error) {
	vols, err := i.volumes(ctx)
	if err != nil {
		return nil, fmt.Errorf("qemu: volumes of %s: %w", i.spec.ID, err)
	}
	return vols, nil
}

type namedNode struct {
	NodeName string `json:"node-name"`
	Image    struct {
		VirtualSize int64 `json:"virtual-size"`
	} `json:"image"`
}

func (i *Instance) volumes(ctx context.Context) ([]PluggedVolume, error) {
	props, err := i.conn.QOMList(ctx, peripheral)
	if err != nil {
		return nil, err
	}
	var nodes []namedNode
	if err := i.conn.Execute(ctx, "query-named-block-nodes", map[string]bool{"flat": true}, &nodes); err != nil {
		return nil, err
	}
	byID := map[string]*PluggedVolume{}
	get := func(id string) *PluggedVolume {
		if byID[id] == nil {
			byID[id] = &PluggedVolume{ID: id}
		}
		return byID[id]
	}
	for _, p := range props {
		if id := volumeOfDev(p.Name); id != "" && strings.HasPrefix(p.Type, "child<") {
			get(id).Device = true
		}
	}
	names := map[string]bool{}
	for _, nd := range nodes {
		names[nd.NodeName] = true
		if s, ok := strings.CutSuffix(nd.NodeName, "-thr"); ok {
			if id := volumeOfDev(s + "-dev"); id != "" {
				get(id).Size = nd.Image.VirtualSize
			}
		}
	}
	out := make([]PluggedVolume, 0, len(byID))
	for _, v := range byID {
		n := namesOf(v.ID)
		v.Cut = names[n.gone] || (v.Device && !names[n.format])
		if v.Limits, err = i.groupLimits(ctx, n.group); err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b PluggedVolume) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (i *Instance) groupLimits(ctx context.Context, group string) (Limits, error) {
	var l struct {
		IOPS int   `json:"iops-total"`
		BPS  int64 `json:"bps-total"`
	}
	err := i.conn.Execute(ctx, "qom-get", map[string]string{"path": "/objects/" + group, "property": "limits"}, &l)
	var qe *qmp.Error
	if errors.As(err, &qe) {
		return Limits{}, nil // no group (left half-made): no limits
	}
	return Limits{IOPS: l.IOPS, ThroughputMiB: int(l.BPS >> 20)}, err
}

// ResizeVolume grows a plugged volume to size bytes with block_resize on
// its throttle node: QEMU grows what is below (a qcow2 file's virtual
// size, an RBD image) and tells the guest's virtio-blk device, whose
// driver sees the new capacity at once.
func (i *Instance) ResizeVolume(ctx context.Context, volumeID string, size int64) error {
	args := map[string]any{"node-name": namesOf(volumeID).throttle, "size": size}
	if err := i.conn.Execute(ctx, "block_resize", args, nil); err != nil {
		return fmt.Errorf("qemu: resize volume %s of %s to %d: %w", volumeID, i.spec.ID, size, err)
	}
	return nil
}

// SetVolumeLimits changes a plugged volume's limits live (qom-set on its
// throttle group's limits).
func (i *Instance) SetVolumeLimits(ctx context.Context, volumeID string, l Limits) error {
	if err := i.setGroupLimits(ctx, namesOf(volumeID).group, l); err != nil {
		return fmt.Errorf("qemu: limits of volume %s of %s: %w", volumeID, i.spec.ID, err)
	}
	return nil
}
