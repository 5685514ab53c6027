package iam

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// entity is a user, group or role that policies attach to or embed in.
type entity struct {
	typ  string // store.EntityUser, EntityGroup or EntityRole
	id   string
	name string
	path string
}

// quotaName is how IAM names the attached-policy quota of an entity type.
var quotaName = map[string]string{store.EntityUser: "PoliciesPerUser", store.EntityGroup: "PoliciesPerGroup", store.EntityRole: "PoliciesPerRole"}

// findEntity loads a user, group or role by name or answers NoSuchEntity.
func findEntity(ctx context.Context, tx *store.Tx, account, typ, name string) (entity, error) {
	switch typ {
	case store.EntityUser:
		u, err := findUser(ctx, tx, account, name)
		return entity{typ, u.UserID, u.Name, u.Path}, err
	case store.EntityGroup:
		g, err := findGroup(ctx, tx, account, name)
		return entity{typ, g.GroupID, g.Name, g.Path}, err
	default:
		r, err := findRole(ctx, tx, account, name)
		return entity{typ, r.RoleID, r.Name, r.Path}, err
	}
}

// attach attaches a managed policy to an entity, at most ten each.
func (s *Service) attach(ctx context.Context, typ, name, policyARN string) error {
	p, err := caller(ctx)
	if err != nil {
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
		m, err := findPolicy(ctx, tx, p.AccountID, policyARN)
		if err != nil {
			return err
		}
		attached, err := tx.AttachedPolicies(ctx, e.id)
		if err != nil {
			return err
		}
		for _, a := range attached {
			if a.PolicyARN == m.ARN {
				return nil
			}
		}
		if len(attached) >= maxAttachedPerThing {
			return limitExceeded("Cannot exceed quota for %s: %d", quotaName[typ], maxAttachedPerThing)
		}
		return tx.Attach(ctx, store.Attachment{AccountID: p.AccountID, EntityType: typ, EntityID: e.id, PolicyARN: m.ARN, AttachedAt: nowMillis()})
	})
}

// detach detaches a managed policy from an entity.
func (s *Service) detach(ctx context.Context, typ, name, policyARN string) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		e, err := findEntity(ctx, tx, p.AccountID, typ, name)
		if err != nil {
			return err
		}
		if _, err := findPolicy(ctx, tx, p.AccountID, policyARN); err != nil {
			return err
		}
		if err := tx.Detach(ctx, e.id, policyARN); errors.Is(err, store.ErrNotFound) {
			return noSuchEntity("Policy %s was not found.", policyARN)
		} else if err != nil {
			return err
		}
		return nil
	})
}

// policyPathName splits a managed policy ARN into its path and name.
func policyPathName(arn string) (path, name string) {
	_, rest, _ := strings.Cut(arn, ":policy")
	i := strings.LastIndex(rest, "/")
	return rest[:i+1], rest[i+1:]
}

