package awsapi_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
)

// fuzzEC2 implements the EC2 operations the fuzz target calls.
type fuzzEC2 struct{ ec2api.Service }

func (fuzzEC2) DescribeSecurityGroups(context.Context, *ec2api.DescribeSecurityGroupsRequest) (*ec2api.DescribeSecurityGroupsResult, error) {
	return &ec2api.DescribeSecurityGroupsResult{SecurityGroups: []ec2api.SecurityGroup{{IpPermissions: []ec2api.IpPermission{}}}}, nil
}

func (fuzzEC2) AuthorizeSecurityGroupIngress(context.Context, *ec2api.AuthorizeSecurityGroupIngressRequest) (*ec2api.AuthorizeSecurityGroupIngressResult, error) {
	return &ec2api.AuthorizeSecurityGroupIngressResult{}, nil
}

func (fuzzEC2) ImportKeyPair(_ context.Context, in *ec2api.ImportKeyPairRequest) (*ec2api.ImportKeyPairResult, error) {
	return &ec2api.ImportKeyPairResult{KeyName: in.KeyName}, nil
}

func (fuzzEC2) ModifyVpcAttribute(context.Context, *ec2api.ModifyVpcAttributeRequest) (*ec2api.ModifyVpcAttributeOutput, error) {
	return nil, nil
}

// fuzzIAM implements the IAM operations the fuzz target calls.
type fuzzIAM struct{ iamapi.Service }

func (fuzzIAM) CreateUser(_ context.Context, in *iamapi.CreateUserRequest) (*iamapi.CreateUserResponse, error) {
	return &iamapi.CreateUserResponse{User: &iamapi.User{UserName: in.UserName, Tags: in.Tags}}, nil
}

func (fuzzIAM) ListUsers(context.Context, *iamapi.ListUsersRequest) (*iamapi.ListUsersResponse, error) {
	return &iamapi.ListUsersResponse{Users: []iamapi.User{}}, nil
}

type fuzzCase struct {
	model  *awsapi.ServiceModel
	svc    any
	action string // "" keeps the fuzzed Action, and authorization then refuses every call
}

func fuzzCases() []fuzzCase {
	ec2, iam := ec2api.Model(), iamapi.Model()
	return []fuzzCase{
		{ec2, fuzzEC2{}, "DescribeSecurityGroups"},
		{ec2, fuzzEC2{}, "AuthorizeSecurityGroupIngress"},
		{ec2, fuzzEC2{}, "ImportKeyPair"},
		{ec2, fuzzEC2{}, "ModifyVpcAttribute"},
		{iam, fuzzIAM{}, "CreateUser"},
		{iam, fuzzIAM{}, "ListUsers"},
		{ec2, fuzzEC2{}, ""},
		{iam, fuzzIAM{}, ""},
	}
}

// FuzzDecode feeds arbitrary query strings through Invoke: it must never
// panic, every error must be a client error, and every body well-formed XML.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"Filter.1.Name=tag:team&Filter.1.Value.1=blue&GroupId.1=sg-1&MaxResults=5",
		"GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0/8",
		"KeyName=k&PublicKeyMaterial=c3NoLXJzYQ==&TagSpecification.1.ResourceType=key-pair&TagSpecification.1.Tag.1.Key=k",
		"VpcId=vpc-1&EnableDnsHostnames.Value=true&DryRun=true",
		"UserName=alice&Tags.member.1.Key=team&Tags.member.1.Value=blue",
		"MaxItems=abc&Marker=m&Foo=1",
		"Filter.999999999.Name=x&Filter.01.Value.1=y&Filter=",
		"Action=CreateVpc&CidrBlock=10.0.0.0/16&TagSpecification.1.Tag.1.Key=a.b",
		"Action=DescribeInstances",
		"Action=%00&a..b=1&.=&=x",
	} {
		for i := range fuzzCases() {
			f.Add(uint8(i), seed)
		}
	}
	cases := fuzzCases()
	iv := awsapi.Invoker{}
	deny := awsapi.Invoker{Authorize: func(context.Context, string, any) error {
		return awsapi.NewError("AccessDenied", http.StatusForbidden, "denied")
	}}
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		c := cases[int(which)%len(cases)]
		params, _ := url.ParseQuery(query) // keeps what parsed
		invoker := deny
		if c.action != "" {
			params.Set("Action", c.action)
			invoker = iv
		}
		body, err := invoker.Invoke(context.Background(), c.model, c.svc, params, "rid")
		if err != nil {
			var e *awsapi.Error
			if !errors.As(err, &e) || e.Status() < 400 || e.Status() > 499 {
				t.Fatalf("Invoke(%q) error %v is not a client *awsapi.Error", query, err)
			}
			_, body = awsapi.EncodeError(c.model.Protocol, c.model.XMLNamespace, "rid", err)
		}
		if err := checkXML(body); err != nil {
			t.Fatalf("Invoke(%q) wrote malformed XML: %v\n%s", query, err, body)
		}
	})
}

func checkXML(body []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		if _, err := dec.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}
