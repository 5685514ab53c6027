package ec2

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

const typeVolume = "volume"

// DefaultVolumeStorageGiB is an account's storage limit per volume type
// (EC2's default quota for gp2/gp3 storage: 50 TiB).
const DefaultVolumeStorageGiB = 50 * 1024

func errVolumeNotFound(id string) error {
	return apiErr("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
}

// volumeView is a volume with what Describe shows of it.
type volumeView struct {
	store.Volume
	attachments []store.VolumeAttachment
	tags        []store.Tag
}

func (v volumeView) apiAttachments() []ec2api.VolumeAttachment {
	out := []ec2api.VolumeAttachment{}
	for _, a := range v.attachments {
		out = append(out, apiVolumeAttachment(a))
	}
	return out
}

func apiVolumeAttachment(a store.VolumeAttachment) ec2api.VolumeAttachment {
	return ec2api.VolumeAttachment{AttachTime: timep(a.AttachTime), Device: str(a.Device), InstanceId: str(a.InstanceID),
		State: str(a.State), VolumeId: str(a.VolumeID), DeleteOnTermination: boolp(a.DeleteOnTermination)}
}

func apiVolume(v volumeView) ec2api.Volume {
	out := ec2api.Volume{VolumeId: str(v.ID), AvailabilityZone: str(v.AvailabilityZone), CreateTime: timep(v.CreatedAt),
		Encrypted: boolp(false), Size: i32(int32(v.SizeGiB)), SnapshotId: str(v.SnapshotID), State: str(v.State),
		VolumeType: str(v.VolumeType), MultiAttachEnabled: boolp(v.MultiAttach), FastRestored: boolp(false),
		Attachments: v.apiAttachments(), Tags: apiTags(v.tags)}
	if v.IOPS > 0 {
		out.Iops = i32(int32(v.IOPS))
	}
	if v.Throughput > 0 {
		out.Throughput = i32(int32(v.Throughput))
	}
	return out
}

func attachmentValues(v volumeView, f func(store.VolumeAttachment) string) []string {
	var out []string
	for _, a := range v.attachments {
		out = append(out, f(a))
	}
	return out
}

const isoMillis = "2006-01-02T15:04:05.000Z"

var volumeFields = filter.Fields[volumeView]{
	"attachment.attach-time": func(v volumeView) []string {
		return attachmentValues(v, func(a store.VolumeAttachment) string { return a.AttachTime.Format(isoMillis) })
	},
	"attachment.delete-on-termination": func(v volumeView) []string {
		return attachmentValues(v, func(a store.VolumeAttachment) string { return strconv.FormatBool(a.DeleteOnTermination) })
	},
	"attachment.device": func(v volumeView) []string {
		return attachmentValues(v, func(a store.VolumeAttachment) string { return a.Device })
	},
	"attachment.instance-id": func(v volumeView) []string {
		return attachmentValues(v, func(a store.VolumeAttachment) string { return a.InstanceID })
	},
	"attachment.status": func(v volumeView) []string {
		return attachmentValues(v, func(a store.VolumeAttachment) string { return a.State })
	},
	"availability-zone":    func(v volumeView) []string { return filter.One(v.AvailabilityZone) },
	"create-time":          func(v volumeView) []string { return filter.One(v.CreatedAt.Format(isoMillis)) },
	"encrypted":            func(volumeView) []string { return filter.Bool(false) },
	"fast-restored":        func(volumeView) []string { return filter.Bool(false) },
	"multi-attach-enabled": func(v volumeView) []string { return filter.Bool(v.MultiAttach) },
	"operator.managed":     func(volumeView) []string { return filter.Bool(false) },
	"operator.principal":   func(volumeView) []string { return nil },
	"size":                 func(v volumeView) []string { return filter.One(strconv.FormatInt(v.SizeGiB, 10)) },
	"snapshot-id":          func(v volumeView) []string { return filter.One(v.SnapshotID) },
	"status":               func(v volumeView) []string { return filter.One(v.State) },
	"volume-id":            func(v volumeView) []string { return filter.One(v.ID) },
	"volume-type":          func(v volumeView) []string { return filter.One(v.VolumeType) },
}

// volumeData reads an account's volumes with their attachments and tags in one transaction.
func volumeData(ctx context.Context, tx *store.Tx, account string) ([]volumeView, error) {
	vols, err := tx.ListVolumes(ctx, account)
	if err != nil {
		return nil, err
	}
	atts, err := tx.ListVolumeAttachments(ctx, account)
	if err != nil {
		return nil, err
	}
	tags, err := tx.TagsByResource(ctx, account, typeVolume)
	if err != nil {
		return nil, err
	}
	byVol := map[string][]store.VolumeAttachment{}
	for _, a := range atts {
		byVol[a.VolumeID] = append(byVol[a.VolumeID], a)
	}
	out := make([]volumeView, 0, len(vols))
	for _, v := range vols {
		out = append(out, volumeView{Volume: v, attachments: byVol[v.ID], tags: tags[v.ID]})
	}
	return out, nil
}

func (s *Service) volumeViews(ctx context.Context) ([]volumeView, error) {
	var views []volumeView
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		views, err = volumeData(ctx, tx, account)
		return err
	})
	return views, err
}

