package iam

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// IAM's role limits.
const (
	maxTrustPolicySize    = 2048 // ACLSizePerRole, in non-space characters
	defaultSessionSeconds = 3600
	maxSessionSeconds     = 43200
)

// roleView says how much of a role an action shows: IAM's Get shows tags
// and the boundary, its lists do not.
type roleView struct {
	tags []store.Tag
	full bool
}

func apiRole(r store.Role, v roleView) iamapi.Role {
	out := iamapi.Role{
		Path: ptr(r.Path), RoleName: ptr(r.Name), RoleId: ptr(r.RoleID), Arn: ptr(arn(r.AccountID, "role", r.Path, r.Name)), CreateDate: ptr(r.CreatedAt),
		AssumeRolePolicyDocument: ptr(encodeDocument(r.TrustPolicy)), MaxSessionDuration: ptr(int32(r.MaxSessionDuration)),
	}
	if r.Description != "" {
		out.Description = ptr(r.Description)
	}
	if v.full {
		out.Tags = apiTags(v.tags)
		out.RoleLastUsed = &iamapi.RoleLastUsed{}
		out.PermissionsBoundary = apiBoundary(r.PermissionsBoundary)
	}
	return out
}

// checkTrustPolicy validates an assume-role policy document and its size.
func checkTrustPolicy(doc string) error {
	if err := checkPolicyDocument(doc, trustPolicy); err != nil {
		return err
	}
	if policySize(doc) > maxTrustPolicySize {
		return limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicySize)
	}
	return nil
}

func checkSessionDuration(d *int32) (int, error) {
	if d == nil {
		return defaultSessionSeconds, nil
	}
	if *d < defaultSessionSeconds {
		return 0, validation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to %d", *d, defaultSessionSeconds)
	}
	if *d > maxSessionSeconds {
		return 0, validation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to %d", *d, maxSessionSeconds)
	}
	return int(*d), nil
}

func checkDescription(desc string) error {
	if utf8.RuneCountInString(desc) > maxDescription {
		return validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", maxDescription)
	}
	return nil
}

// CreateRole adds a role with its trust policy.
func (s *Service) CreateRole(ctx context.Context, in *iamapi.CreateRoleRequest) (*iamapi.CreateRoleResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name, doc, desc := deref(in.RoleName), deref(in.AssumeRolePolicyDocument), deref(in.Description)
	if err := validName("roleName", name, maxRoleName); err != nil {
		return nil, err
	}
	path, err := validPath(deref(in.Path))
	if err != nil {
		return nil, err
	}
	duration, err := checkSessionDuration(in.MaxSessionDuration)
	if err != nil {
		return nil, err
	}
	if err := checkDescription(desc); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkTrustPolicy(doc); err != nil {
		return nil, err
	}
	r := store.Role{AccountID: p.AccountID, RoleID: ids.RoleID(), Name: name, Path: path, Description: desc, TrustPolicy: doc,
		MaxSessionDuration: duration, CreatedAt: nowMillis()}
	var tags []store.Tag
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if boundary := deref(in.PermissionsBoundary); boundary != "" {
			m, err := findPolicy(ctx, tx, p.AccountID, boundary)
			if err != nil {
				return err
			}
			r.PermissionsBoundary = m.ARN
		}
		if err := tx.InsertRole(ctx, r); errors.Is(err, store.ErrConflict) {
			return alreadyExists("Role with name %s already exists.", name)
		} else if err != nil {
			return err
		}
		tags, err = putTags(ctx, tx, p.AccountID, r.RoleID, tagRole, in.Tags)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create role %s: %w", name, err)
	}
	out := apiRole(r, roleView{tags: tags, full: true})
	out.RoleLastUsed = nil
	return &iamapi.CreateRoleResponse{Role: &out}, nil
}

// GetRole describes a role, with its trust policy URL-encoded.
func (s *Service) GetRole(ctx context.Context, in *iamapi.GetRoleRequest) (*iamapi.GetRoleResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out iamapi.Role
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		r, err := findRole(ctx, tx, p.AccountID, deref(in.RoleName))
		if err != nil {
			return err
		}
		tags, err := tagsOf(ctx, tx, p.AccountID, tagRole, r.RoleID)
		out = apiRole(r, roleView{tags: tags, full: true})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetRoleResponse{Role: &out}, nil
}

// ListRoles pages through the account's roles by name.
func (s *Service) ListRoles(ctx context.Context, in *iamapi.ListRolesRequest) (*iamapi.ListRolesResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	prefix, err := validPathPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	var roles []store.Role
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		roles, err = tx.ListRoles(ctx, p.AccountID, prefix)
		return err
	})
	if err != nil {
		return nil, err
	}
	page, marker, err := pageByMarker(roles, func(r store.Role) string { return r.Name }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListRolesResponse{Roles: []iamapi.Role{}, IsTruncated: ptr(marker != nil), Marker: marker}
	for _, r := range page {
		out.Roles = append(out.Roles, apiRole(r, roleView{}))
	}
	return out, nil
}

// updateRole changes a role in one transaction.
func (s *Service) updateRole(ctx context.Context, name string, change func(*store.Role)) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		r, err := findRole(ctx, tx, p.AccountID, name)
		if err != nil {
			return err
		}
		change(&r)
		return tx.UpdateRole(ctx, r)
	})
}

