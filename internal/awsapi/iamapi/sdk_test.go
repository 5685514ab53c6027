package iamapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/awsapitest"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
)

// fakeIAM answers with fixed data and records the last input it got. The
// embedded nil Service makes any other method fail the test loudly.
type fakeIAM struct {
	iamapi.Service
	last any
}

func created() time.Time { return time.Date(2023, 7, 8, 9, 10, 11, 0, time.UTC) }

func user(name string) iamapi.User {
	return iamapi.User{
		Path: aws.String("/"), UserName: aws.String(name), UserId: aws.String("AIDAEXAMPLE" + strings.ToUpper(name)),
		Arn: aws.String("arn:aws:iam::123456789012:user/" + name), CreateDate: aws.Time(created()),
	}
}

func (f *fakeIAM) CreateUser(_ context.Context, in *iamapi.CreateUserRequest) (*iamapi.CreateUserResponse, error) {
	f.last = in
	u := user(*in.UserName)
	u.Tags = in.Tags
	return &iamapi.CreateUserResponse{User: &u}, nil
}

func (f *fakeIAM) GetUser(_ context.Context, in *iamapi.GetUserRequest) (*iamapi.GetUserResponse, error) {
	f.last = in
	return nil, awsapi.NewError("NoSuchEntity", http.StatusNotFound, "The user with name %s cannot be found.", aws.ToString(in.UserName))
}

func (f *fakeIAM) ListUsers(_ context.Context, in *iamapi.ListUsersRequest) (*iamapi.ListUsersResponse, error) {
	f.last = in
	return &iamapi.ListUsersResponse{Users: []iamapi.User{user("alice"), user("bob")}, IsTruncated: aws.Bool(true), Marker: aws.String("page-2")}, nil
}

func (f *fakeIAM) CreateAccessKey(_ context.Context, in *iamapi.CreateAccessKeyRequest) (*iamapi.CreateAccessKeyResponse, error) {
	f.last = in
	return &iamapi.CreateAccessKeyResponse{AccessKey: &iamapi.AccessKey{
		UserName: in.UserName, AccessKeyId: aws.String("AKIAEXAMPLE"), Status: aws.String("Active"),
		SecretAccessKey: aws.String("s3cr3t/+="), CreateDate: aws.Time(created()),
	}}, nil
}

func (f *fakeIAM) ListAccessKeys(_ context.Context, in *iamapi.ListAccessKeysRequest) (*iamapi.ListAccessKeysResponse, error) {
	f.last = in
	return &iamapi.ListAccessKeysResponse{AccessKeyMetadata: []iamapi.AccessKeyMetadata{}, IsTruncated: aws.Bool(false)}, nil
}

func (f *fakeIAM) DeleteUser(_ context.Context, in *iamapi.DeleteUserRequest) (*iamapi.DeleteUserOutput, error) {
	f.last = in
	return &iamapi.DeleteUserOutput{}, nil
}

func newServer(t *testing.T, f *fakeIAM) (*iam.Client, string) {
	srv := awsapitest.NewServer(t, iamapi.Model(), f)
	return iam.NewFromConfig(awsapitest.Config(srv.URL)), srv.URL
}

