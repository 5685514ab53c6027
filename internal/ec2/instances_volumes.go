package ec2

import (
	"context"
	"slices"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// launchVolume is one further EBS volume RunInstances makes.
type launchVolume struct {
	device, snapshot string
	perf             volumePerf
	deleteOnTerm     bool
}

// launchDisks decides the root disk and the further volumes from the
// image's block-device mapping and the request's, which overrides it
// device by device (NoDevice drops one). Every Kumo root is a disk on its
// node that outlives a stop (a qcow2 overlay on the image, blank for a
// kernel+ramdisk image), shown as an EBS root volume: the demo image can
// be stopped and started.
func launchDisks(ctx context.Context, tx *store.Tx, account string, im store.Image, req []ec2api.BlockDeviceMapping) (rootDisk, []launchVolume, error) {
	r := rootDisk{name: im.RootDeviceName, kind: instancestate.RootEBS, size: defaultRootGiB}
	if r.name == "" {
		r.name = defaultRootDevice
	}
	rootReq := perfRequest{Type: defaultVolumeType}
	maps := map[string]ec2api.EbsBlockDevice{} // device -> mapping, image's then the request's
	var order []string
	for _, bd := range im.BlockDevices {
		if bd.DeviceName == r.name {
			r.snapshot, r.size = bd.SnapshotID, max(bd.VolumeSize, 1)
			if bd.VolumeType != "" {
				rootReq.Type = bd.VolumeType
			}
			continue
		}
		if bd.NoDevice || bd.VirtualName != "" {
			continue
		}
		maps[bd.DeviceName] = ec2api.EbsBlockDevice{SnapshotId: optional(bd.SnapshotID), VolumeSize: i32(int32(bd.VolumeSize)),
			VolumeType: optional(bd.VolumeType), DeleteOnTermination: boolp(bd.DeleteOnTermination)}
		order = append(order, bd.DeviceName)
	}
	for _, m := range req {
		dev := deref(m.DeviceName)
		if err := checkDevice(dev); err != nil {
			return r, nil, err
		}
		switch {
		case dev == r.name:
			if err := rootMapping(&r, &rootReq, m); err != nil {
				return r, nil, err
			}
		case m.NoDevice != nil:
			delete(maps, dev)
		case m.VirtualName != nil || m.Ebs == nil:
			continue // instance store: Kumo's instances have none
		default:
			if _, ok := maps[dev]; !ok {
				order = append(order, dev)
			}
			maps[dev] = mergeEbs(maps[dev], *m.Ebs)
		}
	}
	var err error
	if r.perf, err = resolvePerf(perfRequest{Type: rootReq.Type, Size: i32(int32(r.size)), IOPS: rootReq.IOPS, Throughput: rootReq.Throughput}, 0, ""); err != nil {
		return r, nil, err
	}
	var vols []launchVolume
	for _, dev := range order {
		ebs, ok := maps[dev]
		if !ok {
			continue
		}
		v, err := launchVolumeOf(ctx, tx, account, dev, ebs)
		if err != nil {
			return r, nil, err
		}
		vols = append(vols, v)
	}
	return r, vols, nil
}

// rootMapping applies the request's mapping of the root device.
func rootMapping(r *rootDisk, req *perfRequest, m ec2api.BlockDeviceMapping) error {
	if m.NoDevice != nil || m.VirtualName != nil || m.Ebs == nil {
		return nil
	}
	e := m.Ebs
	switch {
	case e.SnapshotId != nil && *e.SnapshotId != r.snapshot:
		return apiErr("InvalidBlockDeviceMapping", "The root device %s must keep the image's snapshot '%s'.", r.name, r.snapshot)
	case e.DeleteOnTermination != nil && !*e.DeleteOnTermination:
		return apiErr("UnsupportedOperation", "Kumo keeps a root volume's data in its instance's disk, which goes with the instance: DeleteOnTermination=false on the root device %s is not supported yet.", r.name)
	case deref2(e.Encrypted) || e.KmsKeyId != nil:
		return apiErr("UnsupportedOperation", "Encrypted volumes are not supported by Kumo yet.")
	}
	if e.VolumeType != nil {
		req.Type = *e.VolumeType
	}
	req.IOPS, req.Throughput = e.Iops, e.Throughput
	if e.VolumeSize == nil {
		return nil
	}
	size := int64(*e.VolumeSize)
	if size < 1 || size > 16384 {
		return invalid("Volume size must be between 1 and 16384 GiB (got %d).", size)
	}
	if r.snapshot != "" && size < r.size {
		return apiErr("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", size, r.snapshot, r.size)
	}
	r.size = size
	return nil
}

// mergeEbs lays a request's Ebs over the image's for the same device.
func mergeEbs(base, over ec2api.EbsBlockDevice) ec2api.EbsBlockDevice {
	if over.SnapshotId != nil {
		base.SnapshotId = over.SnapshotId
	}
	if over.VolumeSize != nil {
		base.VolumeSize = over.VolumeSize
	}
	if over.VolumeType != nil {
		base.VolumeType, base.Iops, base.Throughput = over.VolumeType, nil, nil
	}
	if over.Iops != nil {
		base.Iops = over.Iops
	}
	if over.Throughput != nil {
		base.Throughput = over.Throughput
	}
	if over.DeleteOnTermination != nil {
		base.DeleteOnTermination = over.DeleteOnTermination
	}
	base.Encrypted, base.KmsKeyId = over.Encrypted, over.KmsKeyId
	return base
}

// launchVolumeOf validates one further volume of a launch.
func launchVolumeOf(ctx context.Context, tx *store.Tx, account, dev string, e ec2api.EbsBlockDevice) (launchVolume, error) {
	v := launchVolume{device: dev, snapshot: deref(e.SnapshotId), deleteOnTerm: e.DeleteOnTermination == nil || *e.DeleteOnTermination}
	if deref2(e.Encrypted) || e.KmsKeyId != nil {
		return v, apiErr("UnsupportedOperation", "Encrypted volumes are not supported by Kumo yet.")
	}
	var snapSize int64
	if v.snapshot != "" {
		sn, err := visibleSnapshot(ctx, tx, account, v.snapshot)
		if err != nil {
			return v, err
		}
		snapSize = max(sn.VolumeSize, 1)
	}
	size := e.VolumeSize
	if size != nil && *size == 0 && snapSize > 0 {
		size = nil // an image's mapping of a snapshot without a size
	}
	var err error
	v.perf, err = resolvePerf(perfRequest{Type: deref(e.VolumeType), Size: size, IOPS: e.Iops, Throughput: e.Throughput}, snapSize, v.snapshot)
	return v, err
}

// insertLaunchVolumes records an instance's root volume (attached: it is
// the instance's disk) and its further volumes (attaching: the node makes
// and hot-plugs them), with their tags and usage.
func (s *Service) insertLaunchVolumes(ctx context.Context, tx *store.Tx, l *launch, row store.Instance) ([]store.VolumeAttachment, error) {
	if row.RootDeviceType != instancestate.RootEBS {
		return nil, nil
	}
	now := row.CreatedAt
	root := store.Volume{ID: rootVolumeID(row.ID), AccountID: row.AccountID, AvailabilityZone: row.AvailabilityZone, SizeGiB: l.root.size,
		VolumeType: l.root.perf.Type, IOPS: l.root.perf.IOPS, Throughput: l.root.perf.Throughput, SnapshotID: l.root.snapshot,
		State: store.VolumeInUse, Backend: s.volumeBackend(), HomeNode: row.NodeID, RootInstance: row.ID, CreatedAt: now}
	atts := []store.VolumeAttachment{{VolumeID: root.ID, InstanceID: row.ID, AccountID: row.AccountID, Device: row.RootDeviceName,
		State: store.AttachmentAttached, DeleteOnTermination: true, AttachTime: now}}
	if err := s.insertAttached(ctx, tx, root, atts[0], l.volTags); err != nil {
		return nil, err
	}
	for _, lv := range l.volumes {
		v := store.Volume{ID: ids.Resource("vol"), AccountID: row.AccountID, AvailabilityZone: row.AvailabilityZone, SizeGiB: lv.perf.Size,
			VolumeType: lv.perf.Type, IOPS: lv.perf.IOPS, Throughput: lv.perf.Throughput, SnapshotID: lv.snapshot,
			State: store.VolumeInUse, Backend: s.volumeBackend(), CreatedAt: now}
		if err := s.checkVolumeQuota(ctx, tx, row.AccountID, v.VolumeType, v.SizeGiB); err != nil {
			return nil, err
		}
		a := store.VolumeAttachment{VolumeID: v.ID, InstanceID: row.ID, AccountID: row.AccountID, Device: lv.device,
			State: store.AttachmentAttaching, DeleteOnTermination: lv.deleteOnTerm, AttachTime: now}
		if err := s.insertAttached(ctx, tx, v, a, l.volTags); err != nil {
			return nil, err
		}
		atts = append(atts, a)
	}
	slices.SortFunc(atts, func(a, b store.VolumeAttachment) int { return compareStrings(a.Device, b.Device) })
	return atts, nil
}

func (s *Service) insertAttached(ctx context.Context, tx *store.Tx, v store.Volume, a store.VolumeAttachment, tags []ec2api.Tag) error {
	if err := tx.InsertVolume(ctx, v); err != nil {
		return err
	}
	if err := tx.InsertVolumeAttachment(ctx, a); err != nil {
		return err
	}
	_, err := putTags(ctx, tx, v.AccountID, v.ID, typeVolume, tags)
	return err
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// blockDeviceMappings are an instance's volumes as DescribeInstances shows them.
func (v instanceView) blockDeviceMappings() []ec2api.InstanceBlockDeviceMapping {
	if len(v.vols) == 0 {
		return []ec2api.InstanceBlockDeviceMapping{v.rootMapping()}
	}
	out := []ec2api.InstanceBlockDeviceMapping{}
	vols := slices.Clone(v.vols)
	slices.SortStableFunc(vols, func(a, b store.VolumeAttachment) int { // the root first, as EC2 lists them
		return boolRank(b.Device == v.RootDeviceName) - boolRank(a.Device == v.RootDeviceName)
	})
	for _, a := range vols {
		out = append(out, ec2api.InstanceBlockDeviceMapping{DeviceName: str(a.Device), Ebs: &ec2api.EbsInstanceBlockDevice{
			VolumeId: str(a.VolumeID), Status: str(a.State), AttachTime: timep(a.AttachTime), DeleteOnTermination: boolp(a.DeleteOnTermination)}})
	}
	return out
}

func (v instanceView) volumeValues(f func(store.VolumeAttachment) string) []string {
	if len(v.vols) == 0 {
		return []string{f(store.VolumeAttachment{VolumeID: rootVolumeID(v.ID), Device: v.RootDeviceName, State: store.AttachmentAttached,
			DeleteOnTermination: true, AttachTime: v.CreatedAt})}
	}
	var out []string
	for _, a := range v.vols {
		out = append(out, f(a))
	}
	return out
}

// setVolumesDeleteOnTermination applies ModifyInstanceAttribute's block-device
// mappings: DeleteOnTermination of attached volumes, by device.
func setVolumesDeleteOnTermination(ctx context.Context, tx *store.Tx, inst store.Instance, maps []ec2api.InstanceBlockDeviceMappingSpecification) error {
	atts, err := tx.InstanceVolumeAttachments(ctx, inst.ID)
	if err != nil {
		return err
	}
	for _, m := range maps {
		dev := deref(m.DeviceName)
		i := slices.IndexFunc(atts, func(a store.VolumeAttachment) bool { return a.Device == dev })
		switch {
		case m.NoDevice != nil || m.VirtualName != nil:
			return apiErr("UnsupportedOperation", "Only DeleteOnTermination of attached EBS volumes can be modified.")
		case i < 0:
			return invalid("The device '%s' is not mapped on instance '%s'.", dev, inst.ID)
		case m.Ebs == nil || m.Ebs.DeleteOnTermination == nil:
			continue
		case m.Ebs.VolumeId != nil && *m.Ebs.VolumeId != atts[i].VolumeID:
			return invalid("The volume '%s' is not attached to '%s' at %s.", *m.Ebs.VolumeId, inst.ID, dev)
		case dev == inst.RootDeviceName && !*m.Ebs.DeleteOnTermination:
			return apiErr("UnsupportedOperation", "Kumo keeps a root volume's data in its instance's disk, which goes with the instance: DeleteOnTermination=false on the root device %s is not supported yet.", dev)
		}
		atts[i].DeleteOnTermination = *m.Ebs.DeleteOnTermination
		if err := tx.UpdateVolumeAttachment(ctx, atts[i]); err != nil {
			return err
		}
	}
	return nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
