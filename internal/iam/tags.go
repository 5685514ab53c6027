package iam

import (
	"context"
	"unicode/utf8"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Tag resource types of IAM entities in the store's tags table.
const (
	tagUser   = "iam-user"
	tagRole   = "iam-role"
	tagPolicy = "iam-policy"
)

// checkTags validates tags given to a create or Tag* call: at most 50,
// keys 1-128 characters, values up to 256.
func checkTags(tags []iamapi.Tag) error {
	if len(tags) > maxTagsPerThing {
		return limitExceeded("The number of tags has reached the maximum limit.")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		k, v := deref(t.Key), deref(t.Value)
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 {
			return validation("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128", k)
		}
		if utf8.RuneCountInString(v) > 256 {
			return validation("1 validation error detected: Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
		}
		if seen[k] {
			return invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	return nil
}

// putTags stores tags on an entity and returns them as stored.
func putTags(ctx context.Context, tx *store.Tx, account, resourceID, resourceType string, tags []iamapi.Tag) ([]store.Tag, error) {
	var out []store.Tag
	for _, t := range tags {
		row := store.Tag{AccountID: account, ResourceID: resourceID, ResourceType: resourceType, Key: deref(t.Key), Value: deref(t.Value)}
		if err := tx.PutTag(ctx, row); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, nil
}

// tagsOf returns one entity's tags, by key.
func tagsOf(ctx context.Context, tx *store.Tx, account, resourceType, resourceID string) ([]store.Tag, error) {
	byRes, err := tx.TagsByResource(ctx, account, resourceType)
	return byRes[resourceID], err
}

// tagTarget resolves the entity a Tag*/Untag*/List*Tags call names.
type tagTarget func(ctx context.Context, tx *store.Tx, account string) (resourceID string, err error)

func userTarget(name string) tagTarget {
	return func(ctx context.Context, tx *store.Tx, account string) (string, error) {
		u, err := findUser(ctx, tx, account, name)
		return u.UserID, err
	}
}

func roleTarget(name string) tagTarget {
	return func(ctx context.Context, tx *store.Tx, account string) (string, error) {
		r, err := findRole(ctx, tx, account, name)
		return r.RoleID, err
	}
}

func policyTarget(arn string) tagTarget {
	return func(ctx context.Context, tx *store.Tx, account string) (string, error) {
		m, err := customerPolicy(ctx, tx, account, arn)
		return m.PolicyID, err
	}
}

// tagEntity adds or overwrites tags, keeping at most 50 on the entity.
func (s *Service) tagEntity(ctx context.Context, resourceType string, target tagTarget, tags []iamapi.Tag) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		id, err := target(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		have, err := tagsOf(ctx, tx, p.AccountID, resourceType, id)
		if err != nil {
			return err
		}
		keys := map[string]bool{}
		for _, t := range have {
			keys[t.Key] = true
		}
		for _, t := range tags {
			keys[deref(t.Key)] = true
		}
		if len(keys) > maxTagsPerThing {
			return limitExceeded("The number of tags has reached the maximum limit.")
		}
		_, err = putTags(ctx, tx, p.AccountID, id, resourceType, tags)
		return err
	})
}

// untagEntity removes tags by key; keys it does not have are ignored.
func (s *Service) untagEntity(ctx context.Context, target tagTarget, keys []string) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	if len(keys) > maxTagsPerThing {
		return validation("1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to %d", maxTagsPerThing)
	}
	return s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		id, err := target(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.DeleteTag(ctx, p.AccountID, id, k, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// listEntityTags pages through an entity's tags by key.
func (s *Service) listEntityTags(ctx context.Context, resourceType string, target tagTarget, marker *string, maxItems *int32) ([]iamapi.Tag, *string, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	var tags []store.Tag
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		id, err := target(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		tags, err = tagsOf(ctx, tx, p.AccountID, resourceType, id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	page, next, err := pageByMarker(tags, func(t store.Tag) string { return t.Key }, marker, maxItems)
	if err != nil {
		return nil, nil, err
	}
	out := apiTags(page)
	if out == nil {
		out = []iamapi.Tag{}
	}
	return out, next, nil
}

// TagUser adds tags to a user.
func (s *Service) TagUser(ctx context.Context, in *iamapi.TagUserRequest) (*iamapi.TagUserOutput, error) {
	if err := s.tagEntity(ctx, tagUser, userTarget(deref(in.UserName)), in.Tags); err != nil {
		return nil, err
	}
	return &iamapi.TagUserOutput{}, nil
}

// UntagUser removes tags from a user.
func (s *Service) UntagUser(ctx context.Context, in *iamapi.UntagUserRequest) (*iamapi.UntagUserOutput, error) {
	if err := s.untagEntity(ctx, userTarget(deref(in.UserName)), in.TagKeys); err != nil {
		return nil, err
	}
	return &iamapi.UntagUserOutput{}, nil
}

// ListUserTags lists a user's tags.
func (s *Service) ListUserTags(ctx context.Context, in *iamapi.ListUserTagsRequest) (*iamapi.ListUserTagsResponse, error) {
	tags, marker, err := s.listEntityTags(ctx, tagUser, userTarget(deref(in.UserName)), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListUserTagsResponse{Tags: tags, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}

// TagRole adds tags to a role.
func (s *Service) TagRole(ctx context.Context, in *iamapi.TagRoleRequest) (*iamapi.TagRoleOutput, error) {
	if err := s.tagEntity(ctx, tagRole, roleTarget(deref(in.RoleName)), in.Tags); err != nil {
		return nil, err
	}
	return &iamapi.TagRoleOutput{}, nil
}

// UntagRole removes tags from a role.
func (s *Service) UntagRole(ctx context.Context, in *iamapi.UntagRoleRequest) (*iamapi.UntagRoleOutput, error) {
	if err := s.untagEntity(ctx, roleTarget(deref(in.RoleName)), in.TagKeys); err != nil {
		return nil, err
	}
	return &iamapi.UntagRoleOutput{}, nil
}

// ListRoleTags lists a role's tags.
func (s *Service) ListRoleTags(ctx context.Context, in *iamapi.ListRoleTagsRequest) (*iamapi.ListRoleTagsResponse, error) {
	tags, marker, err := s.listEntityTags(ctx, tagRole, roleTarget(deref(in.RoleName)), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListRoleTagsResponse{Tags: tags, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}

// TagPolicy adds tags to a customer managed policy.
func (s *Service) TagPolicy(ctx context.Context, in *iamapi.TagPolicyRequest) (*iamapi.TagPolicyOutput, error) {
	if err := s.tagEntity(ctx, tagPolicy, policyTarget(deref(in.PolicyArn)), in.Tags); err != nil {
		return nil, err
	}
	return &iamapi.TagPolicyOutput{}, nil
}

// UntagPolicy removes tags from a customer managed policy.
func (s *Service) UntagPolicy(ctx context.Context, in *iamapi.UntagPolicyRequest) (*iamapi.UntagPolicyOutput, error) {
	if err := s.untagEntity(ctx, policyTarget(deref(in.PolicyArn)), in.TagKeys); err != nil {
		return nil, err
	}
	return &iamapi.UntagPolicyOutput{}, nil
}

// ListPolicyTags lists a customer managed policy's tags.
func (s *Service) ListPolicyTags(ctx context.Context, in *iamapi.ListPolicyTagsRequest) (*iamapi.ListPolicyTagsResponse, error) {
	tags, marker, err := s.listEntityTags(ctx, tagPolicy, policyTarget(deref(in.PolicyArn)), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListPolicyTagsResponse{Tags: tags, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}
