package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// tagProfile is the tag resource type of instance profiles.
const tagProfile = "iam-instance-profile"

func noSuchProfile(name string) error {
	return noSuchEntity("Instance Profile %s cannot be found.", name)
}

func findProfile(ctx context.Context, tx *store.Tx, account, name string) (store.InstanceProfile, error) {
	ip, err := tx.GetInstanceProfile(ctx, account, name)
	if errors.Is(err, store.ErrNotFound) {
		return ip, noSuchProfile(name)
	}
	return ip, err
}

// apiProfile shows a profile with the role it holds, if any.
func apiProfile(ctx context.Context, tx *store.Tx, ip store.InstanceProfile, roles map[string]store.Role, tags []store.Tag) (iamapi.InstanceProfile, error) {
	out := iamapi.InstanceProfile{Path: ptr(ip.Path), InstanceProfileName: ptr(ip.Name), InstanceProfileId: ptr(ip.ProfileID),
		Arn: ptr(arn(ip.AccountID, "instance-profile", ip.Path, ip.Name)), CreateDate: ptr(ip.CreatedAt), Roles: []iamapi.Role{}, Tags: apiTags(tags)}
	if ip.RoleID == "" {
		return out, nil
	}
	if roles == nil {
		var err error
		if roles, err = rolesByID(ctx, tx, ip.AccountID); err != nil {
			return out, err
		}
	}
	if r, ok := roles[ip.RoleID]; ok {
		out.Roles = append(out.Roles, apiRole(r, roleView{}))
	}
	return out, nil
}

func rolesByID(ctx context.Context, tx *store.Tx, account string) (map[string]store.Role, error) {
	all, err := tx.ListRoles(ctx, account, "/")
	out := map[string]store.Role{}
	for _, r := range all {
		out[r.RoleID] = r
	}
	return out, err
}

// CreateInstanceProfile adds an empty instance profile.
func (s *Service) CreateInstanceProfile(ctx context.Context, in *iamapi.CreateInstanceProfileRequest) (*iamapi.CreateInstanceProfileResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := deref(in.InstanceProfileName)
	if err := validName("instanceProfileName", name, maxProfileName); err != nil {
		return nil, err
	}
	path, err := validPath(deref(in.Path))
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	ip := store.InstanceProfile{AccountID: p.AccountID, ProfileID: ids.InstanceProfileID(), Name: name, Path: path, CreatedAt: nowMillis()}
	var out iamapi.InstanceProfile
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.InsertInstanceProfile(ctx, ip); errors.Is(err, store.ErrConflict) {
			return alreadyExists("Instance Profile %s already exists.", name)
		} else if err != nil {
			return err
		}
		tags, err := putTags(ctx, tx, p.AccountID, ip.ProfileID, tagProfile, in.Tags)
		if err != nil {
			return err
		}
		out, err = apiProfile(ctx, tx, ip, nil, tags)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create instance profile %s: %w", name, err)
	}
	return &iamapi.CreateInstanceProfileResponse{InstanceProfile: &out}, nil
}

