package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// startIAM runs a controller without background workers (IAM needs none)
// and creates one account on it.
func startIAM(t *testing.T, b storetest.Backend) (*controllertest.Server, *controllertest.Account) {
	t.Helper()
	srv := controllertest.StartAPIOnly(t, b)
	return srv, srv.NewAccount(t, "team-a")
}

func groupNames(groups []iamtypes.Group) []string {
	var out []string
	for _, g := range groups {
		out = append(out, aws.ToString(g.GroupName))
	}
	return out
}

// TestIAMGroups covers groups, membership and DeleteConflict on users and groups.
func TestIAMGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := startIAM(t, b)
		c := acct.IAM
		ctx := t.Context()

		out, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs"), Path: aws.String("/eng/")})
		noErr(t, err)
		g := out.Group
		if aws.ToString(g.Arn) != "arn:aws:iam::"+acct.ID+":group/eng/devs" || !strings.HasPrefix(aws.ToString(g.GroupId), "AGPA") || aws.ToString(g.Path) != "/eng/" || g.CreateDate == nil {
			t.Errorf("CreateGroup = %+v", g)
		}
		_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("DEVS")})
		wantCode(t, err, "EntityAlreadyExists")
		_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("bad name")})
		wantCode(t, err, "ValidationError")
		_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(strings.Repeat("g", 129))})
		wantCode(t, err, "ValidationError")
		long := strings.Repeat("g", 128) // group names are longer than user names
		_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(long)})
		noErr(t, err)
		noErr(t, second(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String(long)})))
		_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")})
		noErr(t, err)

		list, err := c.ListGroups(ctx, &iam.ListGroupsInput{})
		noErr(t, err)
		if got := groupNames(list.Groups); !slices.Equal(got, []string{"devs", "ops"}) {
			t.Errorf("ListGroups = %v", got)
		}
		list, err = c.ListGroups(ctx, &iam.ListGroupsInput{PathPrefix: aws.String("/eng/")})
		noErr(t, err)
		if got := groupNames(list.Groups); !slices.Equal(got, []string{"devs"}) {
			t.Errorf("ListGroups(/eng/) = %v", got)
		}

		for _, u := range []string{"alice", "bob"} {
			_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)})
			noErr(t, err)
		}
		_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")})
		noErr(t, err)
		_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")})
		noErr(t, err) // again: no change
		_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("alice")})
		noErr(t, err)
		_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("bob")})
		noErr(t, err)
		_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("nope"), UserName: aws.String("bob")})
		wantCode(t, err, "NoSuchEntity")
		_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("nobody")})
		wantCode(t, err, "NoSuchEntity")

		got, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("devs"), MaxItems: aws.Int32(1)})
		noErr(t, err)
		if len(got.Users) != 1 || aws.ToString(got.Users[0].UserName) != "alice" || !got.IsTruncated || aws.ToString(got.Group.GroupId) != aws.ToString(g.GroupId) {
			t.Errorf("GetGroup page 1 = %+v", got)
		}
		got, err = c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("devs"), Marker: got.Marker})
		noErr(t, err)
		if len(got.Users) != 1 || aws.ToString(got.Users[0].UserName) != "bob" || got.IsTruncated {
			t.Errorf("GetGroup page 2 = %+v", got)
		}
		_, err = c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("nope")})
		wantCode(t, err, "NoSuchEntity")

		forUser, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("alice")})
		noErr(t, err)
		if got := groupNames(forUser.Groups); !slices.Equal(got, []string{"devs", "ops"}) {
			t.Errorf("ListGroupsForUser(alice) = %v", got)
		}

		_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})
		wantCode(t, err, "DeleteConflict")
		_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
		wantCode(t, err, "DeleteConflict")

		_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("devs"), UserName: aws.String("bob")})
		noErr(t, err)
		_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("devs"), UserName: aws.String("bob")})
		wantCode(t, err, "NoSuchEntity")
		_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
		noErr(t, err)
		for _, grp := range []string{"devs", "ops"} {
			_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String(grp), UserName: aws.String("alice")})
			noErr(t, err)
			_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String(grp)})
			noErr(t, err)
		}
		_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})
		wantCode(t, err, "NoSuchEntity")
	})
}

// TestIAMGroupsPerUserQuota: a user belongs to at most 10 groups.
func TestIAMGroupsPerUserQuota(t *testing.T) {
	b := storetest.Backends()[0]
	_, acct := startIAM(t, b)
	c := acct.IAM
	_, err := c.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("joiner")})
	noErr(t, err)
	for i := range 11 {
		name := fmt.Sprintf("g%02d", i)
		_, err := c.CreateGroup(t.Context(), &iam.CreateGroupInput{GroupName: aws.String(name)})
		noErr(t, err)
		_, err = c.AddUserToGroup(t.Context(), &iam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String("joiner")})
		if i < 10 {
			noErr(t, err)
		} else {
			wantCode(t, err, "LimitExceeded")
		}
	}
}
