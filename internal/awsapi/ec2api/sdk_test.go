package ec2api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/awsapitest"
	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
)

// fakeEC2 answers with fixed data and records the last input it got. The
// embedded nil Service makes any other method fail the test loudly.
type fakeEC2 struct {
	ec2api.Service
	last any
}

func created() time.Time { return time.Date(2024, 2, 3, 4, 5, 6, 789e6, time.UTC) }

func (f *fakeEC2) DescribeSecurityGroups(_ context.Context, in *ec2api.DescribeSecurityGroupsRequest) (*ec2api.DescribeSecurityGroupsResult, error) {
	f.last = in
	return &ec2api.DescribeSecurityGroupsResult{SecurityGroups: []ec2api.SecurityGroup{{
		GroupId: aws.String("sg-0123456789abcdef0"), GroupName: aws.String("web"), Description: aws.String("web & <api>"),
		OwnerId: aws.String("123456789012"), VpcId: aws.String("vpc-1"),
		IpPermissions: []ec2api.IpPermission{{
			IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges:         []ec2api.IpRange{{CidrIp: aws.String("10.0.0.0/8"), Description: aws.String("ssh")}},
			UserIdGroupPairs: []ec2api.UserIdGroupPair{{GroupId: aws.String("sg-2"), UserId: aws.String("123456789012")}},
		}},
		IpPermissionsEgress: []ec2api.IpPermission{},
		Tags:                []ec2api.Tag{{Key: aws.String("team"), Value: aws.String("blue")}},
	}}, NextToken: aws.String("next")}, nil
}

func (f *fakeEC2) AuthorizeSecurityGroupIngress(_ context.Context, in *ec2api.AuthorizeSecurityGroupIngressRequest) (*ec2api.AuthorizeSecurityGroupIngressResult, error) {
	f.last = in
	if in.GroupId != nil && *in.GroupId == "sg-missing" {
		return nil, awsapi.NewError("InvalidGroup.NotFound", http.StatusBadRequest, "The security group '%s' does not exist", *in.GroupId)
	}
	return &ec2api.AuthorizeSecurityGroupIngressResult{Return: aws.Bool(true), SecurityGroupRules: []ec2api.SecurityGroupRule{{
		SecurityGroupRuleId: aws.String("sgr-1"), IsEgress: aws.Bool(false), IpProtocol: aws.String("tcp"),
		FromPort: aws.Int32(443), ToPort: aws.Int32(443), CidrIpv4: aws.String("0.0.0.0/0"),
	}}}, nil
}

func (f *fakeEC2) ImportKeyPair(_ context.Context, in *ec2api.ImportKeyPairRequest) (*ec2api.ImportKeyPairResult, error) {
	f.last = in
	return &ec2api.ImportKeyPairResult{KeyName: in.KeyName, KeyPairId: aws.String("key-1"), KeyFingerprint: aws.String("ab:cd")}, nil
}

func (f *fakeEC2) DescribeKeyPairs(_ context.Context, in *ec2api.DescribeKeyPairsRequest) (*ec2api.DescribeKeyPairsResult, error) {
	f.last = in
	return &ec2api.DescribeKeyPairsResult{KeyPairs: []ec2api.KeyPairInfo{{
		KeyName: aws.String("k"), KeyType: aws.String("ed25519"), CreateTime: aws.Time(created()),
		Tags: []ec2api.Tag{{Key: aws.String("a"), Value: aws.String("")}},
	}}}, nil
}

func (f *fakeEC2) DescribeVpcAttribute(_ context.Context, in *ec2api.DescribeVpcAttributeRequest) (*ec2api.DescribeVpcAttributeResult, error) {
	f.last = in
	return &ec2api.DescribeVpcAttributeResult{VpcId: in.VpcId, EnableDnsHostnames: &ec2api.AttributeBooleanValue{Value: aws.Bool(true)}}, nil
}

func (f *fakeEC2) ModifyVpcAttribute(_ context.Context, in *ec2api.ModifyVpcAttributeRequest) (*ec2api.ModifyVpcAttributeOutput, error) {
	f.last = in
	return nil, nil
}

func (f *fakeEC2) CreateTags(_ context.Context, in *ec2api.CreateTagsRequest) (*ec2api.CreateTagsOutput, error) {
	f.last = in
	return &ec2api.CreateTagsOutput{}, nil
}

func (f *fakeEC2) DeleteVpc(_ context.Context, in *ec2api.DeleteVpcRequest) (*ec2api.DeleteVpcOutput, error) {
	f.last = in
	return &ec2api.DeleteVpcOutput{}, nil
}

func (f *fakeEC2) DescribeRegions(_ context.Context, in *ec2api.DescribeRegionsRequest) (*ec2api.DescribeRegionsResult, error) {
	f.last = in
	return &ec2api.DescribeRegionsResult{Regions: []ec2api.Region{{RegionName: aws.String("kumo-1"), Endpoint: aws.String("ec2.kumo-1.example")}}}, nil
}