func TestSDKCreateUser(t *testing.T) {
	f := &fakeIAM{}
	c, _ := newServer(t, f)
	out, err := c.CreateUser(context.Background(), &iam.CreateUserInput{
		UserName: aws.String("alice"), Path: aws.String("/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("env"), Value: aws.String("")}},
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	wantIn := &iamapi.CreateUserRequest{
		UserName: aws.String("alice"), Path: aws.String("/"),
		Tags: []iamapi.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("env"), Value: aws.String("")}},
	}
	if !reflect.DeepEqual(f.last, wantIn) {
		t.Errorf("server decoded %+v, want %+v", f.last, wantIn)
	}
	u := out.User
	if aws.ToString(u.UserName) != "alice" || !aws.ToTime(u.CreateDate).Equal(created()) ||
		aws.ToString(u.Arn) != "arn:aws:iam::123456789012:user/alice" || len(u.Tags) != 2 || aws.ToString(u.Tags[0].Value) != "blue" {
		t.Errorf("user = %+v", u)
	}
}

func TestSDKListUsersPagination(t *testing.T) {
	f := &fakeIAM{}
	c, _ := newServer(t, f)
	out, err := c.ListUsers(context.Background(), &iam.ListUsersInput{MaxItems: aws.Int32(2), Marker: aws.String("page-1")})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if in := f.last.(*iamapi.ListUsersRequest); aws.ToInt32(in.MaxItems) != 2 || aws.ToString(in.Marker) != "page-1" {
		t.Errorf("server decoded %+v", in)
	}
	if len(out.Users) != 2 || aws.ToString(out.Users[1].UserName) != "bob" || !out.IsTruncated || aws.ToString(out.Marker) != "page-2" {
		t.Errorf("output = %+v", out)
	}
}

func TestSDKAccessKeys(t *testing.T) {
	c, _ := newServer(t, &fakeIAM{})
	ctx := context.Background()
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	if aws.ToString(key.AccessKey.SecretAccessKey) != "s3cr3t/+=" || key.AccessKey.Status != types.StatusTypeActive {
		t.Errorf("access key = %+v", key.AccessKey)
	}
	list, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatalf("ListAccessKeys: %v", err)
	}
	if len(list.AccessKeyMetadata) != 0 || list.IsTruncated {
		t.Errorf("list = %+v", list)
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); err != nil {
		t.Errorf("DeleteUser: %v", err)
	}
}

func TestSDKErrors(t *testing.T) {
	c, _ := newServer(t, &fakeIAM{})
	ctx := context.Background()
	_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	assertAPIError(t, err, "NoSuchEntity", "The user with name nobody cannot be found.")
	_, err = c.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	assertAPIError(t, err, "UnsupportedOperation", "The action ListSAMLProviders is not supported by Kumo yet.")
}

// TestWireErrors sends requests the SDK would refuse to build.
func TestWireErrors(t *testing.T) {
	_, base := newServer(t, &fakeIAM{})
	tests := []struct {
		name, form string
		status     int
		body       string
	}{
		{"unknown action", "Action=CreateUnicorn&Version=2010-05-08", 400,
			"<Type>Sender</Type><Code>InvalidAction</Code><Message>The action CreateUnicorn is not valid for this web service.</Message>"},
		{"missing required", "Action=CreateUser&Version=2010-05-08", 400,
			"<Code>MissingParameter</Code><Message>The request must contain the parameter UserName</Message>"},
		{"unknown parameter", "Action=CreateUser&Version=2010-05-08&UserName=a&Tags.member.1.Colour=x", 400,
			"<Code>UnknownParameter</Code><Message>The parameter Tags.member.1.Colour is not recognized</Message>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form, _ := url.ParseQuery(tt.form)
			resp, err := http.PostForm(base, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.body) ||
				!strings.HasPrefix(string(body), `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">`) {
				t.Errorf("got %d %s, want %d containing %s", resp.StatusCode, body, tt.status, tt.body)
			}
		})
	}
}

func assertAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want an API error", err)
	}
	if apiErr.ErrorCode() != code || apiErr.ErrorMessage() != msg {
		t.Errorf("API error = %s %q, want %s %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), code, msg)
	}
}

