package e2e_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// actions are the EC2 actions the junk requests aim at.
var actions = []string{
	"DescribeVpcs", "CreateVpc", "DeleteVpc", "DescribeSubnets", "CreateSubnet", "DeleteSubnet",
	"DescribeSecurityGroups", "CreateSecurityGroup", "DeleteSecurityGroup", "AuthorizeSecurityGroupIngress",
	"RevokeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "DescribeSecurityGroupRules",
	"DescribeKeyPairs", "CreateKeyPair", "ImportKeyPair", "DeleteKeyPair",
	"CreateTags", "DeleteTags", "DescribeTags", "DescribeRegions", "DescribeAvailabilityZones",
	"DescribeAccountAttributes", "DescribeInstanceTypes", "ModifyVpcAttribute", "DescribeVpcAttribute",
}

// malformed is a list of requests that must each be refused with a 4xx.
func malformed(rng *rand.Rand) []url.Values {
	long := strings.Repeat("x", 100_000)
	hexLong := strings.Repeat("a", 65_536)
	many := func(n int, name string) []string {
		kv := make([]string, 0, 2*n)
		for i := 1; i <= n; i++ {
			kv = append(kv, fmt.Sprintf("Filter.%d.Name", i), name)
		}
		return kv
	}
	reqs := []url.Values{
		ec2Params("DescribeVpcs", "MaxResults", "99999999999999999999"),
		ec2Params("DescribeVpcs", "MaxResults", "-1"),
		ec2Params("DescribeVpcs", "MaxResults", "-2147483649"),
		ec2Params("DescribeVpcs", "MaxResults", "0"),
		ec2Params("DescribeVpcs", "MaxResults", "1e3"),
		ec2Params("DescribeVpcs", "MaxResults", "0x10"),
		ec2Params("DescribeVpcs", "MaxResults", " 5"),
		ec2Params("DescribeVpcs", "MaxResults", ""),
		ec2Params("DescribeSecurityGroups", "MaxResults", "2147483647"),
		ec2Params("DescribeTags", "MaxResults", "-100"),
		ec2Params("DescribeInstanceTypes", "MaxResults", "4"),
		ec2Params("DescribeVpcs", "Filter.99999999.Name", "vpc-id"),
		ec2Params("DescribeVpcs", "Filter.4294967297.Name", "vpc-id"),
		ec2Params("DescribeVpcs", "Filter.0.Name", "vpc-id"),
		ec2Params("DescribeVpcs", "Filter.01.Name", "vpc-id"),
		ec2Params("DescribeVpcs", "Filter.-1.Name", "vpc-id"),
		ec2Params("DescribeVpcs", "Filter.1.Name", "vpc-id", "Filter.1.Value.1001", "x"),
		ec2Params("DescribeVpcs", many(2000, "vpc-id")...),
		ec2Params("DescribeSecurityGroups", many(1000, "no-such-filter")...),
		ec2Params("DescribeTags", many(1000, "")...),
		ec2Params("DescribeVpcs", "Filter", "x"),
		ec2Params("DescribeVpcs", "Filter.1", "x"),
		ec2Params("DescribeVpcs", "MaxResults.1", "5"),
		ec2Params("DescribeVpcs", "VpcId.1", "vpc-\xff\xfe"),
		ec2Params("DescribeVpcs", "VpcId.1", long),
		ec2Params("DescribeVpcs", "Filter.1.Name", "\xff\xfe", "Filter.1.Value.1", "x"),
		ec2Params("DescribeVpcs", "Filter.1.Name", long),
		ec2Params("DescribeVpcs", "MaxResults", "5", "NextToken", "\xff\x00"),
		ec2Params("DescribeVpcs", "MaxResults", "5", "NextToken", long),
		ec2Params("DescribeVpcs", "DryRun", "maybe"),
		ec2Params("DescribeSecurityGroups", "GroupId.1", "sg-\xff"),
		ec2Params("DescribeSecurityGroups", "GroupId.1", "sg-"+hexLong+"z"),
		ec2Params("DescribeKeyPairs", "KeyName.1", "\xff"),
		ec2Params("DescribeKeyPairs", "IncludePublicKey", "2"),
		ec2Params("CreateVpc"),
		ec2Params("CreateVpc", "CidrBlock", "\xff"),
		ec2Params("CreateVpc", "CidrBlock", long),
		ec2Params("CreateVpc", "CidrBlock", "10.0.0.0/8"),
		ec2Params("CreateVpc", "CidrBlock", "10.0.0.0/-1"),
		ec2Params("CreateVpc", "CidrBlock", "10.0.0.0/33"),
		ec2Params("CreateVpc", "CidrBlock", "::/0"),
		ec2Params("CreateVpc", "CidrBlock", "10.0.0.0/16", "InstanceTenancy", "host"),
		ec2Params("CreateVpc", "CidrBlock", "10.0.0.0/16", "TagSpecification.1.ResourceType", "subnet", "TagSpecification.1.Tag.1.Key", "k"),
		ec2Params("CreateVpc", "CidrBlock", "10.0.0.0/16", "TagSpecification.1.ResourceType", "vpc", "TagSpecification.1.Tag.1.Key", long),
		ec2Params("CreateVpc", "CidrBlock", "10.0.0.0/16", "TagSpecification.1.ResourceType", "vpc", "TagSpecification.1.Tag.1.Key", "aws:x"),
		ec2Params("DeleteVpc"),
		ec2Params("DeleteVpc", "VpcId", "vpc-\xff"),
		ec2Params("CreateSubnet", "CidrBlock", "10.0.0.0/24"),
		ec2Params("CreateSubnet", "VpcId", "vpc-0123456789abcdef0", "CidrBlock", long),
		ec2Params("CreateSecurityGroup", "GroupName", long, "GroupDescription", "d"),
		ec2Params("CreateSecurityGroup", "GroupName", "ok", "GroupDescription", long),
		ec2Params("CreateSecurityGroup", "GroupName", "\xff\xfe"),
		ec2Params("CreateSecurityGroup", "GroupName", "sg-\xff", "GroupDescription", "d"),
		ec2Params("CreateSecurityGroup", "GroupName", "", "GroupDescription", "d"),
		ec2Params("AuthorizeSecurityGroupIngress", "GroupName", "default", "IpPermissions.1.IpProtocol", "tcp",
			"IpPermissions.1.FromPort", "-5", "IpPermissions.1.ToPort", "22", "IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8"),
		ec2Params("AuthorizeSecurityGroupIngress", "GroupName", "default", "IpPermissions.1.IpProtocol", "tcp",
			"IpPermissions.1.FromPort", "2147483648", "IpPermissions.1.ToPort", "22", "IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8"),
		ec2Params("AuthorizeSecurityGroupIngress", "GroupName", "default", "IpPermissions.1.IpProtocol", "icmp",
			"IpPermissions.1.FromPort", "300", "IpPermissions.1.ToPort", "0", "IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8"),
		ec2Params("AuthorizeSecurityGroupIngress", "GroupName", "default", "IpPermissions.1.IpProtocol", "999",
			"IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8"),
		ec2Params("AuthorizeSecurityGroupIngress", "GroupName", "default", "IpPermissions.1.IpProtocol", "\xff",
			"IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8"),
		ec2Params("AuthorizeSecurityGroupIngress", "GroupName", "default", "IpPermissions.1.IpProtocol", "tcp",
			"IpPermissions.1.FromPort", "1", "IpPermissions.1.ToPort", "1", "IpPermissions.1.IpRanges.1.CidrIp", "\xff/8"),
		ec2Params("AuthorizeSecurityGroupIngress", "GroupName", "default", "IpPermissions.1.IpProtocol", "tcp",
			"IpPermissions.1.FromPort", "1", "IpPermissions.1.ToPort", "1", "IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8",
			"IpPermissions.1.IpRanges.1.Description", long),
		ec2Params("AuthorizeSecurityGroupIngress", "GroupName", "default", "IpPermissions.1.IpProtocol", "tcp",
			"IpPermissions.1.FromPort", "1", "IpPermissions.1.ToPort", "1"),
		ec2Params("AuthorizeSecurityGroupIngress", "GroupName", "default", "IpPermissions.1.IpRanges", "x"),
		ec2Params("RevokeSecurityGroupIngress", "GroupName", "default", "SecurityGroupRuleId.1", "sgr-\xff"),
		ec2Params("CreateKeyPair", "KeyName", "\xff"),
		ec2Params("CreateKeyPair", "KeyName", long),
		ec2Params("CreateKeyPair", "KeyName", "k", "KeyType", "\xff"),
		ec2Params("ImportKeyPair", "KeyName", "k", "PublicKeyMaterial", "!!!!"),
		ec2Params("ImportKeyPair", "KeyName", "k", "PublicKeyMaterial", "AAAA"),
		ec2Params("ImportKeyPair", "KeyName", "\xff", "PublicKeyMaterial", "c3NoLWVkMjU1MTk="),
		ec2Params("DeleteKeyPair"),
		ec2Params("CreateTags", "ResourceId.1", "vpc-"+hexLong, "Tag.1.Key", "k", "Tag.1.Value", "v"),
		ec2Params("CreateTags", "ResourceId.1", "\xff", "Tag.1.Key", "k", "Tag.1.Value", "v"),
		ec2Params("CreateTags", "ResourceId.1", "i-0123456789abcdef0", "Tag.1.Key", "k"),
		ec2Params("DeleteTags", "ResourceId.1", "vpc-\xff"),
		ec2Params("DescribeRegions", "RegionName.1", "\xff"),
		ec2Params("DescribeAvailabilityZones", "ZoneName.1", long),
		ec2Params("DescribeInstanceTypes", "InstanceType.1", "\xff"),
		ec2Params("DescribeAccountAttributes", "AttributeName.1", "\xff"),
		ec2Params("DescribeVpcAttribute", "VpcId", "vpc-0123456789abcdef0", "Attribute", "\xff"),
		ec2Params("ModifyVpcAttribute", "VpcId", "vpc-0123456789abcdef0"),
		ec2Params(strings.Repeat("a.", 40) + "b"),
		ec2Params("describevpcs"),
		ec2Params("DescribeVpcs\x00"),
		ec2Params(long),
		ec2Params("DescribeVpcs", strings.Repeat("a.", 40)+"b", "1"),
		ec2Params("DescribeVpcs", long, "1"),
	}
	// Random junk: a known action with parameters it does not have.
	for len(reqs) < 200 {
		v := ec2Params(actions[rng.IntN(len(actions))])
		for range 1 + rng.IntN(3) {
			v.Add("Zq"+junk(rng, 1+rng.IntN(20), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"), junk(rng, rng.IntN(200), ""))
		}
		reqs = append(reqs, v)
	}
	return reqs
}

// junk returns n random characters of alphabet, or random bytes when it is empty.
func junk(rng *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		if alphabet == "" {
			b[i] = byte(rng.IntN(256))
		} else {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
	}
	return string(b)
}

// TestMalformedRequests sends ~200 properly signed but malformed requests:
// every answer must be a 4xx in an EC2 error envelope with a request id,
// never a 5xx, and the account must be exactly as it was.
func TestMalformedRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := start(t, b)
		seedEstate(t, acct)
		before := snapshot(t, acct.EC2)
		raw := newRawClient(srv, acct.KeyID, acct.Secret)

		rng := rand.New(rand.NewPCG(1, 2))
		reqs := malformed(rng)
		// One body over the 1 MiB limit.
		reqs = append(reqs, ec2Params("DescribeVpcs", "VpcId.1", strings.Repeat("v", 1<<20)))
		codes := map[string]int{}
		for i, params := range reqs {
			r := raw.call(t, "ec2", params)
			codes[fmt.Sprintf("%d %s", r.Status, r.Code)]++
			if r.Status < 400 || r.Status >= 500 || r.Code == "" || !r.EC2Envelope || r.HeaderID != r.BodyID {
				t.Errorf("request %d (%.200q): HTTP %d %s (%.100s), want a 4xx EC2 error envelope with the header's request id; body %.200q",
					i, params.Encode(), r.Status, r.Code, r.Message, r.Body)
			}
		}
		t.Logf("%d malformed requests answered %v", len(reqs), codes)
		if diff := snapshot(t, acct.EC2).diff(before); diff != "" {
			t.Errorf("malformed requests changed the account:\n%s", diff)
		}
	})
}