func newClient(t *testing.T, f *fakeEC2, optFns ...func(*ec2.Options)) *ec2.Client {
	srv := awsapitest.NewServer(t, ec2api.Model(), f)
	return ec2.NewFromConfig(awsapitest.Config(srv.URL), optFns...)
}

func TestSDKDescribeSecurityGroups(t *testing.T) {
	f := &fakeEC2{}
	out, err := newClient(t, f).DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{
		Filters:    []types.Filter{{Name: aws.String("tag:team"), Values: []string{"blue", "red"}}, {Name: aws.String("vpc-id"), Values: []string{"vpc-1"}}},
		GroupIds:   []string{"sg-1", "sg-2"},
		MaxResults: aws.Int32(50),
	})
	if err != nil {
		t.Fatalf("DescribeSecurityGroups: %v", err)
	}
	wantIn := &ec2api.DescribeSecurityGroupsRequest{
		Filters: []ec2api.Filter{
			{Name: aws.String("tag:team"), Values: []string{"blue", "red"}},
			{Name: aws.String("vpc-id"), Values: []string{"vpc-1"}},
		},
		GroupIds:   []string{"sg-1", "sg-2"},
		MaxResults: aws.Int32(50),
	}
	if !reflect.DeepEqual(f.last, wantIn) {
		t.Errorf("server decoded %+v, want %+v", f.last, wantIn)
	}
	if aws.ToString(out.NextToken) != "next" || len(out.SecurityGroups) != 1 {
		t.Fatalf("output = %+v", out)
	}
	sg := out.SecurityGroups[0]
	if aws.ToString(sg.GroupId) != "sg-0123456789abcdef0" || aws.ToString(sg.Description) != "web & <api>" || aws.ToString(sg.VpcId) != "vpc-1" {
		t.Errorf("group = %+v", sg)
	}
	if len(sg.IpPermissions) != 1 || aws.ToInt32(sg.IpPermissions[0].FromPort) != 22 ||
		aws.ToString(sg.IpPermissions[0].IpRanges[0].CidrIp) != "10.0.0.0/8" ||
		aws.ToString(sg.IpPermissions[0].UserIdGroupPairs[0].GroupId) != "sg-2" {
		t.Errorf("ingress = %+v", sg.IpPermissions)
	}
	if len(sg.IpPermissionsEgress) != 0 {
		t.Errorf("egress = %+v, want none", sg.IpPermissionsEgress)
	}
	if len(sg.Tags) != 1 || aws.ToString(sg.Tags[0].Key) != "team" || aws.ToString(sg.Tags[0].Value) != "blue" {
		t.Errorf("tags = %+v", sg.Tags)
	}
}

func TestSDKAuthorizeSecurityGroupIngress(t *testing.T) {
	f := &fakeEC2{}
	out, err := newClient(t, f).AuthorizeSecurityGroupIngress(context.Background(), &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String("sg-1"),
		IpPermissions: []types.IpPermission{{
			IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			IpRanges:         []types.IpRange{{CidrIp: aws.String("0.0.0.0/0"), Description: aws.String("https")}},
			Ipv6Ranges:       []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}},
			UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String("sg-9")}},
		}},
		TagSpecifications: []types.TagSpecification{{
			ResourceType: types.ResourceTypeSecurityGroupRule,
			Tags:         []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
		}},
	})
	if err != nil {
		t.Fatalf("AuthorizeSecurityGroupIngress: %v", err)
	}
	wantIn := &ec2api.AuthorizeSecurityGroupIngressRequest{
		GroupId: aws.String("sg-1"),
		IpPermissions: []ec2api.IpPermission{{
			IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			IpRanges:         []ec2api.IpRange{{CidrIp: aws.String("0.0.0.0/0"), Description: aws.String("https")}},
			Ipv6Ranges:       []ec2api.Ipv6Range{{CidrIpv6: aws.String("::/0")}},
			UserIdGroupPairs: []ec2api.UserIdGroupPair{{GroupId: aws.String("sg-9")}},
		}},
		TagSpecifications: []ec2api.TagSpecification{{
			ResourceType: aws.String("security-group-rule"),
			Tags:         []ec2api.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
		}},
	}
	if !reflect.DeepEqual(f.last, wantIn) {
		t.Errorf("server decoded %+v, want %+v", f.last, wantIn)
	}
	if !aws.ToBool(out.Return) || len(out.SecurityGroupRules) != 1 ||
		aws.ToString(out.SecurityGroupRules[0].CidrIpv4) != "0.0.0.0/0" || aws.ToBool(out.SecurityGroupRules[0].IsEgress) {
		t.Errorf("output = %+v", out)
	}
}

