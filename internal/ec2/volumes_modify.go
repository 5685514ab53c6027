package ec2

import (
	"context"
	"strconv"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// volumeOptimizeTime is how long a modification stays optimizing after the
// data reached its new size (EBS re-balances data then; Kumo's QEMU
// throttle changes apply at once, so this only paces the states tools wait for).
const volumeOptimizeTime = 5 * time.Second

// Modification states.
const (
	modModifying  = "modifying"
	modOptimizing = "optimizing"
	modCompleted  = "completed"
)

// modView is a modification as Describe shows it at one instant.
type modView struct {
	store.VolumeModification
	state    string
	progress int64
	end      time.Time
}

// modAt computes a modification's state and progress at now: modifying
// until the data has the new size (growing it is the slow part), then
// optimizing for volumeOptimizeTime, then completed.
func modAt(m store.VolumeModification, now time.Time) modView {
	v := modView{VolumeModification: m}
	switch {
	case m.ReachedAt.IsZero():
		v.state, v.progress = modModifying, min(int64(now.Sub(m.StartedAt)/time.Second), 49)
	case now.Before(m.ReachedAt.Add(volumeOptimizeTime)):
		v.state = modOptimizing
		v.progress = 50 + int64(49*now.Sub(m.ReachedAt)/volumeOptimizeTime)
	default:
		v.state, v.progress, v.end = modCompleted, 100, m.ReachedAt.Add(volumeOptimizeTime)
	}
	v.progress = max(v.progress, 0)
	return v
}

func apiModification(m modView) ec2api.VolumeModification {
	out := ec2api.VolumeModification{VolumeId: str(m.VolumeID), ModificationState: str(m.state), Progress: i64(m.progress),
		StartTime: timep(m.StartedAt), OriginalSize: i32(int32(m.OriginalSize)), OriginalVolumeType: str(m.OriginalType),
		OriginalMultiAttachEnabled: boolp(m.OriginalMulti), TargetSize: i32(int32(m.TargetSize)), TargetVolumeType: str(m.TargetType),
		TargetMultiAttachEnabled: boolp(m.TargetMulti)}
	if m.OriginalIOPS > 0 {
		out.OriginalIops = i32(int32(m.OriginalIOPS))
	}
	if m.TargetIOPS > 0 {
		out.TargetIops = i32(int32(m.TargetIOPS))
	}
	if m.OriginalThroughput > 0 {
		out.OriginalThroughput = i32(int32(m.OriginalThroughput))
	}
	if m.TargetThroughput > 0 {
		out.TargetThroughput = i32(int32(m.TargetThroughput))
	}
	if !m.end.IsZero() {
		out.EndTime = timep(m.end)
	}
	return out
}

// ModifyVolume changes a volume's size, type, IOPS, throughput or
// multi-attach while it stays in use; nodes grow the data and change the
// I/O limits live.
func (s *Service) ModifyVolume(ctx context.Context, in *ec2api.ModifyVolumeRequest) (*ec2api.ModifyVolumeResult, error) {
	id := deref(in.VolumeId)
	var mod store.VolumeModification
	var nodes []string
	now := time.Now().UTC()
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		v, err := ownedVolume(ctx, tx, account, id)
		if err != nil {
			return err
		}
		if err := checkModifiable(ctx, tx, account, v, now); err != nil {
			return err
		}
		p, err := modifiedPerf(v, in)
		if err != nil {
			return err
		}
		if p.Size > v.SizeGiB {
			if err := s.checkVolumeQuota(ctx, tx, account, p.Type, p.Size-v.SizeGiB); err != nil {
				return err
			}
		}
		mod = store.VolumeModification{VolumeID: v.ID, StartedAt: now, OriginalSize: v.SizeGiB, OriginalType: v.VolumeType,
			OriginalIOPS: v.IOPS, OriginalThroughput: v.Throughput, OriginalMulti: v.MultiAttach,
			TargetSize: p.Size, TargetType: p.Type, TargetIOPS: p.IOPS, TargetThroughput: p.Throughput, TargetMulti: p.MultiAttach}
		if p.Size == v.SizeGiB || v.HomeNode == "" && v.RootInstance == "" {
			mod.ReachedAt = now // no data to grow
		}
		if err := tx.InsertVolumeModification(ctx, mod); err != nil {
			return err
		}
		v.SizeGiB, v.VolumeType, v.IOPS, v.Throughput, v.MultiAttach = p.Size, p.Type, p.IOPS, p.Throughput, p.MultiAttach
		if err := tx.UpdateVolume(ctx, v); err != nil {
			return err
		}
		if nodes, err = volumeNodes(ctx, tx, v); err != nil {
			return err
		}
		return tx.RecordVolumeModified(ctx, v, now)
	})
	if err != nil {
		return nil, err
	}
	s.notify(nodes...)
	m := apiModification(modAt(mod, now))
	return &ec2api.ModifyVolumeResult{VolumeModification: &m}, nil
}

