package iam

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/secrets"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// newService opens a store on b with one account and returns the service
// and a context signed as that account's root.
func newService(t testing.TB, b storetest.Backend) (*Service, context.Context, string) {
	t.Helper()
	box, err := secrets.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	id := &identity.Service{DB: storetest.Open(t, b), Box: box}
	acct, _, err := id.CreateAccount(context.Background(), "team")
	if err != nil {
		t.Fatal(err)
	}
	ctx := identity.WithPrincipal(context.Background(), identity.Principal{AccountID: acct.ID, UserID: acct.ID})
	return &Service{Identity: id}, ctx, acct.ID
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func doc(action string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`
}

// sources lists "owner name" of each policy document, sorted.
func sources(docs []PolicyDocument) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.Owner+" "+d.Name+" "+d.Document)
	}
	slices.Sort(out)
	return out
}

// TestPoliciesFor: a user's policies are its inline and attached ones plus
// those of each of its groups; a role's, its own and its boundary.
func TestPoliciesFor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		s, ctx, acct := newService(t, b)
		str := func(v string) *string { return &v }
		must[*iamapi.CreateUserResponse](t)(s.CreateUser(ctx, &iamapi.CreateUserRequest{UserName: str("alice")}))
		must[*iamapi.CreateUserResponse](t)(s.CreateUser(ctx, &iamapi.CreateUserRequest{UserName: str("bob")}))
		for _, g := range []string{"devs", "ops"} {
			must[*iamapi.CreateGroupResponse](t)(s.CreateGroup(ctx, &iamapi.CreateGroupRequest{GroupName: str(g)}))
			must[*iamapi.AddUserToGroupOutput](t)(s.AddUserToGroup(ctx, &iamapi.AddUserToGroupRequest{GroupName: str(g), UserName: str("alice")}))
		}
		pol := must[*iamapi.CreatePolicyResponse](t)(s.CreatePolicy(ctx, &iamapi.CreatePolicyRequest{PolicyName: str("p"), PolicyDocument: str(doc("ec2:StartInstances"))}))
		must[*iamapi.CreatePolicyVersionResponse](t)(s.CreatePolicyVersion(ctx, &iamapi.CreatePolicyVersionRequest{PolicyArn: pol.Policy.Arn,
			PolicyDocument: str(doc("ec2:StopInstances")), SetAsDefault: ptr(true)}))
		must[*iamapi.PutUserPolicyOutput](t)(s.PutUserPolicy(ctx, &iamapi.PutUserPolicyRequest{UserName: str("alice"), PolicyName: str("own"), PolicyDocument: str(doc("s3:GetObject"))}))
		must[*iamapi.PutGroupPolicyOutput](t)(s.PutGroupPolicy(ctx, &iamapi.PutGroupPolicyRequest{GroupName: str("ops"), PolicyName: str("ops"), PolicyDocument: str(doc("ec2:RebootInstances"))}))
		must[*iamapi.AttachGroupPolicyOutput](t)(s.AttachGroupPolicy(ctx, &iamapi.AttachGroupPolicyRequest{GroupName: str("devs"), PolicyArn: pol.Policy.Arn}))
		admin := "arn:aws:iam::aws:policy/AdministratorAccess"
		must[*iamapi.AttachUserPolicyOutput](t)(s.AttachUserPolicy(ctx, &iamapi.AttachUserPolicyRequest{UserName: str("alice"), PolicyArn: str(admin)}))

		got, err := s.PoliciesFor(ctx, identity.Principal{AccountID: acct, UserName: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		adminDoc, _ := managedDocuments(ctx, nil, acct, []string{admin})
		want := []string{
			"group/devs " + *pol.Policy.Arn + " " + doc("ec2:StopInstances"), // the default version
			"group/ops ops " + doc("ec2:RebootInstances"),
			"user/alice " + admin + " " + adminDoc[admin],
			"user/alice own " + doc("s3:GetObject"),
		}
		if g := sources(got.Identity); !slices.Equal(g, want) {
			t.Errorf("alice's policies:\n got %q\nwant %q", g, want)
		}
		if got.Boundary != nil {
			t.Errorf("alice's boundary = %+v", got.Boundary)
		}
		must[*iamapi.PutUserPermissionsBoundaryOutput](t)(s.PutUserPermissionsBoundary(ctx, &iamapi.PutUserPermissionsBoundaryRequest{UserName: str("alice"), PermissionsBoundary: str(admin)}))
		got, err = s.PoliciesFor(ctx, identity.Principal{AccountID: acct, UserName: "alice"})
		if err != nil || got.Boundary == nil || got.Boundary.Name != admin || got.Boundary.Owner != "user/alice" || got.Boundary.Document != adminDoc[admin] {
			t.Errorf("alice's boundary = %+v, %v", got.Boundary, err)
		}
		bob, err := s.PoliciesFor(ctx, identity.Principal{AccountID: acct, UserName: "bob"})
		if err != nil || len(bob.Identity) != 0 {
			t.Errorf("bob's policies = %+v, %v; want none", bob, err)
		}
		if _, err := s.PoliciesFor(ctx, identity.Principal{AccountID: acct}); !errors.Is(err, ErrRootPrincipal) {
			t.Errorf("root's policies: err = %v, want ErrRootPrincipal", err)
		}
		if _, err := s.PoliciesFor(ctx, identity.Principal{AccountID: acct, UserName: "nobody"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown user's policies: err = %v, want ErrNotFound", err)
		}

		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		must[*iamapi.CreateRoleResponse](t)(s.CreateRole(ctx, &iamapi.CreateRoleRequest{RoleName: str("web"), AssumeRolePolicyDocument: str(trust), PermissionsBoundary: pol.Policy.Arn}))
		must[*iamapi.PutRolePolicyOutput](t)(s.PutRolePolicy(ctx, &iamapi.PutRolePolicyRequest{RoleName: str("web"), PolicyName: str("r"), PolicyDocument: str(doc("s3:PutObject"))}))
		role, err := s.PoliciesForRoleName(ctx, acct, "WEB")
		if err != nil {
			t.Fatal(err)
		}
		if g := sources(role.Identity); !slices.Equal(g, []string{"role/web r " + doc("s3:PutObject")}) {
			t.Errorf("role's policies = %q", g)
		}
		if role.Boundary == nil || role.Boundary.Name != *pol.Policy.Arn || role.Boundary.Document != doc("ec2:StopInstances") {
			t.Errorf("role's boundary = %+v", role.Boundary)
		}
	})
}

// TestDeleteUserConflicts: a user with a group, a policy or a password is
// not deleted, and the answer says what to remove first.
func TestDeleteUserConflicts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		s, ctx, _ := newService(t, b)
		str := func(v string) *string { return &v }
		must[*iamapi.CreateUserResponse](t)(s.CreateUser(ctx, &iamapi.CreateUserRequest{UserName: str("u")}))
		must[*iamapi.CreateGroupResponse](t)(s.CreateGroup(ctx, &iamapi.CreateGroupRequest{GroupName: str("g")}))
		must[*iamapi.AddUserToGroupOutput](t)(s.AddUserToGroup(ctx, &iamapi.AddUserToGroupRequest{GroupName: str("g"), UserName: str("u")}))
		must[*iamapi.AttachUserPolicyOutput](t)(s.AttachUserPolicy(ctx, &iamapi.AttachUserPolicyRequest{UserName: str("u"), PolicyArn: str("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
		steps := []struct {
			message string
			remove  func() error
		}{
			{"Cannot delete entity, must remove users from group first.", func() error {
				_, err := s.RemoveUserFromGroup(ctx, &iamapi.RemoveUserFromGroupRequest{GroupName: str("g"), UserName: str("u")})
				return err
			}},
			{"Cannot delete entity, must detach all policies first.", func() error {
				_, err := s.DetachUserPolicy(ctx, &iamapi.DetachUserPolicyRequest{UserName: str("u"), PolicyArn: str("arn:aws:iam::aws:policy/ReadOnlyAccess")})
				return err
			}},
		}
		for _, st := range steps {
			_, err := s.DeleteUser(ctx, &iamapi.DeleteUserRequest{UserName: str("u")})
			var ae *awsapi.Error
			if !errors.As(err, &ae) || ae.Code != "DeleteConflict" || ae.Message != st.message {
				t.Fatalf("DeleteUser = %v, want DeleteConflict %q", err, st.message)
			}
			if err := st.remove(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DeleteUser(ctx, &iamapi.DeleteUserRequest{UserName: str("u")}); err != nil {
			t.Fatal(err)
		}
	})
}
