package e2e_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

const ec2TrustDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// TestIAMRoles covers roles, their trust policies, inline and attached
// policies, and instance profiles.
func TestIAMRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := startIAM(t, b)
		c := acct.IAM
		ctx := t.Context()

		boundary := "arn:aws:iam::aws:policy/PowerUserAccess"
		out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), Path: aws.String("/app/"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc),
			Description: aws.String("web servers"), MaxSessionDuration: aws.Int32(7200), PermissionsBoundary: aws.String(boundary),
			Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
		noErr(t, err)
		r := out.Role
		if aws.ToString(r.Arn) != "arn:aws:iam::"+acct.ID+":role/app/web" || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") ||
			decoded(t, r.AssumeRolePolicyDocument) != ec2TrustDoc || aws.ToInt32(r.MaxSessionDuration) != 7200 {
			t.Errorf("CreateRole = %+v", r)
		}
		_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("WEB"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc)})
		wantCode(t, err, "EntityAlreadyExists")
		_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(describeDoc)})
		wantCode(t, err, "MalformedPolicyDocument") // a Resource and no Principal
		_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc), MaxSessionDuration: aws.Int32(60)})
		wantCode(t, err, "ValidationError")
		_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/Nope")})
		wantCode(t, err, "NoSuchEntity")
		_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(strings.Repeat("r", 65)), AssumeRolePolicyDocument: aws.String(ec2TrustDoc)})
		wantCode(t, err, "ValidationError")

		got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})
		noErr(t, err)
		g := got.Role
		if aws.ToString(g.Description) != "web servers" || g.PermissionsBoundary == nil || aws.ToString(g.PermissionsBoundary.PermissionsBoundaryArn) != boundary ||
			len(g.Tags) != 1 || decoded(t, g.AssumeRolePolicyDocument) != ec2TrustDoc {
			t.Errorf("GetRole = %+v", g)
		}
		_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
		wantCode(t, err, "NoSuchEntity")
		bp, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(boundary)})
		noErr(t, err)
		if aws.ToInt32(bp.Policy.PermissionsBoundaryUsageCount) != 1 || aws.ToInt32(bp.Policy.AttachmentCount) != 0 {
			t.Errorf("boundary policy usage = %d attached, %d as boundary", aws.ToInt32(bp.Policy.AttachmentCount), aws.ToInt32(bp.Policy.PermissionsBoundaryUsageCount))
		}
		bounded, err := c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(boundary), PolicyUsageFilter: iamtypes.PolicyUsageTypePermissionsBoundary})
		noErr(t, err)
		if len(bounded.PolicyRoles) != 1 || aws.ToString(bounded.PolicyRoles[0].RoleName) != "web" {
			t.Errorf("ListEntitiesForPolicy(PermissionsBoundary) = %+v", bounded.PolicyRoles)
		}
		asBoundary, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{OnlyAttached: true, PolicyUsageFilter: iamtypes.PolicyUsageTypePermissionsBoundary})
		noErr(t, err)
		if got := policyARNs(asBoundary.Policies); !slices.Equal(got, []string{boundary}) {
			t.Errorf("ListPolicies(boundaries) = %v", got)
		}

		newTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct.ID + `:root"},"Action":"sts:AssumeRole"}]}`
		noErr(t, second(c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("web"), PolicyDocument: aws.String(newTrust)})))
		noErr(t, second(c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("web"), Description: aws.String("changed"), MaxSessionDuration: aws.Int32(43200)})))
		_, err = c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("web"), MaxSessionDuration: aws.Int32(43201)})
		wantCode(t, err, "ValidationError")
		list, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/app/")})
		noErr(t, err)
		if len(list.Roles) != 1 || aws.ToString(list.Roles[0].Description) != "changed" || aws.ToInt32(list.Roles[0].MaxSessionDuration) != 43200 ||
			decoded(t, list.Roles[0].AssumeRolePolicyDocument) != newTrust {
			t.Errorf("ListRoles = %+v", list.Roles)
		}

		// Policies of a role.
		noErr(t, second(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("describe"), PolicyDocument: aws.String(describeDoc)})))
		rp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("describe")})
		noErr(t, err)
		if decoded(t, rp.PolicyDocument) != describeDoc || aws.ToString(rp.RoleName) != "web" {
			t.Errorf("GetRolePolicy = %+v", rp)
		}
		names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("web")})
		noErr(t, err)
		if !slices.Equal(names.PolicyNames, []string{"describe"}) {
			t.Errorf("ListRolePolicies = %v", names.PolicyNames)
		}
		s3ro := "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
		noErr(t, second(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: aws.String(s3ro)})))
		att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("web")})
		noErr(t, err)
		if len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "AmazonS3ReadOnlyAccess" {
			t.Errorf("ListAttachedRolePolicies = %+v", att.AttachedPolicies)
		}
		ents, err := c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(s3ro), EntityFilter: iamtypes.EntityTypeRole})
		noErr(t, err)
		if len(ents.PolicyRoles) != 1 || aws.ToString(ents.PolicyRoles[0].RoleName) != "web" {
			t.Errorf("ListEntitiesForPolicy(Role) = %+v", ents.PolicyRoles)
		}

		// Instance profiles.
		ip, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")})
		noErr(t, err)
		if aws.ToString(ip.InstanceProfile.Arn) != "arn:aws:iam::"+acct.ID+":instance-profile/web" || !strings.HasPrefix(aws.ToString(ip.InstanceProfile.InstanceProfileId), "AIPA") ||
			len(ip.InstanceProfile.Roles) != 0 {
			t.Errorf("CreateInstanceProfile = %+v", ip.InstanceProfile)
		}
		_, err = c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")})
		wantCode(t, err, "EntityAlreadyExists")
		noErr(t, second(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("other"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc)})))
		noErr(t, second(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})))
		_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("other")})
		wantCode(t, err, "LimitExceeded")
		_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("nope"), RoleName: aws.String("web")})
		wantCode(t, err, "NoSuchEntity")
		gip, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")})
		noErr(t, err)
		if len(gip.InstanceProfile.Roles) != 1 || aws.ToString(gip.InstanceProfile.Roles[0].RoleName) != "web" {
			t.Errorf("GetInstanceProfile roles = %+v", gip.InstanceProfile.Roles)
		}
		forRole, err := c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("web")})
		noErr(t, err)
		if len(forRole.InstanceProfiles) != 1 || aws.ToString(forRole.InstanceProfiles[0].InstanceProfileName) != "web" {
			t.Errorf("ListInstanceProfilesForRole = %+v", forRole.InstanceProfiles)
		}
		all, err := c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
		noErr(t, err)
		if len(all.InstanceProfiles) != 1 || len(all.InstanceProfiles[0].Roles) != 1 {
			t.Errorf("ListInstanceProfiles = %+v", all.InstanceProfiles)
		}

		// Deletion is refused while something is attached, as IAM does.
		_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
		wantCode(t, err, "DeleteConflict")
		_, err = c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")})
		wantCode(t, err, "DeleteConflict")
		noErr(t, second(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})))
		_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})
		wantCode(t, err, "NoSuchEntity")
		noErr(t, second(c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")})))
		_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
		wantCode(t, err, "DeleteConflict") // attached policy
		noErr(t, second(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: aws.String(s3ro)})))
		_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
		wantCode(t, err, "DeleteConflict") // inline policy
		noErr(t, second(c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("describe")})))
		noErr(t, second(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})))
		_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})
		wantCode(t, err, "NoSuchEntity")
	})
}
