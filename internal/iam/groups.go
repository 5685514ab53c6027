package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// maxGroupsPerUser is IAM's GroupsPerUser quota.
const maxGroupsPerUser = 10

func apiGroup(g store.Group) iamapi.Group {
	return iamapi.Group{Path: ptr(g.Path), GroupName: ptr(g.Name), GroupId: ptr(g.GroupID), Arn: ptr(arn(g.AccountID, "group", g.Path, g.Name)), CreateDate: ptr(g.CreatedAt)}
}

// CreateGroup adds a group to the caller's account.
func (s *Service) CreateGroup(ctx context.Context, in *iamapi.CreateGroupRequest) (*iamapi.CreateGroupResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := deref(in.GroupName)
	if err := validName("groupName", name, maxGroupName); err != nil {
		return nil, err
	}
	path, err := validPath(deref(in.Path))
	if err != nil {
		return nil, err
	}
	g := store.Group{AccountID: p.AccountID, GroupID: ids.GroupID(), Name: name, Path: path, CreatedAt: nowMillis()}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		return tx.InsertGroup(ctx, g)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, alreadyExists("Group with name %s already exists.", name)
	}
	if err != nil {
		return nil, fmt.Errorf("create group %s: %w", name, err)
	}
	out := apiGroup(g)
	return &iamapi.CreateGroupResponse{Group: &out}, nil
}

// GetGroup returns a group and pages through its users.
func (s *Service) GetGroup(ctx context.Context, in *iamapi.GetGroupRequest) (*iamapi.GetGroupResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var g store.Group
	var users []store.User
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		if g, err = findGroup(ctx, tx, p.AccountID, deref(in.GroupName)); err != nil {
			return err
		}
		users, err = tx.GroupMembers(ctx, g.GroupID)
		return err
	})
	if err != nil {
		return nil, err
	}
	page, marker, err := pageByMarker(users, func(u store.User) string { return u.Name }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetGroupResponse{Group: ptr(apiGroup(g)), Users: []iamapi.User{}, IsTruncated: ptr(marker != nil), Marker: marker}
	for _, u := range page {
		u.PermissionsBoundary = "" // IAM lists users without their boundaries
		out.Users = append(out.Users, *apiUser(u, nil))
	}
	return out, nil
}

// ListGroups pages through the account's groups by name.
func (s *Service) ListGroups(ctx context.Context, in *iamapi.ListGroupsRequest) (*iamapi.ListGroupsResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	prefix, err := validPathPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	var groups []store.Group
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		groups, err = tx.ListGroups(ctx, p.AccountID, prefix)
		return err
	})
	if err != nil {
		return nil, err
	}
	return groupPage(groups, in.Marker, in.MaxItems)
}

func groupPage(groups []store.Group, marker *string, maxItems *int32) (*iamapi.ListGroupsResponse, error) {
	page, next, err := pageByMarker(groups, func(g store.Group) string { return g.Name }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListGroupsResponse{Groups: []iamapi.Group{}, IsTruncated: ptr(next != nil), Marker: next}
	for _, g := range page {
		out.Groups = append(out.Groups, apiGroup(g))
	}
	return out, nil
}

// ListGroupsForUser pages through the groups a user belongs to.
func (s *Service) ListGroupsForUser(ctx context.Context, in *iamapi.ListGroupsForUserRequest) (*iamapi.ListGroupsForUserResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var groups []store.Group
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, err := findUser(ctx, tx, p.AccountID, deref(in.UserName))
		if err != nil {
			return err
		}
		groups, err = tx.GroupsOfUser(ctx, u.UserID)
		return err
	})
	if err != nil {
		return nil, err
	}
	out, err := groupPage(groups, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListGroupsForUserResponse{Groups: out.Groups, IsTruncated: out.IsTruncated, Marker: out.Marker}, nil
}

// DeleteGroup removes a group that has no members and no policies left.
func (s *Service) DeleteGroup(ctx context.Context, in *iamapi.DeleteGroupRequest) (*iamapi.DeleteGroupOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, p.AccountID); err != nil {
			return err
		}
		g, err := findGroup(ctx, tx, p.AccountID, deref(in.GroupName))
		if err != nil {
			return err
		}
		if n, err := tx.CountGroupMembers(ctx, g.GroupID); err != nil {
			return err
		} else if n > 0 {
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		}
		if err := refusePolicies(ctx, tx, g.GroupID); err != nil {
			return err
		}
		return tx.DeleteGroup(ctx, g.GroupID)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteGroupOutput{}, nil
}

// refusePolicies answers DeleteConflict while a user, group or role still
// has attached or inline policies, as IAM refuses to delete it then.
func refusePolicies(ctx context.Context, tx *store.Tx, entityID string) error {
	attached, err := tx.AttachedPolicies(ctx, entityID)
	if err != nil {
		return err
	}
	if len(attached) > 0 {
		return deleteConflict("Cannot delete entity, must detach all policies first.")
	}
	inline, err := tx.InlinePolicies(ctx, entityID)
	if err != nil {
		return err
	}
	if len(inline) > 0 {
		return deleteConflict("Cannot delete entity, must delete policies first.")
	}
	return nil
}

// AddUserToGroup puts a user in a group (again is fine), at most 10 groups a user.
func (s *Service) AddUserToGroup(ctx context.Context, in *iamapi.AddUserToGroupRequest) (*iamapi.AddUserToGroupOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, p.AccountID); err != nil {
			return err
		}
		g, err := findGroup(ctx, tx, p.AccountID, deref(in.GroupName))
		if err != nil {
			return err
		}
		u, err := findUser(ctx, tx, p.AccountID, deref(in.UserName))
		if err != nil {
			return err
		}
		groups, err := tx.GroupsOfUser(ctx, u.UserID)
		if err != nil {
			return err
		}
		for _, have := range groups {
			if have.GroupID == g.GroupID {
				return nil
			}
		}
		if len(groups) >= maxGroupsPerUser {
			return limitExceeded("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		return tx.AddGroupMember(ctx, p.AccountID, g.GroupID, u.UserID)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.AddUserToGroupOutput{}, nil
}

// RemoveUserFromGroup takes a user out of a group.
func (s *Service) RemoveUserFromGroup(ctx context.Context, in *iamapi.RemoveUserFromGroupRequest) (*iamapi.RemoveUserFromGroupOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		g, err := findGroup(ctx, tx, p.AccountID, deref(in.GroupName))
		if err != nil {
			return err
		}
		u, err := findUser(ctx, tx, p.AccountID, deref(in.UserName))
		if err != nil {
			return err
		}
		if err := tx.RemoveGroupMember(ctx, g.GroupID, u.UserID); errors.Is(err, store.ErrNotFound) {
			return noSuchEntity("The user with name %s cannot be found in group %s.", u.Name, g.Name)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.RemoveUserFromGroupOutput{}, nil
}