// volumeNodes are the nodes that hold or use a volume.
func volumeNodes(ctx context.Context, tx *store.Tx, v store.Volume) ([]string, error) {
	nodes := []string{v.HomeNode}
	atts, err := tx.VolumeAttachmentsOf(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range atts {
		inst, err := tx.GetInstance(ctx, v.AccountID, a.InstanceID)
		if err != nil {
			continue // gone: nothing to tell
		}
		nodes = append(nodes, inst.NodeID)
	}
	return nodes, nil
}

// checkModifiable refuses a volume that is not available or in use, or
// whose last modification is still in progress.
func checkModifiable(ctx context.Context, tx *store.Tx, account string, v store.Volume, now time.Time) error {
	if v.State != store.VolumeAvailable && v.State != store.VolumeInUse {
		return apiErr("IncorrectState", "The volume '%s' is in the '%s' state.", v.ID, v.State)
	}
	mods, err := tx.ListVolumeModifications(ctx, account)
	if err != nil {
		return err
	}
	for _, m := range mods {
		if m.VolumeID == v.ID && modAt(m, now).state != modCompleted {
			return apiErr("IncorrectModificationState", "Volume %s is already being modified.", v.ID)
		}
	}
	return nil
}

// modifiedPerf is the volume's performance after the request: unnamed
// values are kept when the type stays, defaults when it changes.
func modifiedPerf(v store.Volume, in *ec2api.ModifyVolumeRequest) (volumePerf, error) {
	req := perfRequest{Type: v.VolumeType, Size: in.Size, IOPS: in.Iops, Throughput: in.Throughput, MultiAttach: in.MultiAttachEnabled}
	if in.VolumeType != nil {
		req.Type = *in.VolumeType
	}
	if req.Size == nil {
		req.Size = i32(int32(v.SizeGiB))
	}
	if req.Type == v.VolumeType {
		k := volumeKinds[v.VolumeType]
		if req.IOPS == nil && k.provisioned {
			req.IOPS = i32(int32(v.IOPS))
		}
		if req.Throughput == nil && k.throughput {
			req.Throughput = i32(int32(v.Throughput))
		}
	} else if k, ok := volumeKinds[req.Type]; ok && k.provisioned && req.IOPS == nil {
		req.IOPS = i32(3000) // EC2's default when the type changes to gp3, io1 or io2
	}
	if req.MultiAttach == nil {
		req.MultiAttach = boolp(v.MultiAttach)
		if !volumeKinds[req.Type].multiAttachAllowed {
			req.MultiAttach = boolp(false)
		}
	}
	p, err := resolvePerf(req, 0, "")
	if err != nil {
		return p, err
	}
	switch {
	case p.Size < v.SizeGiB:
		return p, invalid("New size cannot be smaller than existing size")
	case p.Size > v.SizeGiB && v.RootInstance != "":
		return p, apiErr("UnsupportedOperation", "Growing the root volume '%s' is not supported by Kumo yet.", v.ID)
	case p.MultiAttach != v.MultiAttach && v.State == store.VolumeInUse:
		return p, apiErr("IncorrectState", "Multi-Attach can be changed only while the volume '%s' is available.", v.ID)
	case p == volumePerf{Type: v.VolumeType, Size: v.SizeGiB, IOPS: v.IOPS, Throughput: v.Throughput, MultiAttach: v.MultiAttach}:
		return p, invalid("Modification of volume '%s' is not needed: the requested size, type, IOPS and throughput are the current ones.", v.ID)
	}
	return p, nil
}

func modFields() filter.Fields[modView] {
	n := func(f func(modView) int64) func(modView) []string {
		return func(m modView) []string { return filter.One(strconv.FormatInt(f(m), 10)) }
	}
	return filter.Fields[modView]{
		"modification-state":         func(m modView) []string { return filter.One(m.state) },
		"original-iops":              n(func(m modView) int64 { return m.OriginalIOPS }),
		"original-size":              n(func(m modView) int64 { return m.OriginalSize }),
		"original-throughput":        n(func(m modView) int64 { return m.OriginalThroughput }),
		"original-volume-type":       func(m modView) []string { return filter.One(m.OriginalType) },
		"originalMultiAttachEnabled": func(m modView) []string { return filter.Bool(m.OriginalMulti) },
		"start-time":                 func(m modView) []string { return filter.One(m.StartedAt.Format(isoMillis)) },
		"target-iops":                n(func(m modView) int64 { return m.TargetIOPS }),
		"target-size":                n(func(m modView) int64 { return m.TargetSize }),
		"target-throughput":          n(func(m modView) int64 { return m.TargetThroughput }),
		"target-volume-type":         func(m modView) []string { return filter.One(m.TargetType) },
		"targetMultiAttachEnabled":   func(m modView) []string { return filter.Bool(m.TargetMulti) },
		"volume-id":                  func(m modView) []string { return filter.One(m.VolumeID) },
	}
}

// DescribeVolumesModifications lists the modifications of the caller's volumes.
func (s *Service) DescribeVolumesModifications(ctx context.Context, in *ec2api.DescribeVolumesModificationsRequest) (*ec2api.DescribeVolumesModificationsResult, error) {
	now := time.Now().UTC()
	var mods []modView
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		for _, id := range in.VolumeIds {
			if _, err := ownedVolume(ctx, tx, account, id); err != nil {
				return err
			}
		}
		list, err := tx.ListVolumeModifications(ctx, account)
		for _, m := range list {
			mods = append(mods, modAt(m, now))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(in.VolumeIds) > 0 {
		want := map[string]bool{}
		for _, id := range in.VolumeIds {
			want[id] = true
		}
		var kept []modView
		for _, m := range mods {
			if want[m.VolumeID] {
				kept = append(kept, m)
			}
		}
		mods = kept
	}
	page, next, err := describe(mods, in.Filters, modFields(), nil,
		func(m modView) string { return m.VolumeID + "/" + strconv.FormatInt(m.StartedAt.UnixMilli(), 10) }, in.MaxResults, in.NextToken,
		paginate.Limits{Min: 5, Max: 500})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVolumesModificationsResult{VolumesModifications: []ec2api.VolumeModification{}, NextToken: next}
	for _, m := range page {
		out.VolumesModifications = append(out.VolumesModifications, apiModification(m))
	}
	return out, nil
}