func (f *fakeIAM) GetAccountAuthorizationDetails(_ context.Context, in *iamapi.GetAccountAuthorizationDetailsRequest) (*iamapi.GetAccountAuthorizationDetailsResponse, error) {
	f.last = in
	role := iamapi.Role{Path: aws.String("/"), RoleName: aws.String("web"), RoleId: aws.String("AROAEXAMPLE"), Arn: aws.String("arn:aws:iam::123456789012:role/web"),
		CreateDate: aws.Time(created()), AssumeRolePolicyDocument: aws.String("%7B%7D")}
	return &iamapi.GetAccountAuthorizationDetailsResponse{
		RoleDetailList: []iamapi.RoleDetail{{
			RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String("%7B%22Version%22%7D"),
			InstanceProfileList: []iamapi.InstanceProfile{{Path: aws.String("/"), InstanceProfileName: aws.String("web"), InstanceProfileId: aws.String("AIPAEXAMPLE"),
				Arn: aws.String("arn:aws:iam::123456789012:instance-profile/web"), CreateDate: aws.Time(created()), Roles: []iamapi.Role{role}}},
			RolePolicyList:          []iamapi.PolicyDetail{{PolicyName: aws.String("inline"), PolicyDocument: aws.String("%7B%7D")}},
			AttachedManagedPolicies: []iamapi.AttachedPolicy{{PolicyName: aws.String("ReadOnlyAccess"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}},
			PermissionsBoundary:     &iamapi.AttachedPermissionsBoundary{PermissionsBoundaryType: aws.String("PermissionsBoundaryPolicy"), PermissionsBoundaryArn: aws.String("arn:aws:iam::aws:policy/PowerUserAccess")},
			Tags:                    []iamapi.Tag{{Key: aws.String("team"), Value: aws.String("blue")}},
		}},
		UserDetailList:  []iamapi.UserDetail{{UserName: aws.String("alice"), GroupList: []string{"devs", "ops"}}},
		GroupDetailList: []iamapi.GroupDetail{},
		Policies: []iamapi.ManagedPolicyDetail{{PolicyName: aws.String("p"), PolicyVersionList: []iamapi.PolicyVersion{
			{VersionId: aws.String("v2"), IsDefaultVersion: aws.Bool(true), Document: aws.String("%7B%7D"), CreateDate: aws.Time(created())}}}},
		IsTruncated: aws.Bool(false),
	}, nil
}

// TestSDKNestedLists: lists inside structures inside lists (a role's
// instance profiles and their roles, a policy's versions) and filters
// round-trip between Kumo's encoder and the SDK's Query decoder.
func TestSDKNestedLists(t *testing.T) {
	f := &fakeIAM{}
	c, _ := newServer(t, f)
	out, err := c.GetAccountAuthorizationDetails(context.Background(), &iam.GetAccountAuthorizationDetailsInput{
		Filter: []types.EntityType{types.EntityTypeRole, types.EntityTypeUser}})
	if err != nil {
		t.Fatalf("GetAccountAuthorizationDetails: %v", err)
	}
	if in := f.last.(*iamapi.GetAccountAuthorizationDetailsRequest); !reflect.DeepEqual(in.Filter, []string{"Role", "User"}) {
		t.Errorf("server decoded Filter %v", in.Filter)
	}
	r := out.RoleDetailList[0]
	if len(r.InstanceProfileList) != 1 || len(r.InstanceProfileList[0].Roles) != 1 || aws.ToString(r.InstanceProfileList[0].Roles[0].RoleName) != "web" ||
		aws.ToString(r.RolePolicyList[0].PolicyDocument) != "%7B%7D" || aws.ToString(r.AttachedManagedPolicies[0].PolicyName) != "ReadOnlyAccess" ||
		r.PermissionsBoundary.PermissionsBoundaryType != types.PermissionsBoundaryAttachmentTypePolicy || len(r.Tags) != 1 {
		t.Errorf("role detail = %+v", r)
	}
	if got := out.UserDetailList[0].GroupList; !reflect.DeepEqual(got, []string{"devs", "ops"}) {
		t.Errorf("GroupList = %v", got)
	}
	if v := out.Policies[0].PolicyVersionList; len(v) != 1 || !v[0].IsDefaultVersion || aws.ToString(v[0].VersionId) != "v2" {
		t.Errorf("PolicyVersionList = %+v", v)
	}
}