// listAttached pages through the managed policies attached to an entity.
func (s *Service) listAttached(ctx context.Context, typ, name string, pathPrefix, marker *string, maxItems *int32) ([]iamapi.AttachedPolicy, *string, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	prefix, err := validPathPrefix(pathPrefix)
	if err != nil {
		return nil, nil, err
	}
	var attached []store.Attachment
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		e, err := findEntity(ctx, tx, p.AccountID, typ, name)
		if err != nil {
			return err
		}
		attached, err = tx.AttachedPolicies(ctx, e.id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var chosen []store.Attachment
	for _, a := range attached {
		if path, _ := policyPathName(a.PolicyARN); strings.HasPrefix(path, prefix) {
			chosen = append(chosen, a)
		}
	}
	page, next, err := pageByMarker(chosen, func(a store.Attachment) string { return a.PolicyARN }, marker, maxItems)
	if err != nil {
		return nil, nil, err
	}
	out := []iamapi.AttachedPolicy{}
	for _, a := range page {
		_, policyName := policyPathName(a.PolicyARN)
		out = append(out, iamapi.AttachedPolicy{PolicyName: ptr(policyName), PolicyArn: ptr(a.PolicyARN)})
	}
	return out, next, nil
}

// AttachUserPolicy attaches a managed policy to a user.
func (s *Service) AttachUserPolicy(ctx context.Context, in *iamapi.AttachUserPolicyRequest) (*iamapi.AttachUserPolicyOutput, error) {
	if err := s.attach(ctx, store.EntityUser, deref(in.UserName), deref(in.PolicyArn)); err != nil {
		return nil, err
	}
	return &iamapi.AttachUserPolicyOutput{}, nil
}

// AttachGroupPolicy attaches a managed policy to a group.
func (s *Service) AttachGroupPolicy(ctx context.Context, in *iamapi.AttachGroupPolicyRequest) (*iamapi.AttachGroupPolicyOutput, error) {
	if err := s.attach(ctx, store.EntityGroup, deref(in.GroupName), deref(in.PolicyArn)); err != nil {
		return nil, err
	}
	return &iamapi.AttachGroupPolicyOutput{}, nil
}

// DetachUserPolicy detaches a managed policy from a user.
func (s *Service) DetachUserPolicy(ctx context.Context, in *iamapi.DetachUserPolicyRequest) (*iamapi.DetachUserPolicyOutput, error) {
	if err := s.detach(ctx, store.EntityUser, deref(in.UserName), deref(in.PolicyArn)); err != nil {
		return nil, err
	}
	return &iamapi.DetachUserPolicyOutput{}, nil
}

// DetachGroupPolicy detaches a managed policy from a group.
func (s *Service) DetachGroupPolicy(ctx context.Context, in *iamapi.DetachGroupPolicyRequest) (*iamapi.DetachGroupPolicyOutput, error) {
	if err := s.detach(ctx, store.EntityGroup, deref(in.GroupName), deref(in.PolicyArn)); err != nil {
		return nil, err
	}
	return &iamapi.DetachGroupPolicyOutput{}, nil
}

// ListAttachedUserPolicies lists the managed policies attached to a user.
func (s *Service) ListAttachedUserPolicies(ctx context.Context, in *iamapi.ListAttachedUserPoliciesRequest) (*iamapi.ListAttachedUserPoliciesResponse, error) {
	list, marker, err := s.listAttached(ctx, store.EntityUser, deref(in.UserName), in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedUserPoliciesResponse{AttachedPolicies: list, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}

// ListAttachedGroupPolicies lists the managed policies attached to a group.
func (s *Service) ListAttachedGroupPolicies(ctx context.Context, in *iamapi.ListAttachedGroupPoliciesRequest) (*iamapi.ListAttachedGroupPoliciesResponse, error) {
	list, marker, err := s.listAttached(ctx, store.EntityGroup, deref(in.GroupName), in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedGroupPoliciesResponse{AttachedPolicies: list, IsTruncated: ptr(marker != nil), Marker: marker}, nil
}

// ListEntitiesForPolicy lists the users, groups and roles a managed policy is attached to.
func (s *Service) ListEntitiesForPolicy(ctx context.Context, in *iamapi.ListEntitiesForPolicyRequest) (*iamapi.ListEntitiesForPolicyResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	prefix, err := validPathPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	if u := deref(in.PolicyUsageFilter); u != "" && u != "PermissionsPolicy" && u != "PermissionsBoundary" {
		return nil, validation("1 validation error detected: Value '%s' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]", u)
	}
	filter := deref(in.EntityFilter)
	wanted := map[string]string{"": "", "User": store.EntityUser, "Group": store.EntityGroup, "Role": store.EntityRole,
		"LocalManagedPolicy": "", "AWSManagedPolicy": ""}
	only, ok := wanted[filter]
	if !ok {
		return nil, validation("1 validation error detected: Value '%s' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]", filter)
	}
	var entities []entity
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		m, err := findPolicy(ctx, tx, p.AccountID, deref(in.PolicyArn))
		if err != nil {
			return err
		}
		if (filter == "LocalManagedPolicy" && m.awsManaged) || (filter == "AWSManagedPolicy" && !m.awsManaged) {
			return nil
		}
		entities, err = policyEntities(ctx, tx, p.AccountID, m.ARN, deref(in.PolicyUsageFilter))
		return err
	})
	if err != nil {
		return nil, err
	}
	var chosen []entity
	for _, e := range entities {
		if (only == "" || e.typ == only) && strings.HasPrefix(e.path, prefix) {
			chosen = append(chosen, e)
		}
	}
	page, marker, err := pageByMarker(chosen, func(e entity) string { return e.typ + "/" + strings.ToLower(e.name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListEntitiesForPolicyResponse{PolicyGroups: []iamapi.PolicyGroup{}, PolicyUsers: []iamapi.PolicyUser{}, PolicyRoles: []iamapi.PolicyRole{},
		IsTruncated: ptr(marker != nil), Marker: marker}
	for _, e := range page {
		switch e.typ {
		case store.EntityUser:
			out.PolicyUsers = append(out.PolicyUsers, iamapi.PolicyUser{UserName: ptr(e.name), UserId: ptr(e.id)})
		case store.EntityGroup:
			out.PolicyGroups = append(out.PolicyGroups, iamapi.PolicyGroup{GroupName: ptr(e.name), GroupId: ptr(e.id)})
		case store.EntityRole:
			out.PolicyRoles = append(out.PolicyRoles, iamapi.PolicyRole{RoleName: ptr(e.name), RoleId: ptr(e.id)})
		}
	}
	return out, nil
}

// policyEntities resolves the users, groups and roles a policy is
// attached to (usage "PermissionsPolicy"), the users and roles it bounds
// ("PermissionsBoundary"), or both ("").
func policyEntities(ctx context.Context, tx *store.Tx, account, policyARN, usage string) ([]entity, error) {
	var ids []string
	if usage != "PermissionsBoundary" {
		attached, err := tx.PolicyAttachments(ctx, account, policyARN)
		if err != nil {
			return nil, err
		}
		for _, a := range attached {
			ids = append(ids, a.EntityID)
		}
	}
	if usage != "PermissionsPolicy" {
		users, err := tx.ListUsers(ctx, account, "/")
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.PermissionsBoundary == policyARN && !slices.Contains(ids, u.UserID) {
				ids = append(ids, u.UserID)
			}
		}
		roles, err := tx.ListRoles(ctx, account, "/")
		if err != nil {
			return nil, err
		}
		for _, r := range roles {
			if r.PermissionsBoundary == policyARN && !slices.Contains(ids, r.RoleID) {
				ids = append(ids, r.RoleID)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	byID, err := accountEntities(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	var out []entity
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// accountEntities indexes an account's users, groups and roles by unique id.
func accountEntities(ctx context.Context, tx *store.Tx, account string) (map[string]entity, error) {
	out := map[string]entity{}
	users, err := tx.ListUsers(ctx, account, "/")
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		out[u.UserID] = entity{store.EntityUser, u.UserID, u.Name, u.Path}
	}
	groups, err := tx.ListGroups(ctx, account, "/")
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		out[g.GroupID] = entity{store.EntityGroup, g.GroupID, g.Name, g.Path}
	}
	roles, err := tx.ListRoles(ctx, account, "/")
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		out[r.RoleID] = entity{store.EntityRole, r.RoleID, r.Name, r.Path}
	}
	return out, nil
}