// DescribeVolumes lists the caller's volumes; another account's are NotFound.
func (s *Service) DescribeVolumes(ctx context.Context, in *ec2api.DescribeVolumesRequest) (*ec2api.DescribeVolumesResult, error) {
	if err := noIDsWithMaxResults("volumeIds", in.VolumeIds, in.MaxResults); err != nil {
		return nil, err
	}
	for _, id := range in.VolumeIds {
		if err := checkID(id, "vol", "InvalidVolumeID.Malformed"); err != nil {
			return nil, err
		}
	}
	views, err := s.volumeViews(ctx)
	if err != nil {
		return nil, err
	}
	if views, err = selectByID(views, in.VolumeIds, func(v volumeView) string { return v.ID }, errVolumeNotFound); err != nil {
		return nil, err
	}
	page, next, err := describe(views, in.Filters, volumeFields, func(v volumeView) map[string]string { return tagMap(v.tags) },
		func(v volumeView) string { return v.ID }, in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 500})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVolumesResult{Volumes: []ec2api.Volume{}, NextToken: next}
	for _, v := range page {
		out.Volumes = append(out.Volumes, apiVolume(v))
	}
	return out, nil
}

// ownedVolume finds one of the caller's volumes; others' are NotFound.
func ownedVolume(ctx context.Context, tx *store.Tx, account, id string) (store.Volume, error) {
	if id == "" {
		return store.Volume{}, apiErr("MissingParameter", "The request must contain the parameter volumeId")
	}
	if err := checkID(id, "vol", "InvalidVolumeID.Malformed"); err != nil {
		return store.Volume{}, err
	}
	v, err := tx.GetVolume(ctx, account, id)
	if errors.Is(err, store.ErrNotFound) {
		return v, errVolumeNotFound(id)
	}
	return v, err
}

// createVolume is a validated CreateVolume request.
type createVolume struct {
	zone, snapshot, token string
	req                   perfRequest
	tags                  []ec2api.Tag
}

// CreateVolume makes an empty volume or one from a snapshot. Its data is
// made lazily by the first node that attaches it (zeros or the snapshot's
// chunks), so the volume is available at once.
func (s *Service) CreateVolume(ctx context.Context, in *ec2api.CreateVolumeRequest) (*ec2api.Volume, error) {
	c, err := s.parseCreateVolume(in)
	if err != nil {
		return nil, err
	}
	var view volumeView
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		prior, err := priorToken(ctx, tx, account, "CreateVolume", c.token, in)
		if err != nil {
			return err
		}
		if prior != "" {
			return s.replayVolume(ctx, tx, account, prior, &view)
		}
		v, err := s.newVolume(ctx, tx, account, c.zone, c.snapshot, c.req)
		if err != nil {
			return err
		}
		if err := tx.InsertVolume(ctx, v); err != nil {
			return err
		}
		tags, err := putTags(ctx, tx, account, v.ID, typeVolume, c.tags)
		if err != nil {
			return err
		}
		view = volumeView{Volume: v, tags: tags}
		return recordToken(ctx, tx, account, "CreateVolume", c.token, in, v.ID)
	})
	if err != nil {
		return nil, err
	}
	out := apiVolume(view)
	out.Attachments = nil
	return &out, nil
}

