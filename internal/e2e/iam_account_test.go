package e2e_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	kumoiam "github.com/kumo-cloud/kumo/internal/iam"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func tagKeys(tags []iamtypes.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return out
}

// TestIAMTags covers tags on users, roles and customer managed policies.
func TestIAMTags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := startIAM(t, b)
		c := acct.IAM
		ctx := t.Context()
		noErr(t, second(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})))
		noErr(t, second(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc)})))
		pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(describeDoc)})
		noErr(t, err)
		two := []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("env"), Value: aws.String("dev")}}

		noErr(t, second(c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: two})))
		noErr(t, second(c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("web"), Tags: two})))
		noErr(t, second(c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: pol.Policy.Arn, Tags: two})))
		// Tagging again overwrites a value.
		noErr(t, second(c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}})))

		ut, err := c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("alice")})
		noErr(t, err)
		if got := tagKeys(ut.Tags); !slices.Equal(got, []string{"env=dev", "team=red"}) {
			t.Errorf("ListUserTags = %v", got)
		}
		rt, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("web")})
		noErr(t, err)
		if got := tagKeys(rt.Tags); !slices.Equal(got, []string{"env=dev", "team=blue"}) {
			t.Errorf("ListRoleTags = %v", got)
		}
		noErr(t, second(c.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: pol.Policy.Arn, TagKeys: []string{"env", "absent"}})))
		pt, err := c.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: pol.Policy.Arn})
		noErr(t, err)
		if got := tagKeys(pt.Tags); !slices.Equal(got, []string{"team=blue"}) {
			t.Errorf("ListPolicyTags after untag = %v", got)
		}
		noErr(t, second(c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("alice"), TagKeys: []string{"team"}})))
		noErr(t, second(c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("web"), TagKeys: []string{"team", "env"}})))
		rt, err = c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("web")})
		noErr(t, err)
		if len(rt.Tags) != 0 {
			t.Errorf("role tags after untag = %v", tagKeys(rt.Tags))
		}

		_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("nobody"), Tags: two})
		wantCode(t, err, "NoSuchEntity")
		_, err = c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"), Tags: two})
		wantCode(t, err, "AccessDenied")
		var many []iamtypes.Tag
		for i := range 50 {
			many = append(many, iamtypes.Tag{Key: aws.String(string(rune('A'+i%26)) + string(rune('a'+i/26))), Value: aws.String("v")})
		}
		_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: many})
		wantCode(t, err, "LimitExceeded") // env + 50 new keys
		_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: []iamtypes.Tag{{Key: aws.String(""), Value: aws.String("v")}}})
		wantCode(t, err, "ValidationError")
	})
}

// TestIAMLoginProfiles covers console passwords.
func TestIAMLoginProfiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := startIAM(t, b)
		c := acct.IAM
		ctx := t.Context()
		iamSvc := &kumoiam.Service{Identity: srv.Identity}
		noErr(t, second(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})))

		_, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
		wantCode(t, err, "NoSuchEntity")
		for _, weak := range []string{"short1A", "alllowercaseletters", "alice"} {
			_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String(weak)})
			wantCode(t, err, "PasswordPolicyViolation")
		}
		lp, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Tr0ub4dor&3"), PasswordResetRequired: true})
		noErr(t, err)
		if aws.ToString(lp.LoginProfile.UserName) != "alice" || !lp.LoginProfile.PasswordResetRequired || lp.LoginProfile.CreateDate == nil {
			t.Errorf("CreateLoginProfile = %+v", lp.LoginProfile)
		}
		_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Tr0ub4dor&3")})
		wantCode(t, err, "EntityAlreadyExists")
		_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("nobody"), Password: aws.String("Tr0ub4dor&3")})
		wantCode(t, err, "NoSuchEntity")

		ok, err := iamSvc.CheckPassword(ctx, acct.ID, "alice", "Tr0ub4dor&3")
		if err != nil || !ok {
			t.Errorf("CheckPassword(right) = %v, %v", ok, err)
		}
		noErr(t, second(c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("correct-Horse-battery"), PasswordResetRequired: aws.Bool(false)})))
		if ok, _ := iamSvc.CheckPassword(ctx, acct.ID, "alice", "Tr0ub4dor&3"); ok {
			t.Error("the old password still works after UpdateLoginProfile")
		}
		if ok, _ := iamSvc.CheckPassword(ctx, acct.ID, "alice", "correct-Horse-battery"); !ok {
			t.Error("the new password does not work")
		}
		got, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
		noErr(t, err)
		if got.LoginProfile.PasswordResetRequired {
			t.Error("PasswordResetRequired still set")
		}

		_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
		wantCode(t, err, "DeleteConflict")
		noErr(t, second(c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")})))
		_, err = c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")})
		wantCode(t, err, "NoSuchEntity")
		noErr(t, second(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})))
	})
}

