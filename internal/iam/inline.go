package iam

import (
	"context"
	"errors"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// maxInlineSize is IAM's quota on the aggregate size of an entity's inline
// policies (non-space characters).
var maxInlineSize = map[string]int{store.EntityUser: 2048, store.EntityGroup: 5120, store.EntityRole: 10240}

// putInline creates or replaces an inline policy of a user, group or role.
func (s *Service) putInline(ctx context.Context, typ, name, policyName, doc string) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := validName("policyName", policyName, maxPolicyName); err != nil {
		return err
	}
	if err := checkPolicyDocument(doc, identityPolicy); err != nil {
		return err
	}
	return s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, p.AccountID); err != nil {
			return err
		}
		e, err := findEntity(ctx, tx, p.AccountID, typ, name)
		if err != nil {
			return err
		}
		existing, err := tx.InlinePolicies(ctx, e.id)
		if err != nil {
			return err
		}
		size := policySize(doc)
		for _, ip := range existing {
			if ip.Name != policyName {
				size += policySize(ip.Document)
			}
		}
		if max := maxInlineSize[typ]; size > max {
			return limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", max, typ, e.name)
		}
		return tx.PutInlinePolicy(ctx, store.InlinePolicy{AccountID: p.AccountID, EntityType: typ, EntityID: e.id, Name: policyName, Document: doc})
	})
}

func noSuchInline(typ, policyName string) error {
	return noSuchEntity("The %s policy with name %s cannot be found.", typ, policyName)
}

// getInline returns an entity's name and one of its inline policies.
func (s *Service) getInline(ctx context.Context, typ, name, policyName string) (string, store.InlinePolicy, error) {
	p, err := caller(ctx)
	if err != nil {
		return "", store.InlinePolicy{}, err
	}
	var e entity
	var found store.InlinePolicy
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		if e, err = findEntity(ctx, tx, p.AccountID, typ, name); err != nil {
			return err
		}
		all, err := tx.InlinePolicies(ctx, e.id)
		if err != nil {
			return err
		}
		for _, ip := range all {
			if ip.Name == policyName {
				found = ip
				return nil
			}
		}
		return noSuchInline(typ, policyName)
	})
	return e.name, found, err
}

// listInline pages through the names of an entity's inline policies.
func (s *Service) listInline(ctx context.Context, typ, name string, marker *string, maxItems *int32) ([]string, *string, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	var all []store.InlinePolicy
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		e, err := findEntity(ctx, tx, p.AccountID, typ, name)
		if err != nil {
			return err
		}
		all, err = tx.InlinePolicies(ctx, e.id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	page, next, err := pageByMarker(all, func(ip store.InlinePolicy) string { return ip.Name }, marker, maxItems)
	if err != nil {
		return nil, nil, err
	}
	names := []string{}
	for _, ip := range page {
		names = append(names, ip.Name)
	}
	return names, next, nil
}

// deleteInline removes an inline policy.
func (s *Service) deleteInline(ctx context.Context, typ, name, policyName string) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		e, err := findEntity(ctx, tx, p.AccountID, typ, name)
		if err != nil {
			return err
		}
		if err := tx.DeleteInlinePolicy(ctx, e.id, policyName); errors.Is(err, store.ErrNotFound) {
			return noSuchInline(typ, policyName)
		} else if err != nil {
			return err
		}
		return nil
	})
}

// PutUserPolicy embeds an inline policy in a user.
func (s *Service) PutUserPolicy(ctx context.Context, in *iamapi.PutUserPolicyRequest) (*iamapi.PutUserPolicyOutput, error) {
	if err := s.putInline(ctx, store.EntityUser, deref(in.UserName), deref(in.PolicyName), deref(in.PolicyDocument)); err != nil {
		return nil, err
	}
	return &iamapi.PutUserPolicyOutput{}, nil
}

// GetUserPolicy returns a user's inline policy, its document URL-encoded.
func (s *Service) GetUserPolicy(ctx context.Context, in *iamapi.GetUserPolicyRequest) (*iamapi.GetUserPolicyResponse, error) {
	name, ip, err := s.getInline(ctx, store.EntityUser, deref(in.UserName), deref(in.PolicyName))
	if err != nil {
		return nil, err
	}
	return &iamapi.GetUserPolicyResponse{UserName: ptr(name), PolicyName: ptr(ip.Name), PolicyDocument: ptr(encodeDocument(ip.Document))}, nil
}

// ListUserPolicies lists the names of a user's inline policies.
func (s *Service) ListUserPolicies(ctx context.Context, in *iamapi.ListUserPoliciesRequest) (*iamapi.ListUserPoliciesResponse, error) {
	names, marker, err := s.listInline(ctx, store.EntityUser, deref(in.UserName), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListUserPoliciesResponse{PolicyNames: names, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}

// DeleteUserPolicy removes a user's inline policy.
func (s *Service) DeleteUserPolicy(ctx context.Context, in *iamapi.DeleteUserPolicyRequest) (*iamapi.DeleteUserPolicyOutput, error) {
	if err := s.deleteInline(ctx, store.EntityUser, deref(in.UserName), deref(in.PolicyName)); err != nil {
		return nil, err
	}
	return &iamapi.DeleteUserPolicyOutput{}, nil
}

// PutGroupPolicy embeds an inline policy in a group.
func (s *Service) PutGroupPolicy(ctx context.Context, in *iamapi.PutGroupPolicyRequest) (*iamapi.PutGroupPolicyOutput, error) {
	if err := s.putInline(ctx, store.EntityGroup, deref(in.GroupName), deref(in.PolicyName), deref(in.PolicyDocument)); err != nil {
		return nil, err
	}
	return &iamapi.PutGroupPolicyOutput{}, nil
}

// GetGroupPolicy returns a group's inline policy, its document URL-encoded.
func (s *Service) GetGroupPolicy(ctx context.Context, in *iamapi.GetGroupPolicyRequest) (*iamapi.GetGroupPolicyResponse, error) {
	name, ip, err := s.getInline(ctx, store.EntityGroup, deref(in.GroupName), deref(in.PolicyName))
	if err != nil {
		return nil, err
	}
	return &iamapi.GetGroupPolicyResponse{GroupName: ptr(name), PolicyName: ptr(ip.Name), PolicyDocument: ptr(encodeDocument(ip.Document))}, nil
}

// ListGroupPolicies lists the names of a group's inline policies.
func (s *Service) ListGroupPolicies(ctx context.Context, in *iamapi.ListGroupPoliciesRequest) (*iamapi.ListGroupPoliciesResponse, error) {
	names, marker, err := s.listInline(ctx, store.EntityGroup, deref(in.GroupName), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListGroupPoliciesResponse{PolicyNames: names, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}

// DeleteGroupPolicy removes a group's inline policy.
func (s *Service) DeleteGroupPolicy(ctx context.Context, in *iamapi.DeleteGroupPolicyRequest) (*iamapi.DeleteGroupPolicyOutput, error) {
	if err := s.deleteInline(ctx, store.EntityGroup, deref(in.GroupName), deref(in.PolicyName)); err != nil {
		return nil, err
	}
	return &iamapi.DeleteGroupPolicyOutput{}, nil
}
