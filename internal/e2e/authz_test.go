package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/authz"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// storedInstance records a running instance (with tags) in the store: the
// authorization path is the same whether a node runs it or not.
func storedInstance(t *testing.T, srv *controllertest.Server, account, id string, kv ...string) {
	t.Helper()
	storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
		now := time.Now()
		err := tx.InsertInstance(ctx, store.Instance{ID: id, AccountID: account, ReservationID: "r-" + id[2:], InstanceType: "t3.micro",
			State: "running", DesiredPower: "running", StateChangedAt: now, LaunchTime: now, CreatedAt: now})
		if err != nil {
			return err
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if err := tx.PutTag(ctx, store.Tag{AccountID: account, ResourceID: id, ResourceType: "instance", Key: kv[i], Value: kv[i+1]}); err != nil {
				return err
			}
		}
		return nil
	})
}

// unauthorized checks an EC2 denial: UnauthorizedOperation, HTTP 403,
// and an encoded message that decodes to the action and resource.
func unauthorized(t *testing.T, srv *controllertest.Server, err error, action, resource string) {
	t.Helper()
	wantCode(t, err, "UnauthorizedOperation")
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 403 {
		t.Errorf("status %d, want 403", re.HTTPStatusCode())
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return
	}
	const prefix = "You are not authorized to perform this operation. Encoded authorization failure message: "
	msg := ae.ErrorMessage()
	if !strings.HasPrefix(msg, prefix) {
		t.Fatalf("message %q", msg)
	}
	js, err := authz.Decode(srv.Identity.Box, strings.TrimPrefix(msg, prefix))
	noErr(t, err)
	var m authz.Message
	noErr(t, json.Unmarshal([]byte(js), &m))
	if m.Allowed || m.Context.Action != action || (resource != "" && m.Context.Resource != resource) {
		t.Errorf("decoded message %s, want a denial of %s on %s", js, action, resource)
	}
}

// TestAuthorizationNoPolicy: a user without policies can do nothing but
// learn who it is.
func TestAuthorizationNoPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, root := startIAM(t, b)
		ctx := t.Context()
		bob := newUser(t, srv, root, "bob", "")

		id, err := bob.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		noErr(t, err)
		if aws.ToString(id.Arn) != "arn:aws:iam::"+root.ID+":user/bob" {
			t.Errorf("GetCallerIdentity = %s", aws.ToString(id.Arn))
		}
		_, err = bob.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		unauthorized(t, srv, err, "ec2:DescribeVpcs", "*")
		// The account's root decodes the message with STS, as on AWS.
		if denied := (smithy.APIError)(nil); errors.As(err, &denied) {
			enc := strings.TrimPrefix(denied.ErrorMessage(), "You are not authorized to perform this operation. Encoded authorization failure message: ")
			dec, err := root.STS.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(enc)})
			noErr(t, err)
			if !strings.Contains(aws.ToString(dec.DecodedMessage), "ec2:DescribeVpcs") {
				t.Errorf("DecodeAuthorizationMessage = %s", aws.ToString(dec.DecodedMessage))
			}
			_, err = root.STS.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String("bogus")})
			wantCode(t, err, "InvalidAuthorizationMessageException")
		}
		_, err = bob.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
		unauthorized(t, srv, err, "ec2:CreateVpc", "arn:aws:ec2:"+controllertest.Region+":"+root.ID+":vpc/*")

		_, err = bob.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")})
		wantCode(t, err, "AccessDenied")
		want := "User: arn:aws:iam::" + root.ID + ":user/bob is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::" + root.ID +
			":user/carol because no identity-based policy allows the iam:CreateUser action"
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorMessage() != want {
			t.Errorf("AccessDenied message\n%q, want\n%q", ae.ErrorMessage(), want)
		}
		_, err = bob.IAM.GetUser(ctx, &iam.GetUserInput{})
		wantCode(t, err, "AccessDenied")

		// The root user is not governed by policies; an administrator is allowed.
		noErr(t, second(root.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})))
		noErr(t, second(root.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"),
			PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})))
		noErr(t, second(bob.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})))
		noErr(t, second(bob.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")})))
	})
}