// TestIAMAccountAliases covers account aliases, unique across accounts.
func TestIAMAccountAliases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := startIAM(t, b)
		other := srv.NewAccount(t, "team-b")
		c := acct.IAM
		ctx := t.Context()

		list, err := c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
		noErr(t, err)
		if len(list.AccountAliases) != 0 {
			t.Errorf("aliases of a new account = %v", list.AccountAliases)
		}
		for _, bad := range []string{"ab", "Upper", "double--hyphen", "-start", "end-", "under_score"} {
			_, err = c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(bad)})
			wantCode(t, err, "ValidationError")
		}
		noErr(t, second(c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("team-a-prod")})))
		_, err = other.IAM.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("team-a-prod")})
		wantCode(t, err, "EntityAlreadyExists")
		noErr(t, second(c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("team-a")})))
		list, err = c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
		noErr(t, err)
		if !slices.Equal(list.AccountAliases, []string{"team-a"}) {
			t.Errorf("ListAccountAliases = %v, want the new alias only", list.AccountAliases)
		}
		// The replaced alias is free again.
		noErr(t, second(other.IAM.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("team-a-prod")})))
		_, err = c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("team-a-prod")})
		wantCode(t, err, "NoSuchEntity")
		noErr(t, second(c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("team-a")})))
	})
}

// TestIAMAccountAuthorizationDetails covers GetAccountAuthorizationDetails.
func TestIAMAccountAuthorizationDetails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := startIAM(t, b)
		c := acct.IAM
		ctx := t.Context()
		noErr(t, second(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})))
		noErr(t, second(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})))
		noErr(t, second(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")})))
		noErr(t, second(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("mine"), PolicyDocument: aws.String(describeDoc)})))
		noErr(t, second(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc)})))
		noErr(t, second(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")})))
		noErr(t, second(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})))
		pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("start-stop"), PolicyDocument: aws.String(startStopDoc)})
		noErr(t, err)
		noErr(t, second(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: pol.Policy.Arn})))
		noErr(t, second(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")})))

		out, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
		noErr(t, err)
		if len(out.UserDetailList) != 1 || len(out.GroupDetailList) != 1 || len(out.RoleDetailList) != 1 || len(out.Policies) != 2 || out.IsTruncated {
			t.Fatalf("details: %d users, %d groups, %d roles, %d policies", len(out.UserDetailList), len(out.GroupDetailList), len(out.RoleDetailList), len(out.Policies))
		}
		u := out.UserDetailList[0]
		if !slices.Equal(u.GroupList, []string{"devs"}) || len(u.UserPolicyList) != 1 || decoded(t, u.UserPolicyList[0].PolicyDocument) != describeDoc {
			t.Errorf("user detail = %+v", u)
		}
		if g := out.GroupDetailList[0]; len(g.AttachedManagedPolicies) != 1 || aws.ToString(g.AttachedManagedPolicies[0].PolicyArn) != aws.ToString(pol.Policy.Arn) {
			t.Errorf("group detail = %+v", g)
		}
		r := out.RoleDetailList[0]
		if decoded(t, r.AssumeRolePolicyDocument) != ec2TrustDoc || len(r.InstanceProfileList) != 1 || len(r.AttachedManagedPolicies) != 1 {
			t.Errorf("role detail = %+v", r)
		}
		for _, p := range out.Policies {
			if len(p.PolicyVersionList) != 1 || !p.PolicyVersionList[0].IsDefaultVersion || aws.ToInt32(p.AttachmentCount) != 1 {
				t.Errorf("policy detail %s = %+v", aws.ToString(p.Arn), p)
			}
		}

		onlyRoles, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{iamtypes.EntityTypeRole}})
		noErr(t, err)
		if len(onlyRoles.RoleDetailList) != 1 || len(onlyRoles.UserDetailList)+len(onlyRoles.GroupDetailList)+len(onlyRoles.Policies) != 0 {
			t.Errorf("Filter=Role returned %+v", onlyRoles)
		}
		// Paging: one item a page, five items in all.
		var n int
		in := &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1)}
		for pages := 0; pages < 10; pages++ {
			page, err := c.GetAccountAuthorizationDetails(ctx, in)
			noErr(t, err)
			n += len(page.UserDetailList) + len(page.GroupDetailList) + len(page.RoleDetailList) + len(page.Policies)
			if !page.IsTruncated {
				break
			}
			in.Marker = page.Marker
		}
		if n != 5 {
			t.Errorf("paged through %d items, want 5", n)
		}
	})
}
