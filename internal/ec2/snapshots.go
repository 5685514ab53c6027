package ec2

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/store"
)

const typeSnapshot = "snapshot"

func errSnapshotNotFound(id string) error {
	return apiErr("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
}

// snapshotView is a snapshot with what Describe shows of it.
type snapshotView struct {
	store.Snapshot
	tags    []store.Tag
	grantee bool // visible to the caller through a permission, not ownership
}

func apiSnapshot(s snapshotView) ec2api.Snapshot {
	return ec2api.Snapshot{
		SnapshotId: str(s.ID), OwnerId: str(s.AccountID), VolumeId: str(s.VolumeID), VolumeSize: i32(int32(s.VolumeSize)),
		State: str(s.State), Progress: str(strconv.FormatInt(s.Progress, 10) + "%"), Description: str(s.Description),
		StartTime: timep(s.CreatedAt), Encrypted: boolp(false), StorageTier: str("standard"),
		StateMessage: optional(s.StateMessage), Tags: apiTags(s.tags),
	}
}

var snapshotFields = filter.Fields[snapshotView]{
	"description": func(s snapshotView) []string { return filter.One(s.Description) },
	"encrypted":   func(snapshotView) []string { return filter.Bool(false) },
	"owner-id":    func(s snapshotView) []string { return filter.One(s.AccountID) },
	"progress":    func(s snapshotView) []string { return filter.One(strconv.FormatInt(s.Progress, 10) + "%") },
	"snapshot-id": func(s snapshotView) []string { return filter.One(s.ID) },
	"start-time":  func(s snapshotView) []string { return filter.One(s.CreatedAt.Format("2006-01-02T15:04:05.000Z")) },
	"status":      func(s snapshotView) []string { return filter.One(s.State) },
	"volume-id":   func(s snapshotView) []string { return filter.One(s.VolumeID) },
	"volume-size": func(s snapshotView) []string { return filter.One(strconv.FormatInt(s.VolumeSize, 10)) },
	"storage-tier": func(snapshotView) []string {
		return filter.One("standard")
	},
}

// DescribeSnapshots lists snapshots the caller owns or may create volumes from.
func (s *Service) DescribeSnapshots(ctx context.Context, in *ec2api.DescribeSnapshotsRequest) (*ec2api.DescribeSnapshotsResult, error) {
	if err := noIDsWithMaxResults("snapshotIds", in.SnapshotIds, in.MaxResults); err != nil {
		return nil, err
	}
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	views, err := s.visibleSnapshots(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	views, err = selectByID(views, in.SnapshotIds, func(v snapshotView) string { return v.ID }, errSnapshotNotFound)
	if err != nil {
		return nil, err
	}
	views = filterOwners(views, in.OwnerIds, p.AccountID, func(v snapshotView) string { return v.AccountID })
	if len(in.RestorableByUserIds) > 0 {
		views = slices.DeleteFunc(views, func(v snapshotView) bool { return v.AccountID != p.AccountID && !v.grantee })
	}
	page, next, err := describe(views, in.Filters, snapshotFields, func(v snapshotView) map[string]string { return tagMap(v.tags) },
		func(v snapshotView) string { return v.ID }, in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSnapshotsResult{Snapshots: []ec2api.Snapshot{}, NextToken: next}
	for _, v := range page {
		out.Snapshots = append(out.Snapshots, apiSnapshot(v))
	}
	return out, nil
}

func (s *Service) visibleSnapshots(ctx context.Context, account string) ([]snapshotView, error) {
	var views []snapshotView
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, _ string) error {
		list, err := tx.VisibleSnapshots(ctx, account)
		if err != nil {
			return err
		}
		tags, err := tx.TagsByResource(ctx, account, typeSnapshot)
		if err != nil {
			return err
		}
		for _, sn := range list {
			views = append(views, snapshotView{Snapshot: sn, tags: tags[sn.ID], grantee: sn.AccountID != account})
		}
		return nil
	})
	return views, err
}

// filterOwners keeps resources of the listed owners ("self" = the caller); all when none are listed.
func filterOwners[T any](items []T, owners []string, self string, owner func(T) string) []T {
	if len(owners) == 0 {
		return items
	}
	want := map[string]bool{}
	for _, o := range owners {
		if o == "self" {
			o = self
		}
		want[o] = true
	}
	return slices.DeleteFunc(items, func(it T) bool { return !want[owner(it)] })
}

// ownedSnapshot finds a snapshot the caller owns; others' are NotFound.
func ownedSnapshot(ctx context.Context, tx *store.Tx, account, id string) (store.Snapshot, error) {
	if err := checkID(id, "snap", "InvalidSnapshotID.Malformed"); err != nil {
		return store.Snapshot{}, err
	}
	sn, err := tx.GetSnapshot(ctx, id)
	if found, e := notFoundOK(err); !found || sn.AccountID != account {
		if e != nil {
			return sn, e
		}
		return sn, errSnapshotNotFound(id)
	}
	return sn, nil
}

// DeleteSnapshot removes a snapshot no image uses; its chunks are collected later.
func (s *Service) DeleteSnapshot(ctx context.Context, in *ec2api.DeleteSnapshotRequest) (*ec2api.DeleteSnapshotOutput, error) {
	id := deref(in.SnapshotId)
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		sn, err := ownedSnapshot(ctx, tx, account, id)
		if err != nil {
			return err
		}
		users, err := tx.ImagesUsingSnapshot(ctx, id)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return apiErr("InvalidSnapshot.InUse", "The snapshot %s is currently in use by %s", id, users[0])
		}
		if err := tx.DeleteSnapshot(ctx, account, id); err != nil {
			return err
		}
		return tx.RecordSnapshotUsage(ctx, sn, store.UsageDelete, time.Now().UTC())
	})
	// The chunks go later: the snapshot collector removes data whose record is gone.
	return &ec2api.DeleteSnapshotOutput{}, err
}

