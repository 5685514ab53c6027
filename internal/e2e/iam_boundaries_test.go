package e2e_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestIAMPermissionsBoundaries covers boundaries of users and roles.
func TestIAMPermissionsBoundaries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := startIAM(t, b)
		c := acct.IAM
		ctx := t.Context()
		pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bound"), PolicyDocument: aws.String(describeDoc)})
		noErr(t, err)
		arn := aws.ToString(pol.Policy.Arn)

		u, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), PermissionsBoundary: aws.String(arn)})
		noErr(t, err)
		if u.User.PermissionsBoundary == nil || aws.ToString(u.User.PermissionsBoundary.PermissionsBoundaryArn) != arn ||
			u.User.PermissionsBoundary.PermissionsBoundaryType != "PermissionsBoundaryPolicy" {
			t.Errorf("CreateUser boundary = %+v", u.User.PermissionsBoundary)
		}
		_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/Nope")})
		wantCode(t, err, "NoSuchEntity")
		noErr(t, second(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})))
		noErr(t, second(c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("bob"), PermissionsBoundary: aws.String(arn)})))
		noErr(t, second(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc)})))
		noErr(t, second(c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("web"), PermissionsBoundary: aws.String(arn)})))
		_, err = c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("web"), PermissionsBoundary: aws.String("bogus")})
		wantCode(t, err, "InvalidInput")

		got, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		noErr(t, err)
		if aws.ToInt32(got.Policy.PermissionsBoundaryUsageCount) != 3 {
			t.Errorf("PermissionsBoundaryUsageCount = %d, want 3", aws.ToInt32(got.Policy.PermissionsBoundaryUsageCount))
		}
		ents, err := c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)})
		noErr(t, err)
		if len(ents.PolicyUsers) != 2 || len(ents.PolicyRoles) != 1 {
			t.Errorf("ListEntitiesForPolicy = %+v", ents)
		}
		_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
		wantCode(t, err, "DeleteConflict")

		gu, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
		noErr(t, err)
		if gu.User.PermissionsBoundary == nil {
			t.Error("GetUser shows no boundary after PutUserPermissionsBoundary")
		}
		for _, name := range []string{"alice", "bob"} {
			noErr(t, second(c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String(name)})))
		}
		noErr(t, second(c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("web")})))
		gr, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})
		noErr(t, err)
		if gr.Role.PermissionsBoundary != nil {
			t.Errorf("role boundary after delete = %+v", gr.Role.PermissionsBoundary)
		}
		noErr(t, second(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})))
	})
}