func TestSDKImportKeyPairBlob(t *testing.T) {
	f := &fakeEC2{}
	material := []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG+/= kumo@test\n")
	out, err := newClient(t, f).ImportKeyPair(context.Background(), &ec2.ImportKeyPairInput{
		KeyName: aws.String("k"), PublicKeyMaterial: material,
	})
	if err != nil {
		t.Fatalf("ImportKeyPair: %v", err)
	}
	in := f.last.(*ec2api.ImportKeyPairRequest)
	if !bytes.Equal(in.PublicKeyMaterial, material) || aws.ToString(in.KeyName) != "k" {
		t.Errorf("server decoded %q / %v", in.PublicKeyMaterial, aws.ToString(in.KeyName))
	}
	if aws.ToString(out.KeyPairId) != "key-1" || aws.ToString(out.KeyFingerprint) != "ab:cd" {
		t.Errorf("output = %+v", out)
	}
}

func TestSDKTimestampsAndBooleans(t *testing.T) {
	c := newClient(t, &fakeEC2{})
	keys, err := c.DescribeKeyPairs(context.Background(), &ec2.DescribeKeyPairsInput{})
	if err != nil {
		t.Fatalf("DescribeKeyPairs: %v", err)
	}
	k := keys.KeyPairs[0]
	if !aws.ToTime(k.CreateTime).Equal(created()) || k.KeyType != types.KeyTypeEd25519 || aws.ToString(k.Tags[0].Value) != "" {
		t.Errorf("key pair = %+v", k)
	}
	attr, err := c.DescribeVpcAttribute(context.Background(), &ec2.DescribeVpcAttributeInput{
		VpcId: aws.String("vpc-1"), Attribute: types.VpcAttributeNameEnableDnsHostnames,
	})
	if err != nil {
		t.Fatalf("DescribeVpcAttribute: %v", err)
	}
	if aws.ToString(attr.VpcId) != "vpc-1" || !aws.ToBool(attr.EnableDnsHostnames.Value) || attr.EnableDnsSupport != nil {
		t.Errorf("attribute = %+v", attr)
	}
}

func TestSDKOperationWithoutOutput(t *testing.T) {
	f := &fakeEC2{}
	if _, err := newClient(t, f).DeleteVpc(context.Background(), &ec2.DeleteVpcInput{VpcId: aws.String("vpc-1")}); err != nil {
		t.Fatalf("DeleteVpc: %v", err)
	}
	if in := f.last.(*ec2api.DeleteVpcRequest); aws.ToString(in.VpcId) != "vpc-1" {
		t.Errorf("server decoded %+v", in)
	}
}

func TestSDKNestedStructureAndResourceLists(t *testing.T) {
	f := &fakeEC2{}
	c := newClient(t, f)
	ctx := context.Background()
	if _, err := c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{
		VpcId: aws.String("vpc-1"), EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(false)},
	}); err != nil {
		t.Fatalf("ModifyVpcAttribute: %v", err)
	}
	wantModify := &ec2api.ModifyVpcAttributeRequest{VpcId: aws.String("vpc-1"), EnableDnsHostnames: &ec2api.AttributeBooleanValue{Value: aws.Bool(false)}}
	if !reflect.DeepEqual(f.last, wantModify) {
		t.Errorf("server decoded %+v, want %+v", f.last, wantModify)
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: []string{"vpc-1", "sg-1"},
		Tags:      []types.Tag{{Key: aws.String("Name"), Value: aws.String("main")}},
	}); err != nil {
		t.Fatalf("CreateTags: %v", err)
	}
	wantTags := &ec2api.CreateTagsRequest{Resources: []string{"vpc-1", "sg-1"}, Tags: []ec2api.Tag{{Key: aws.String("Name"), Value: aws.String("main")}}}
	if !reflect.DeepEqual(f.last, wantTags) {
		t.Errorf("server decoded %+v, want %+v", f.last, wantTags)
	}
}

func TestSDKErrors(t *testing.T) {
	c := newClient(t, &fakeEC2{})
	ctx := context.Background()
	tests := []struct {
		name, code, msg string
		call            func() error
	}{
		{"handler error", "InvalidGroup.NotFound", "The security group 'sg-missing' does not exist", func() error {
			_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-missing")})
			return err
		}},
		{"dry run", "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", func() error {
			_, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{DryRun: aws.Bool(true)})
			return err
		}},
		{"unimplemented", "UnsupportedOperation", "The action DescribeSpotPriceHistory is not supported by Kumo yet.", func() error {
			_, err := c.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertAPIError(t, tt.call(), tt.code, tt.msg)
		})
	}
}

// TestSDKUnknownAction renames the action on the wire, since the SDK only
// sends actions that exist.
func TestSDKUnknownAction(t *testing.T) {
	c := newClient(t, &fakeEC2{}, func(o *ec2.Options) {
		o.HTTPClient = renameAction{from: "Action=DescribeRegions", to: "Action=DescribeUnicorns"}
	})
	_, err := c.DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{})
	assertAPIError(t, err, "InvalidAction", "The action DescribeUnicorns is not valid for this web service.")
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

// renameAction rewrites the form body of requests before sending them.
type renameAction struct{ from, to string }

func (r renameAction) Do(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	patched := strings.Replace(string(body), r.from, r.to, 1)
	req.Body = io.NopCloser(strings.NewReader(patched))
	req.ContentLength = int64(len(patched))
	return http.DefaultClient.Do(req)
}