// DescribeSnapshotAttribute reports createVolumePermission (productCodes are always empty).
func (s *Service) DescribeSnapshotAttribute(ctx context.Context, in *ec2api.DescribeSnapshotAttributeRequest) (*ec2api.DescribeSnapshotAttributeResult, error) {
	attr, id := deref(in.Attribute), deref(in.SnapshotId)
	if attr != "createVolumePermission" && attr != "productCodes" {
		return nil, invalid("Value (%s) for parameter attribute is invalid. Valid values: createVolumePermission, productCodes.", attr)
	}
	out := &ec2api.DescribeSnapshotAttributeResult{SnapshotId: str(id)}
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if _, err := ownedSnapshot(ctx, tx, account, id); err != nil {
			return err
		}
		if attr == "productCodes" {
			out.ProductCodes = []ec2api.ProductCode{}
			return nil
		}
		grantees, err := tx.SnapshotPermissions(ctx, id)
		out.CreateVolumePermissions = volumePermissions(grantees)
		return err
	})
	return out, err
}

func volumePermissions(grantees []string) []ec2api.CreateVolumePermission {
	out := []ec2api.CreateVolumePermission{}
	for _, g := range grantees {
		if g == "all" {
			out = append(out, ec2api.CreateVolumePermission{Group: str("all")})
		} else {
			out = append(out, ec2api.CreateVolumePermission{UserId: str(g)})
		}
	}
	return out
}

// ModifySnapshotAttribute adds or removes createVolumePermission grants.
func (s *Service) ModifySnapshotAttribute(ctx context.Context, in *ec2api.ModifySnapshotAttributeRequest) (*ec2api.ModifySnapshotAttributeOutput, error) {
	if a := deref(in.Attribute); a != "" && a != "createVolumePermission" {
		return nil, invalid("Value (%s) for parameter attribute is invalid. Only createVolumePermission can be modified.", a)
	}
	changes, err := permissionChanges(in.CreateVolumePermission, in.OperationType, in.UserIds, in.GroupNames)
	if err != nil {
		return nil, err
	}
	id := deref(in.SnapshotId)
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if _, err := ownedSnapshot(ctx, tx, account, id); err != nil {
			return err
		}
		for _, c := range changes {
			if err := tx.SetSnapshotPermission(ctx, id, c.grantee, c.add); err != nil {
				return err
			}
		}
		return nil
	})
	return &ec2api.ModifySnapshotAttributeOutput{}, err
}

// ResetSnapshotAttribute removes every createVolumePermission grant.
func (s *Service) ResetSnapshotAttribute(ctx context.Context, in *ec2api.ResetSnapshotAttributeRequest) (*ec2api.ResetSnapshotAttributeOutput, error) {
	if a := deref(in.Attribute); a != "createVolumePermission" {
		return nil, invalid("Value (%s) for parameter attribute is invalid. Only createVolumePermission can be reset.", a)
	}
	id := deref(in.SnapshotId)
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if _, err := ownedSnapshot(ctx, tx, account, id); err != nil {
			return err
		}
		return tx.ClearSnapshotPermissions(ctx, id)
	})
	return &ec2api.ResetSnapshotAttributeOutput{}, err
}

// grantChange is one permission added or removed.
type grantChange struct {
	grantee string
	add     bool
}

// permissionChanges reads both styles EC2 accepts: structured Add/Remove
// lists, or OperationType with UserIds/GroupNames.
func permissionChanges(mods *ec2api.CreateVolumePermissionModifications, op *string, users, groups []string) ([]grantChange, error) {
	var out []grantChange
	if mods != nil {
		for _, p := range mods.Add {
			g, err := grantee(p.UserId, p.Group)
			if err != nil {
				return nil, err
			}
			out = append(out, grantChange{g, true})
		}
		for _, p := range mods.Remove {
			g, err := grantee(p.UserId, p.Group)
			if err != nil {
				return nil, err
			}
			out = append(out, grantChange{g, false})
		}
	}
	if len(users)+len(groups) > 0 {
		add := deref(op) == "add"
		if !add && deref(op) != "remove" {
			return nil, apiErr("MissingParameter", "The request must contain the parameter operationType (add or remove)")
		}
		for _, u := range users {
			g, err := grantee(&u, nil)
			if err != nil {
				return nil, err
			}
			out = append(out, grantChange{g, add})
		}
		for _, gr := range groups {
			g, err := grantee(nil, &gr)
			if err != nil {
				return nil, err
			}
			out = append(out, grantChange{g, add})
		}
	}
	if len(out) == 0 {
		return nil, apiErr("MissingParameter", "The request must name at least one permission to add or remove")
	}
	return out, nil
}

func grantee(user, group *string) (string, error) {
	switch {
	case group != nil && *group == "all":
		return "all", nil
	case group != nil:
		return "", invalid("Value (%s) for parameter group is invalid. Only 'all' is supported.", *group)
	case user != nil && len(*user) == 12 && isDigits(*user):
		return *user, nil
	case user != nil:
		return "", invalid("Value (%s) for parameter userId is invalid. An account id is 12 digits.", *user)
	}
	return "", apiErr("MissingParameter", "A permission needs a userId or a group")
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// sizeGiB rounds a byte size up to whole GiB (at least 1), as EBS sizes are.
func sizeGiB(bytes int64) int64 {
	const gib = 1 << 30
	n := (bytes + gib - 1) / gib
	if n < 1 {
		return 1
	}
	return n
}