// GetInstanceProfile describes a profile and its role.
func (s *Service) GetInstanceProfile(ctx context.Context, in *iamapi.GetInstanceProfileRequest) (*iamapi.GetInstanceProfileResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out iamapi.InstanceProfile
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		ip, err := findProfile(ctx, tx, p.AccountID, deref(in.InstanceProfileName))
		if err != nil {
			return err
		}
		tags, err := tagsOf(ctx, tx, p.AccountID, tagProfile, ip.ProfileID)
		if err != nil {
			return err
		}
		out, err = apiProfile(ctx, tx, ip, nil, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetInstanceProfileResponse{InstanceProfile: &out}, nil
}

// listProfiles pages through profiles and shows them with their roles.
func (s *Service) listProfiles(ctx context.Context, load func(context.Context, *store.Tx, string) ([]store.InstanceProfile, error), marker *string, maxItems *int32) ([]iamapi.InstanceProfile, *string, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []iamapi.InstanceProfile
	var next *string
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		all, err := load(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		page, n, err := pageByMarker(all, func(ip store.InstanceProfile) string { return ip.Name }, marker, maxItems)
		if err != nil {
			return err
		}
		roles, err := rolesByID(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		out, next = []iamapi.InstanceProfile{}, n
		for _, ip := range page {
			v, err := apiProfile(ctx, tx, ip, roles, nil)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, next, err
}

// ListInstanceProfiles pages through the account's instance profiles.
func (s *Service) ListInstanceProfiles(ctx context.Context, in *iamapi.ListInstanceProfilesRequest) (*iamapi.ListInstanceProfilesResponse, error) {
	prefix, err := validPathPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	list, marker, err := s.listProfiles(ctx, func(ctx context.Context, tx *store.Tx, account string) ([]store.InstanceProfile, error) {
		return tx.ListInstanceProfiles(ctx, account, prefix)
	}, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfilesResponse{InstanceProfiles: list, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}

// ListInstanceProfilesForRole lists the profiles that hold a role.
func (s *Service) ListInstanceProfilesForRole(ctx context.Context, in *iamapi.ListInstanceProfilesForRoleRequest) (*iamapi.ListInstanceProfilesForRoleResponse, error) {
	list, marker, err := s.listProfiles(ctx, func(ctx context.Context, tx *store.Tx, account string) ([]store.InstanceProfile, error) {
		r, err := findRole(ctx, tx, account, deref(in.RoleName))
		if err != nil {
			return nil, err
		}
		return tx.InstanceProfilesOfRole(ctx, r.RoleID)
	}, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfilesForRoleResponse{InstanceProfiles: list, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}

// DeleteInstanceProfile removes a profile that holds no role.
func (s *Service) DeleteInstanceProfile(ctx context.Context, in *iamapi.DeleteInstanceProfileRequest) (*iamapi.DeleteInstanceProfileOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		ip, err := findProfile(ctx, tx, p.AccountID, deref(in.InstanceProfileName))
		if err != nil {
			return err
		}
		if ip.RoleID != "" {
			return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		if err := tx.DeleteAllTags(ctx, p.AccountID, ip.ProfileID); err != nil {
			return err
		}
		return tx.DeleteInstanceProfile(ctx, ip.ProfileID)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteInstanceProfileOutput{}, nil
}

// AddRoleToInstanceProfile puts a role in a profile, which holds one at most.
func (s *Service) AddRoleToInstanceProfile(ctx context.Context, in *iamapi.AddRoleToInstanceProfileRequest) (*iamapi.AddRoleToInstanceProfileOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, p.AccountID); err != nil {
			return err
		}
		ip, err := findProfile(ctx, tx, p.AccountID, deref(in.InstanceProfileName))
		if err != nil {
			return err
		}
		r, err := findRole(ctx, tx, p.AccountID, deref(in.RoleName))
		if err != nil {
			return err
		}
		if ip.RoleID != "" {
			return limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
		}
		return tx.SetInstanceProfileRole(ctx, ip.ProfileID, r.RoleID)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.AddRoleToInstanceProfileOutput{}, nil
}

// RemoveRoleFromInstanceProfile empties a profile of its role.
func (s *Service) RemoveRoleFromInstanceProfile(ctx context.Context, in *iamapi.RemoveRoleFromInstanceProfileRequest) (*iamapi.RemoveRoleFromInstanceProfileOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		ip, err := findProfile(ctx, tx, p.AccountID, deref(in.InstanceProfileName))
		if err != nil {
			return err
		}
		r, err := findRole(ctx, tx, p.AccountID, deref(in.RoleName))
		if err != nil {
			return err
		}
		if ip.RoleID != r.RoleID {
			return noSuchEntity("The role with name %s cannot be found in instance profile %s.", r.Name, ip.Name)
		}
		return tx.SetInstanceProfileRole(ctx, ip.ProfileID, "")
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.RemoveRoleFromInstanceProfileOutput{}, nil
}