// teamPolicy is the team-sharing recipe's group policy (README).
const teamPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},
 {"Effect":"Allow","Action":["ec2:StartInstances","ec2:StopInstances","ec2:RebootInstances"],
  "Resource":"arn:aws:ec2:*:*:instance/*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]}`

// TestAuthorizationTeamSharing: a group policy by tag lets teammates
// operate the team's instances and no others; an explicit deny wins.
func TestAuthorizationTeamSharing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, root := startIAM(t, b)
		ctx := t.Context()
		storedInstance(t, srv, root.ID, "i-00000000000000b1e", "team", "blue")
		storedInstance(t, srv, root.ID, "i-0000000000000000d", "team", "red")
		storedInstance(t, srv, root.ID, "i-00000000000000b2e", "team", "blue")
		noErr(t, second(root.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})))
		noErr(t, second(root.IAM.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"),
			PolicyName: aws.String("blue-instances"), PolicyDocument: aws.String(teamPolicy)})))
		alice := newUser(t, srv, root, "alice", "")
		noErr(t, second(root.IAM.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")})))

		noErr(t, second(alice.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})))
		noErr(t, second(alice.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-00000000000000b1e"}})))
		red := "arn:aws:ec2:" + controllertest.Region + ":" + root.ID + ":instance/i-0000000000000000d"
		_, err := alice.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-0000000000000000d"}})
		unauthorized(t, srv, err, "ec2:StopInstances", red)
		_, err = alice.EC2.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{"i-00000000000000b1e", "i-0000000000000000d"}})
		unauthorized(t, srv, err, "ec2:RebootInstances", red)
		_, err = alice.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-00000000000000b1e"}})
		unauthorized(t, srv, err, "ec2:TerminateInstances", "")

		// ec2:ResourceTag works as aws:ResourceTag does.
		noErr(t, second(root.IAM.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"),
			PolicyName: aws.String("blue-instances"), PolicyDocument: aws.String(strings.ReplaceAll(teamPolicy, "aws:ResourceTag", "ec2:ResourceTag"))})))
		noErr(t, second(alice.EC2.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{"i-00000000000000b2e"}})))

		// An explicit deny beats the group's allow.
		noErr(t, second(root.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("no-reboot"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:RebootInstances","Resource":"*"}]}`)})))
		_, err = alice.EC2.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{"i-00000000000000b2e"}})
		unauthorized(t, srv, err, "ec2:RebootInstances", "")
	})
}

// TestAuthorizationTagOnCreate: tags given at creation need ec2:CreateTags
// with ec2:CreateAction, and the request's tags are aws:RequestTag.
func TestAuthorizationTagOnCreate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, root := startIAM(t, b)
		ctx := t.Context()
		dev := newUser(t, srv, root, "dev", "")
		noErr(t, second(root.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("blue-vpcs"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"ec2:CreateVpc","Resource":"*"},
 {"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:*:*:vpc/*",
  "Condition":{"StringEquals":{"ec2:CreateAction":"CreateVpc","aws:RequestTag/team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}]}`)})))

		noErr(t, second(dev.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16"),
			TagSpecifications: tagSpec(types.ResourceTypeVpc, "team", "blue")})))
		noErr(t, second(dev.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.2.0.0/16")})))
		vpcs := "arn:aws:ec2:" + controllertest.Region + ":" + root.ID + ":vpc/*"
		_, err := dev.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.3.0.0/16"), TagSpecifications: tagSpec(types.ResourceTypeVpc, "team", "red")})
		unauthorized(t, srv, err, "ec2:CreateTags", vpcs)
		_, err = dev.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.4.0.0/16"), TagSpecifications: tagSpec(types.ResourceTypeVpc, "team", "blue", "cost", "x")})
		unauthorized(t, srv, err, "ec2:CreateTags", vpcs)
		// CreateTags on its own is not a creation: ec2:CreateAction is absent.
		out, err := root.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.5.0.0/16")})
		noErr(t, err)
		_, err = dev.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{aws.ToString(out.Vpc.VpcId)}, Tags: tagList("team", "blue")})
		unauthorized(t, srv, err, "ec2:CreateTags", "arn:aws:ec2:"+controllertest.Region+":"+root.ID+":vpc/"+aws.ToString(out.Vpc.VpcId))
	})
}

// TestAuthorizationRoleSession: a role session (as STS issues them) is
// evaluated with its role's policies and its session policy, which only
// narrows them; its session tags are aws:PrincipalTag.
func TestAuthorizationRoleSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, root := startIAM(t, b)
		ctx := t.Context()
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + root.ID + `"},"Action":"sts:AssumeRole"}]}`
		role, err := root.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops"), AssumeRolePolicyDocument: aws.String(trust)})
		noErr(t, err)
		noErr(t, second(root.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ops"), PolicyName: aws.String("ec2"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*",
  "Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}]}`)})))
		storedInstance(t, srv, root.ID, "i-00000000000000b1e", "team", "blue")
		session := identity.Principal{AccountID: root.ID, RoleName: "ops", SessionName: "alice", Temporary: true,
			UserID: aws.ToString(role.Role.RoleId) + ":alice", SessionTags: map[string]string{"team": "blue"}}
		stop := authz.Call{Principal: session, Service: "ec2", Operation: "StopInstances", Params: url.Values{"InstanceId.1": {"i-00000000000000b1e"}}}
		describe := authz.Call{Principal: session, Service: "ec2", Operation: "DescribeInstances", Params: url.Values{}}

		noErr(t, srv.Authorizer.Authorize(ctx, stop))
		narrowed := session
		narrowed.SessionPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`
		stop.Principal, describe.Principal = narrowed, narrowed
		noErr(t, srv.Authorizer.Authorize(ctx, describe))
		var denied *authz.Denied
		if err := srv.Authorizer.Authorize(ctx, stop); !errors.As(err, &denied) {
			t.Fatalf("StopInstances outside the session policy: %v, want a denial", err)
		}
		if want := "arn:aws:sts::" + root.ID + ":assumed-role/ops/alice"; denied.Request.Principal.ARN != want {
			t.Errorf("denied principal %s, want %s", denied.Request.Principal.ARN, want)
		}
		untagged := session
		untagged.SessionTags = nil
		stop.Principal = untagged
		if err := srv.Authorizer.Authorize(ctx, stop); !errors.As(err, &denied) {
			t.Fatalf("StopInstances without the team tag: %v, want a denial", err)
		}
	})
}
