package iam

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// apiBoundary shows a permissions boundary, nil when there is none.
func apiBoundary(policyARN string) *iamapi.AttachedPermissionsBoundary {
	if policyARN == "" {
		return nil
	}
	return &iamapi.AttachedPermissionsBoundary{PermissionsBoundaryType: ptr("PermissionsBoundaryPolicy"), PermissionsBoundaryArn: ptr(policyARN)}
}

// setBoundary sets ("" removes) the permissions boundary of a user or role.
func (s *Service) setBoundary(ctx context.Context, typ, name, policyARN string) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if policyARN != "" {
			m, err := findPolicy(ctx, tx, p.AccountID, policyARN)
			if err != nil {
				return err
			}
			policyARN = m.ARN
		}
		if typ == store.EntityUser {
			u, err := findUser(ctx, tx, p.AccountID, name)
			if err != nil {
				return err
			}
			return tx.SetUserBoundary(ctx, u.UserID, policyARN)
		}
		r, err := findRole(ctx, tx, p.AccountID, name)
		if err != nil {
			return err
		}
		r.PermissionsBoundary = policyARN
		return tx.UpdateRole(ctx, r)
	})
}

// PutUserPermissionsBoundary sets the managed policy that bounds a user's permissions.
func (s *Service) PutUserPermissionsBoundary(ctx context.Context, in *iamapi.PutUserPermissionsBoundaryRequest) (*iamapi.PutUserPermissionsBoundaryOutput, error) {
	if err := s.setBoundary(ctx, store.EntityUser, deref(in.UserName), deref(in.PermissionsBoundary)); err != nil {
		return nil, err
	}
	return &iamapi.PutUserPermissionsBoundaryOutput{}, nil
}

// DeleteUserPermissionsBoundary removes a user's permissions boundary.
func (s *Service) DeleteUserPermissionsBoundary(ctx context.Context, in *iamapi.DeleteUserPermissionsBoundaryRequest) (*iamapi.DeleteUserPermissionsBoundaryOutput, error) {
	if err := s.setBoundary(ctx, store.EntityUser, deref(in.UserName), ""); err != nil {
		return nil, err
	}
	return &iamapi.DeleteUserPermissionsBoundaryOutput{}, nil
}

// PutRolePermissionsBoundary sets the managed policy that bounds a role's permissions.
func (s *Service) PutRolePermissionsBoundary(ctx context.Context, in *iamapi.PutRolePermissionsBoundaryRequest) (*iamapi.PutRolePermissionsBoundaryOutput, error) {
	if err := s.setBoundary(ctx, store.EntityRole, deref(in.RoleName), deref(in.PermissionsBoundary)); err != nil {
		return nil, err
	}
	return &iamapi.PutRolePermissionsBoundaryOutput{}, nil
}

// DeleteRolePermissionsBoundary removes a role's permissions boundary.
func (s *Service) DeleteRolePermissionsBoundary(ctx context.Context, in *iamapi.DeleteRolePermissionsBoundaryRequest) (*iamapi.DeleteRolePermissionsBoundaryOutput, error) {
	if err := s.setBoundary(ctx, store.EntityRole, deref(in.RoleName), ""); err != nil {
		return nil, err
	}
	return &iamapi.DeleteRolePermissionsBoundaryOutput{}, nil
}