func (s *Service) replayVolume(ctx context.Context, tx *store.Tx, account, id string, view *volumeView) error {
	views, err := volumeData(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, v := range views {
		if v.ID == id {
			*view = v
			return nil
		}
	}
	return errVolumeNotFound(id) // deleted since: AWS answers with what it made, which is gone
}

func (s *Service) parseCreateVolume(in *ec2api.CreateVolumeRequest) (createVolume, error) {
	c := createVolume{zone: deref(in.AvailabilityZone), snapshot: deref(in.SnapshotId), token: deref(in.ClientToken),
		req: perfRequest{Type: deref(in.VolumeType), Size: in.Size, IOPS: in.Iops, Throughput: in.Throughput, MultiAttach: in.MultiAttachEnabled}}
	switch {
	case c.zone == "":
		return c, apiErr("MissingParameter", "The request must contain the parameter AvailabilityZone")
	case !slices.Contains(s.Cfg.Zones, c.zone):
		return c, invalid("Invalid availability zone: [%s]", c.zone)
	case deref2(in.Encrypted) || in.KmsKeyId != nil:
		return c, apiErr("UnsupportedOperation", "Encrypted volumes are not supported by Kumo yet.")
	case in.OutpostArn != nil:
		return c, apiErr("UnsupportedOperation", "Outposts are not supported by Kumo.")
	case c.snapshot != "":
		if err := checkID(c.snapshot, "snap", "InvalidSnapshotID.Malformed"); err != nil {
			return c, err
		}
	}
	if len(c.token) > maxClientToken {
		return c, invalid("Value (%s) for parameter clientToken is invalid. The length of the client token must not exceed %d characters.", c.token, maxClientToken)
	}
	var err error
	c.tags, err = specTags(in.TagSpecifications, typeVolume)
	return c, err
}

// newVolume checks the snapshot, the limits and the quota, and returns the row to insert.
func (s *Service) newVolume(ctx context.Context, tx *store.Tx, account, zone, snapID string, req perfRequest) (store.Volume, error) {
	var snapSize int64
	if snapID != "" {
		sn, err := visibleSnapshot(ctx, tx, account, snapID)
		if err != nil {
			return store.Volume{}, err
		}
		if sn.State != "completed" {
			return store.Volume{}, apiErr("IncorrectState", "Snapshot '%s' is in state '%s'; a volume can be created only from a completed snapshot.", snapID, sn.State)
		}
		snapSize = max(sn.VolumeSize, 1)
	}
	p, err := resolvePerf(req, snapSize, snapID)
	if err != nil {
		return store.Volume{}, err
	}
	if err := s.checkVolumeQuota(ctx, tx, account, p.Type, p.Size); err != nil {
		return store.Volume{}, err
	}
	return store.Volume{ID: ids.Resource("vol"), AccountID: account, AvailabilityZone: zone, SizeGiB: p.Size, VolumeType: p.Type,
		IOPS: p.IOPS, Throughput: p.Throughput, SnapshotID: snapID, MultiAttach: p.MultiAttach, State: store.VolumeAvailable,
		Backend: s.volumeBackend(), CreatedAt: time.Now().UTC()}, nil
}

func (s *Service) volumeBackend() string {
	if s.Cfg.VolumeBackend == "" {
		return nodeapi.VolumeBackendLocal
	}
	return s.Cfg.VolumeBackend
}

// checkVolumeQuota enforces the per-type storage limit inside the create transaction.
func (s *Service) checkVolumeQuota(ctx context.Context, tx *store.Tx, account, vtype string, more int64) error {
	limit := s.Cfg.VolumeStorageGiB
	if limit <= 0 {
		limit = DefaultVolumeStorageGiB
	}
	used, err := tx.VolumeUsageGiB(ctx, account, vtype)
	if err != nil {
		return err
	}
	if used+more > limit {
		return apiErr("VolumeLimitExceeded", "You have exceeded your maximum %s storage limit of %d GiB in this region. Currently used: %d GiB.", vtype, limit, used)
	}
	return nil
}

// visibleSnapshot finds a snapshot the caller owns or may create volumes from.
func visibleSnapshot(ctx context.Context, tx *store.Tx, account, id string) (store.Snapshot, error) {
	list, err := tx.VisibleSnapshots(ctx, account)
	if err != nil {
		return store.Snapshot{}, err
	}
	for _, sn := range list {
		if sn.ID == id {
			return sn, nil
		}
	}
	return store.Snapshot{}, errSnapshotNotFound(id)
}

// DeleteVolume deletes an available volume: at once when no node holds
// its data, else it is deleting until its home node reports the data gone.
func (s *Service) DeleteVolume(ctx context.Context, in *ec2api.DeleteVolumeRequest) (*ec2api.DeleteVolumeOutput, error) {
	id := deref(in.VolumeId)
	var home string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		v, err := ownedVolume(ctx, tx, account, id)
		if err != nil {
			return err
		}
		atts, err := tx.VolumeAttachmentsOf(ctx, id)
		if err != nil {
			return err
		}
		if len(atts) > 0 {
			return apiErr("VolumeInUse", "Volume %s is currently attached to %s", id, atts[0].InstanceID)
		}
		switch v.State {
		case store.VolumeDeleting:
			return nil
		case store.VolumeAvailable, store.VolumeError, store.VolumeCreating:
		default:
			return apiErr("IncorrectState", "The volume '%s' is in the '%s' state.", id, v.State)
		}
		if v.HomeNode == "" {
			return tx.DeleteVolumeRow(ctx, v, time.Now().UTC())
		}
		home, v.State = v.HomeNode, store.VolumeDeleting
		return tx.UpdateVolume(ctx, v)
	})
	if err != nil {
		return nil, err
	}
	s.notify(home)
	return &ec2api.DeleteVolumeOutput{}, nil
}