// UpdateRole changes a role's description and maximum session duration.
func (s *Service) UpdateRole(ctx context.Context, in *iamapi.UpdateRoleRequest) (*iamapi.UpdateRoleResponse, error) {
	if err := checkDescription(deref(in.Description)); err != nil {
		return nil, err
	}
	duration, err := checkSessionDuration(in.MaxSessionDuration)
	if err != nil {
		return nil, err
	}
	err = s.updateRole(ctx, deref(in.RoleName), func(r *store.Role) {
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSessionDuration = duration
		}
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateRoleResponse{}, nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, in *iamapi.UpdateAssumeRolePolicyRequest) (*iamapi.UpdateAssumeRolePolicyOutput, error) {
	doc := deref(in.PolicyDocument)
	if err := checkTrustPolicy(doc); err != nil {
		return nil, err
	}
	if err := s.updateRole(ctx, deref(in.RoleName), func(r *store.Role) { r.TrustPolicy = doc }); err != nil {
		return nil, err
	}
	return &iamapi.UpdateAssumeRolePolicyOutput{}, nil
}

// DeleteRole removes a role that is in no instance profile and has no policies.
func (s *Service) DeleteRole(ctx context.Context, in *iamapi.DeleteRoleRequest) (*iamapi.DeleteRoleOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, p.AccountID); err != nil {
			return err
		}
		r, err := findRole(ctx, tx, p.AccountID, deref(in.RoleName))
		if err != nil {
			return err
		}
		profiles, err := tx.InstanceProfilesOfRole(ctx, r.RoleID)
		if err != nil {
			return err
		}
		if len(profiles) > 0 {
			return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		if err := refusePolicies(ctx, tx, r.RoleID); err != nil {
			return err
		}
		if err := tx.DeleteAllTags(ctx, p.AccountID, r.RoleID); err != nil {
			return err
		}
		return tx.DeleteRole(ctx, r.RoleID)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteRoleOutput{}, nil
}

// PutRolePolicy embeds an inline policy in a role.
func (s *Service) PutRolePolicy(ctx context.Context, in *iamapi.PutRolePolicyRequest) (*iamapi.PutRolePolicyOutput, error) {
	if err := s.putInline(ctx, store.EntityRole, deref(in.RoleName), deref(in.PolicyName), deref(in.PolicyDocument)); err != nil {
		return nil, err
	}
	return &iamapi.PutRolePolicyOutput{}, nil
}

// GetRolePolicy returns a role's inline policy, its document URL-encoded.
func (s *Service) GetRolePolicy(ctx context.Context, in *iamapi.GetRolePolicyRequest) (*iamapi.GetRolePolicyResponse, error) {
	name, ip, err := s.getInline(ctx, store.EntityRole, deref(in.RoleName), deref(in.PolicyName))
	if err != nil {
		return nil, err
	}
	return &iamapi.GetRolePolicyResponse{RoleName: ptr(name), PolicyName: ptr(ip.Name), PolicyDocument: ptr(encodeDocument(ip.Document))}, nil
}

// ListRolePolicies lists the names of a role's inline policies.
func (s *Service) ListRolePolicies(ctx context.Context, in *iamapi.ListRolePoliciesRequest) (*iamapi.ListRolePoliciesResponse, error) {
	names, marker, err := s.listInline(ctx, store.EntityRole, deref(in.RoleName), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListRolePoliciesResponse{PolicyNames: names, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}

// DeleteRolePolicy removes a role's inline policy.
func (s *Service) DeleteRolePolicy(ctx context.Context, in *iamapi.DeleteRolePolicyRequest) (*iamapi.DeleteRolePolicyOutput, error) {
	if err := s.deleteInline(ctx, store.EntityRole, deref(in.RoleName), deref(in.PolicyName)); err != nil {
		return nil, err
	}
	return &iamapi.DeleteRolePolicyOutput{}, nil
}

// AttachRolePolicy attaches a managed policy to a role.
func (s *Service) AttachRolePolicy(ctx context.Context, in *iamapi.AttachRolePolicyRequest) (*iamapi.AttachRolePolicyOutput, error) {
	if err := s.attach(ctx, store.EntityRole, deref(in.RoleName), deref(in.PolicyArn)); err != nil {
		return nil, err
	}
	return &iamapi.AttachRolePolicyOutput{}, nil
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Service) DetachRolePolicy(ctx context.Context, in *iamapi.DetachRolePolicyRequest) (*iamapi.DetachRolePolicyOutput, error) {
	if err := s.detach(ctx, store.EntityRole, deref(in.RoleName), deref(in.PolicyArn)); err != nil {
		return nil, err
	}
	return &iamapi.DetachRolePolicyOutput{}, nil
}

// ListAttachedRolePolicies lists the managed policies attached to a role.
func (s *Service) ListAttachedRolePolicies(ctx context.Context, in *iamapi.ListAttachedRolePoliciesRequest) (*iamapi.ListAttachedRolePoliciesResponse, error) {
	list, marker, err := s.listAttached(ctx, store.EntityRole, deref(in.RoleName), in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedRolePoliciesResponse{AttachedPolicies: list, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}
