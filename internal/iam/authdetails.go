package iam

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/iam/awspolicies"
	"github.com/kumo-cloud/kumo/internal/store"
)

// authItem is one entry of GetAccountAuthorizationDetails; key orders the
// pages (users, groups, roles, then policies).
type authItem struct {
	key    string
	user   *iamapi.UserDetail
	group  *iamapi.GroupDetail
	role   *iamapi.RoleDetail
	policy *iamapi.ManagedPolicyDetail
}

var authFilters = map[string]bool{"User": true, "Role": true, "Group": true, "LocalManagedPolicy": true, "AWSManagedPolicy": true}

// GetAccountAuthorizationDetails returns the account's users, groups, roles
// and policies with every policy document (URL-encoded) and relationship.
func (s *Service) GetAccountAuthorizationDetails(ctx context.Context, in *iamapi.GetAccountAuthorizationDetailsRequest) (*iamapi.GetAccountAuthorizationDetailsResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, f := range in.Filter {
		if !authFilters[f] {
			return nil, validation("1 validation error detected: Value '[%s]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]]", f)
		}
		want[f] = true
	}
	if len(want) == 0 {
		want = authFilters
	}
	var items []authItem
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		for _, add := range []func(context.Context, *store.Tx, string, map[string]bool) ([]authItem, error){userDetails, groupDetails, roleDetails, policyDetails} {
			more, err := add(ctx, tx, p.AccountID, want)
			if err != nil {
				return err
			}
			items = append(items, more...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, marker, err := pageByMarker(items, func(it authItem) string { return it.key }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetAccountAuthorizationDetailsResponse{UserDetailList: []iamapi.UserDetail{}, GroupDetailList: []iamapi.GroupDetail{},
		RoleDetailList: []iamapi.RoleDetail{}, Policies: []iamapi.ManagedPolicyDetail{}, IsTruncated: ptr(marker != nil), Marker: marker}
	for _, it := range page {
		switch {
		case it.user != nil:
			out.UserDetailList = append(out.UserDetailList, *it.user)
		case it.group != nil:
			out.GroupDetailList = append(out.GroupDetailList, *it.group)
		case it.role != nil:
			out.RoleDetailList = append(out.RoleDetailList, *it.role)
		default:
			out.Policies = append(out.Policies, *it.policy)
		}
	}
	return out, nil
}

// entityPolicies returns an entity's inline policies (encoded) and attachments.
func entityPolicies(ctx context.Context, tx *store.Tx, id string) ([]iamapi.PolicyDetail, []iamapi.AttachedPolicy, error) {
	inline, err := tx.InlinePolicies(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	attached, err := tx.AttachedPolicies(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	details, refs := []iamapi.PolicyDetail{}, []iamapi.AttachedPolicy{}
	for _, ip := range inline {
		details = append(details, iamapi.PolicyDetail{PolicyName: ptr(ip.Name), PolicyDocument: ptr(encodeDocument(ip.Document))})
	}
	for _, a := range attached {
		_, name := policyPathName(a.PolicyARN)
		refs = append(refs, iamapi.AttachedPolicy{PolicyName: ptr(name), PolicyArn: ptr(a.PolicyARN)})
	}
	return details, refs, nil
}

func userDetails(ctx context.Context, tx *store.Tx, account string, want map[string]bool) ([]authItem, error) {
	if !want["User"] {
		return nil, nil
	}
	users, err := tx.ListUsers(ctx, account, "/")
	if err != nil {
		return nil, err
	}
	tags, err := tx.TagsByResource(ctx, account, tagUser)
	if err != nil {
		return nil, err
	}
	var out []authItem
	for _, u := range users {
		inline, attached, err := entityPolicies(ctx, tx, u.UserID)
		if err != nil {
			return nil, err
		}
		groups, err := tx.GroupsOfUser(ctx, u.UserID)
		if err != nil {
			return nil, err
		}
		d := &iamapi.UserDetail{Path: ptr(u.Path), UserName: ptr(u.Name), UserId: ptr(u.UserID), Arn: ptr(userARN(u.AccountID, u.Path, u.Name)),
			CreateDate: ptr(u.CreatedAt), UserPolicyList: inline, GroupList: []string{}, AttachedManagedPolicies: attached, Tags: apiTags(tags[u.UserID]),
			PermissionsBoundary: apiBoundary(u.PermissionsBoundary)}
		for _, g := range groups {
			d.GroupList = append(d.GroupList, g.Name)
		}
		out = append(out, authItem{key: "1" + u.Name, user: d})
	}
	return out, nil
}

func groupDetails(ctx context.Context, tx *store.Tx, account string, want map[string]bool) ([]authItem, error) {
	if !want["Group"] {
		return nil, nil
	}
	groups, err := tx.ListGroups(ctx, account, "/")
	if err != nil {
		return nil, err
	}
	var out []authItem
	for _, g := range groups {
		inline, attached, err := entityPolicies(ctx, tx, g.GroupID)
		if err != nil {
			return nil, err
		}
		d := &iamapi.GroupDetail{Path: ptr(g.Path), GroupName: ptr(g.Name), GroupId: ptr(g.GroupID), Arn: ptr(arn(account, "group", g.Path, g.Name)),
			CreateDate: ptr(g.CreatedAt), GroupPolicyList: inline, AttachedManagedPolicies: attached}
		out = append(out, authItem{key: "2" + g.Name, group: d})
	}
	return out, nil
}

func roleDetails(ctx context.Context, tx *store.Tx, account string, want map[string]bool) ([]authItem, error) {
	if !want["Role"] {
		return nil, nil
	}
	roles, err := tx.ListRoles(ctx, account, "/")
	if err != nil {
		return nil, err
	}
	tags, err := tx.TagsByResource(ctx, account, tagRole)
	if err != nil {
		return nil, err
	}
	byID := map[string]store.Role{}
	for _, r := range roles {
		byID[r.RoleID] = r
	}
	var out []authItem
	for _, r := range roles {
		inline, attached, err := entityPolicies(ctx, tx, r.RoleID)
		if err != nil {
			return nil, err
		}
		view := apiRole(r, roleView{tags: tags[r.RoleID], full: true})
		d := &iamapi.RoleDetail{Path: view.Path, RoleName: view.RoleName, RoleId: view.RoleId, Arn: view.Arn, CreateDate: view.CreateDate,
			AssumeRolePolicyDocument: view.AssumeRolePolicyDocument, InstanceProfileList: []iamapi.InstanceProfile{}, RolePolicyList: inline,
			AttachedManagedPolicies: attached, PermissionsBoundary: view.PermissionsBoundary, Tags: view.Tags, RoleLastUsed: view.RoleLastUsed}
		profiles, err := tx.InstanceProfilesOfRole(ctx, r.RoleID)
		if err != nil {
			return nil, err
		}
		for _, ip := range profiles {
			v, err := apiProfile(ctx, tx, ip, byID, nil)
			if err != nil {
				return nil, err
			}
			d.InstanceProfileList = append(d.InstanceProfileList, v)
		}
		out = append(out, authItem{key: "3" + r.Name, role: d})
	}
	return out, nil
}

// policyDetails lists the account's own policies and the AWS managed
// policies attached in it, each with all its versions.
func policyDetails(ctx context.Context, tx *store.Tx, account string, want map[string]bool) ([]authItem, error) {
	used, err := usages(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	var all []managed
	if want["LocalManagedPolicy"] {
		local, err := tx.ListPolicies(ctx, account)
		if err != nil {
			return nil, err
		}
		for _, pol := range local {
			all = append(all, managed{Policy: pol})
		}
	}
	if want["AWSManagedPolicy"] {
		for _, a := range awspolicies.All() {
			if u := used[a.ARN()]; u.attached+u.boundary > 0 {
				all = append(all, fromAWS(a))
			}
		}
	}
	var out []authItem
	for _, m := range all {
		versions, err := policyVersions(ctx, tx, m)
		if err != nil {
			return nil, err
		}
		v := apiPolicy(m, used[m.ARN], nil, true)
		d := &iamapi.ManagedPolicyDetail{PolicyName: v.PolicyName, PolicyId: v.PolicyId, Arn: v.Arn, Path: v.Path, DefaultVersionId: v.DefaultVersionId,
			AttachmentCount: v.AttachmentCount, PermissionsBoundaryUsageCount: v.PermissionsBoundaryUsageCount, IsAttachable: v.IsAttachable,
			Description: v.Description, CreateDate: v.CreateDate, UpdateDate: v.UpdateDate, PolicyVersionList: []iamapi.PolicyVersion{}}
		for _, pv := range versions {
			d.PolicyVersionList = append(d.PolicyVersionList, *apiVersion(pv, m.DefaultVersion, true))
		}
		out = append(out, authItem{key: "4" + m.ARN, policy: d})
	}
	return out, nil
}
