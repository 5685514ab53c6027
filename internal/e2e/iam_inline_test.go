package e2e_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestIAMInlinePolicies covers inline policies of users and groups.
func TestIAMInlinePolicies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := startIAM(t, b)
		c := acct.IAM
		ctx := t.Context()
		noErr(t, second(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})))
		noErr(t, second(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})))

		noErr(t, second(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("start-stop"), PolicyDocument: aws.String(startStopDoc)})))
		noErr(t, second(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("describe"), PolicyDocument: aws.String(startStopDoc)})))
		// Putting again replaces the document.
		noErr(t, second(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("describe"), PolicyDocument: aws.String(describeDoc)})))
		got, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("ALICE"), PolicyName: aws.String("describe")})
		noErr(t, err)
		if aws.ToString(got.UserName) != "alice" || decoded(t, got.PolicyDocument) != describeDoc || strings.Contains(aws.ToString(got.PolicyDocument), "{") {
			t.Errorf("GetUserPolicy = %s %s", aws.ToString(got.UserName), aws.ToString(got.PolicyDocument))
		}
		list, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("alice")})
		noErr(t, err)
		if !slices.Equal(list.PolicyNames, []string{"describe", "start-stop"}) {
			t.Errorf("ListUserPolicies = %v", list.PolicyNames)
		}
		_, err = c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("none")})
		wantCode(t, err, "NoSuchEntity")
		_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("nobody"), PolicyName: aws.String("p"), PolicyDocument: aws.String(describeDoc)})
		wantCode(t, err, "NoSuchEntity")
		_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17"}`)})
		wantCode(t, err, "MalformedPolicyDocument")
		// A user's inline policies total at most 2,048 non-space characters.
		big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:` + strings.Repeat("x", 1900) + `","Resource":"*"}]}`
		_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
		wantCode(t, err, "LimitExceeded")
		noErr(t, second(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})))

		gp, err := c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("big")})
		noErr(t, err)
		if aws.ToString(gp.GroupName) != "devs" || decoded(t, gp.PolicyDocument) != big {
			t.Errorf("GetGroupPolicy = %s", aws.ToString(gp.GroupName))
		}
		gl, err := c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("devs")})
		noErr(t, err)
		if !slices.Equal(gl.PolicyNames, []string{"big"}) {
			t.Errorf("ListGroupPolicies = %v", gl.PolicyNames)
		}

		_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
		wantCode(t, err, "DeleteConflict")
		_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})
		wantCode(t, err, "DeleteConflict")
		for _, name := range []string{"describe", "start-stop"} {
			noErr(t, second(c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String(name)})))
		}
		_, err = c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("describe")})
		wantCode(t, err, "NoSuchEntity")
		noErr(t, second(c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("big")})))
		noErr(t, second(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})))
		noErr(t, second(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})))
	})
}