// seedEstate gives an account one of everything, for snapshots to compare.
func seedEstate(t *testing.T, acct *controllertest.Account) {
	t.Helper()
	c := acct.EC2
	vpc := createVPC(t, c, "10.60.0.0/16", "Name", "seed")
	createSubnet(t, c, vpc, "10.60.1.0/24", "kumo-1b")
	g := createGroup(t, c, "seed", vpc)
	_, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(g),
		IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
	noErr(t, err)
	_, err = c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("seed"), KeyType: types.KeyTypeEd25519})
	noErr(t, err)
	_, err = c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{vpc, g}, Tags: tagList("seeded", "yes")})
	noErr(t, err)
}

// TestUnstorableStrings sends text that is not valid UTF-8, or that holds
// a NUL, in parameters Kumo stores. Such text cannot be stored in
// PostgreSQL nor returned in XML, so it must be refused with a 4xx on
// every backend, and nothing may be stored.
func TestUnstorableStrings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := start(t, b)
		seedEstate(t, acct)
		def := aws.ToString(defaultVPC(t, acct.EC2).VpcId)
		before := snapshot(t, acct.EC2)
		raw := newRawClient(srv, acct.KeyID, acct.Secret)
		for _, tc := range []struct {
			name    string
			service string
			params  url.Values
		}{
			{"tag key not UTF-8", "ec2", ec2Params("CreateTags", "ResourceId.1", def, "Tag.1.Key", "k\xff", "Tag.1.Value", "v")},
			{"tag value not UTF-8", "ec2", ec2Params("CreateTags", "ResourceId.1", def, "Tag.1.Key", "k", "Tag.1.Value", "\xc3\x28")},
			{"tag value with NUL", "ec2", ec2Params("CreateTags", "ResourceId.1", def, "Tag.1.Key", "k", "Tag.1.Value", "v\x00v")},
			{"tag specification not UTF-8", "ec2", ec2Params("CreateVpc", "CidrBlock", "10.61.0.0/16",
				"TagSpecification.1.ResourceType", "vpc", "TagSpecification.1.Tag.1.Key", "\xc3\x28", "TagSpecification.1.Tag.1.Value", "x")},
			{"group name not UTF-8", "ec2", ec2Params("CreateSecurityGroup", "GroupName", "g\xff", "GroupDescription", "d")},
			{"group description with NUL", "ec2", ec2Params("CreateSecurityGroup", "GroupName", "nul", "GroupDescription", "d\x00")},
			{"rule description not UTF-8", "ec2", ec2Params("AuthorizeSecurityGroupIngress", "GroupName", "default", "IpPermissions.1.IpProtocol", "tcp",
				"IpPermissions.1.FromPort", "1", "IpPermissions.1.ToPort", "2", "IpPermissions.1.IpRanges.1.CidrIp", "1.2.3.4/32",
				"IpPermissions.1.IpRanges.1.Description", "d\xff")},
			{"IAM user tag not UTF-8", "iam", queryParams("CreateUser", "2010-05-08", "UserName", "tagged",
				"Tags.member.1.Key", "k", "Tags.member.1.Value", "\xff")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := raw.call(t, tc.service, tc.params)
				if r.Status < 400 || r.Status >= 500 || r.Code == "" {
					t.Errorf("HTTP %d %s (%s), want a 4xx such as InvalidParameterValue", r.Status, r.Code, r.Message)
				}
				wantRequestID(t, r)
			})
		}
		if diff := snapshot(t, acct.EC2).diff(before); diff != "" {
			t.Errorf("refused requests changed the account:\n%s", diff)
		}
		_, err := acct.IAM.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("tagged")})
		wantCode(t, err, "NoSuchEntity")
	})
}
