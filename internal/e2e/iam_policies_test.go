package e2e_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

const (
	startStopDoc = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances"], "Resource": "*"}]}`
	describeDoc  = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`
)

// decoded undoes IAM's URL encoding of a returned policy document.
func decoded(t testing.TB, doc *string) string {
	t.Helper()
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		t.Fatalf("document %q is not URL-encoded: %v", aws.ToString(doc), err)
	}
	return s
}

func policyARNs(list []iamtypes.Policy) []string {
	var out []string
	for _, p := range list {
		out = append(out, aws.ToString(p.Arn))
	}
	return out
}

// TestIAMManagedPolicies covers customer managed policies, their versions,
// AWS managed policies and attachments to users and groups.
func TestIAMManagedPolicies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := startIAM(t, b)
		c := acct.IAM
		ctx := t.Context()

		created, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("start-stop"), PolicyDocument: aws.String(startStopDoc),
			Description: aws.String("start and stop"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
		noErr(t, err)
		pol := created.Policy
		arn := "arn:aws:iam::" + acct.ID + ":policy/start-stop"
		if aws.ToString(pol.Arn) != arn || aws.ToString(pol.DefaultVersionId) != "v1" || !strings.HasPrefix(aws.ToString(pol.PolicyId), "ANPA") ||
			aws.ToInt32(pol.AttachmentCount) != 0 || !pol.IsAttachable || len(pol.Tags) != 1 {
			t.Errorf("CreatePolicy = %+v", pol)
		}
		_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("START-STOP"), PolicyDocument: aws.String(startStopDoc)})
		wantCode(t, err, "EntityAlreadyExists")
		for _, bad := range []string{`not json`, `{"Statement": []}`, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]}`} {
			_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String(bad)})
			wantCode(t, err, "MalformedPolicyDocument")
		}
		huge := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:` + strings.Repeat("x", 6200) + `","Resource":"*"}]}`
		_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("huge"), PolicyDocument: aws.String(huge)})
		wantCode(t, err, "LimitExceeded")

		got, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		noErr(t, err)
		if aws.ToString(got.Policy.Description) != "start and stop" || aws.ToString(got.Policy.PolicyId) != aws.ToString(pol.PolicyId) {
			t.Errorf("GetPolicy = %+v", got.Policy)
		}
		_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::" + acct.ID + ":policy/none")})
		wantCode(t, err, "NoSuchEntity")
		_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("not-an-arn")})
		wantCode(t, err, "InvalidInput")
		admin, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
		noErr(t, err)
		if aws.ToString(admin.Policy.PolicyName) != "AdministratorAccess" || aws.ToString(admin.Policy.DefaultVersionId) != "v1" {
			t.Errorf("GetPolicy(AdministratorAccess) = %+v", admin.Policy)
		}
		adminDoc, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"), VersionId: aws.String("v1")})
		noErr(t, err)
		if d := decoded(t, adminDoc.PolicyVersion.Document); !strings.Contains(d, `"Action": "*"`) {
			t.Errorf("AdministratorAccess document = %s", d)
		}

		// Versions: at most five; the default cannot be deleted.
		for i := 2; i <= 5; i++ {
			v, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(describeDoc), SetAsDefault: i == 3})
			noErr(t, err)
			if want := "v" + string(rune('0'+i)); aws.ToString(v.PolicyVersion.VersionId) != want || v.PolicyVersion.IsDefaultVersion != (i == 3) {
				t.Errorf("CreatePolicyVersion = %+v, want %s", v.PolicyVersion, want)
			}
		}
		_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(describeDoc)})
		wantCode(t, err, "LimitExceeded")
		versions, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
		noErr(t, err)
		var ids []string
		for _, v := range versions.Versions {
			ids = append(ids, aws.ToString(v.VersionId))
			if v.IsDefaultVersion != (aws.ToString(v.VersionId) == "v3") {
				t.Errorf("version %s default = %v", aws.ToString(v.VersionId), v.IsDefaultVersion)
			}
		}
		if !slices.Equal(ids, []string{"v5", "v4", "v3", "v2", "v1"}) {
			t.Errorf("ListPolicyVersions = %v", ids)
		}
		v1, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})
		noErr(t, err)
		if raw := aws.ToString(v1.PolicyVersion.Document); strings.ContainsAny(raw, `{" `) || decoded(t, v1.PolicyVersion.Document) != startStopDoc {
			t.Errorf("GetPolicyVersion v1 document = %s", raw)
		}
		_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
		wantCode(t, err, "NoSuchEntity")
		_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
		wantCode(t, err, "DeleteConflict")
		_, err = c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})
		noErr(t, err)
		for _, v := range []string{"v2", "v3", "v4", "v5"} {
			_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(v)})
			noErr(t, err)
		}
		v6, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(describeDoc)})
		noErr(t, err)
		if aws.ToString(v6.PolicyVersion.VersionId) != "v6" {
			t.Errorf("version after deletes = %s, want v6 (numbers are not reused)", aws.ToString(v6.PolicyVersion.VersionId))
		}

		// Attachments.
		_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
		noErr(t, err)
		_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
		noErr(t, err)
		readOnly := "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
		noErr(t, second(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(arn)})))
		noErr(t, second(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(readOnly)})))
		noErr(t, second(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(arn)})))
		_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuch")})
		wantCode(t, err, "NoSuchEntity")
		_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::123456789012:policy/other-account")})
		wantCode(t, err, "NoSuchEntity")

		att, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("alice")})
		noErr(t, err)
		if len(att.AttachedPolicies) != 2 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "start-stop" && aws.ToString(att.AttachedPolicies[1].PolicyName) != "start-stop" {
			t.Errorf("ListAttachedUserPolicies = %+v", att.AttachedPolicies)
		}
		gatt, err := c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("devs")})
		noErr(t, err)
		if len(gatt.AttachedPolicies) != 1 || aws.ToString(gatt.AttachedPolicies[0].PolicyArn) != arn {
			t.Errorf("ListAttachedGroupPolicies = %+v", gatt.AttachedPolicies)
		}
		ents, err := c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)})
		noErr(t, err)
		if len(ents.PolicyUsers) != 1 || aws.ToString(ents.PolicyUsers[0].UserName) != "alice" || len(ents.PolicyGroups) != 1 || len(ents.PolicyRoles) != 0 {
			t.Errorf("ListEntitiesForPolicy = %+v", ents)
		}
		got, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		noErr(t, err)
		if aws.ToInt32(got.Policy.AttachmentCount) != 2 {
			t.Errorf("AttachmentCount = %d, want 2", aws.ToInt32(got.Policy.AttachmentCount))
		}

		local, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
		noErr(t, err)
		if got := policyARNs(local.Policies); !slices.Equal(got, []string{arn}) {
			t.Errorf("ListPolicies(Local) = %v", got)
		}
		awsOnes, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAws})
		noErr(t, err)
		if len(awsOnes.Policies) != 8 || !slices.Contains(policyARNs(awsOnes.Policies), "arn:aws:iam::aws:policy/IAMFullAccess") {
			t.Errorf("ListPolicies(AWS) = %v", policyARNs(awsOnes.Policies))
		}
		attachedOnly, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{OnlyAttached: true})
		noErr(t, err)
		if got := policyARNs(attachedOnly.Policies); !slices.Equal(sorted(got...), sorted(arn, readOnly)) {
			t.Errorf("ListPolicies(OnlyAttached) = %v", got)
		}

		// Nothing attached goes away unnoticed.
		_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
		wantCode(t, err, "DeleteConflict")
		_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
		wantCode(t, err, "DeleteConflict")
		_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})
		wantCode(t, err, "DeleteConflict")
		noErr(t, second(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(arn)})))
		noErr(t, second(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(readOnly)})))
		_, err = c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(arn)})
		wantCode(t, err, "NoSuchEntity")
		noErr(t, second(c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(arn)})))
		_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
		wantCode(t, err, "DeleteConflict") // v1 and v6 remain
		noErr(t, second(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v6")})))
		noErr(t, second(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})))
		_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		wantCode(t, err, "NoSuchEntity")
		noErr(t, second(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})))
		noErr(t, second(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})))
	})
}

// second keeps the error of a call whose output does not matter.
func second[T any](_ T, err error) error { return err }
