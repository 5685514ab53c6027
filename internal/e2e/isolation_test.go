package e2e_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// estate is everything account A owns that B will try to reach.
type estate struct {
	vpc, subnet, group, rule, keyName, keyID string
}

// TestIsolation checks that one account can neither see nor touch another's
// resources: every id of A's is NotFound for B in every action, B's lists
// never show A's, and B's attempts leave A's resources as they were.
func TestIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, a := start(t, b)
		bb := srv.NewAccount(t, "team-b")
		ca, cb := a.EC2, bb.EC2

		var e estate
		e.vpc = createVPC(t, ca, "10.50.0.0/16", "owner", "a")
		e.subnet = createSubnet(t, ca, e.vpc, "10.50.1.0/24", "kumo-1a")
		e.group = createGroup(t, ca, "a-only", e.vpc)
		out, err := ca.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(e.group),
			IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
		noErr(t, err)
		e.rule = aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId)
		key, err := ca.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("a-key"), KeyType: types.KeyTypeEd25519})
		noErr(t, err)
		e.keyName, e.keyID = "a-key", aws.ToString(key.KeyPairId)
		_, err = ca.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{e.vpc, e.subnet, e.group, e.rule, e.keyID}, Tags: tagList("owner", "a")})
		noErr(t, err)
		before := snapshot(t, ca)

		bGroup := createGroup(t, cb, "b-group", "")

		t.Run("B cannot name A's resources", func(t *testing.T) {
			ctx := t.Context()
			for _, tc := range []struct {
				name string
				call func() error
				code string
			}{
				{"DescribeVpcs", func() error {
					_, err := cb.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{e.vpc}})
					return err
				}, "InvalidVpcID.NotFound"},
				{"DescribeVpcAttribute", func() error {
					_, err := cb.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: aws.String(e.vpc), Attribute: types.VpcAttributeNameEnableDnsSupport})
					return err
				}, "InvalidVpcID.NotFound"},
				{"ModifyVpcAttribute", func() error {
					_, err := cb.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(e.vpc), EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
					return err
				}, "InvalidVpcID.NotFound"},
				{"DeleteVpc", func() error {
					_, err := cb.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(e.vpc)})
					return err
				}, "InvalidVpcID.NotFound"},
				{"CreateSubnet in A's VPC", func() error {
					_, err := cb.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(e.vpc), CidrBlock: aws.String("10.50.2.0/24"), AvailabilityZone: aws.String("kumo-1a")})
					return err
				}, "InvalidVpcID.NotFound"},
				{"CreateSecurityGroup in A's VPC", func() error {
					_, err := cb.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("intruder"), Description: aws.String("x"), VpcId: aws.String(e.vpc)})
					return err
				}, "InvalidVpcID.NotFound"},
				{"DescribeSubnets", func() error {
					_, err := cb.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{e.subnet}})
					return err
				}, "InvalidSubnetID.NotFound"},
				{"DeleteSubnet", func() error {
					_, err := cb.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(e.subnet)})
					return err
				}, "InvalidSubnetID.NotFound"},
				{"DescribeSecurityGroups", func() error {
					_, err := cb.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{e.group}})
					return err
				}, "InvalidGroup.NotFound"},
				{"AuthorizeSecurityGroupIngress", func() error {
					_, err := cb.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(e.group),
						IpPermissions: []types.IpPermission{tcpFrom(0, 65535, "0.0.0.0/0")}})
					return err
				}, "InvalidGroup.NotFound"},
				{"AuthorizeSecurityGroupEgress", func() error {
					_, err := cb.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(e.group),
						IpPermissions: []types.IpPermission{tcpFrom(25, 25, "0.0.0.0/0")}})
					return err
				}, "InvalidGroup.NotFound"},
				{"RevokeSecurityGroupIngress", func() error {
					_, err := cb.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(e.group),
						IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
					return err
				}, "InvalidGroup.NotFound"},
				{"DeleteSecurityGroup", func() error {
					_, err := cb.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(e.group)})
					return err
				}, "InvalidGroup.NotFound"},
				{"A's group as the peer of B's rule", func() error {
					_, err := cb.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(bGroup),
						IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(e.group)}}}}})
					return err
				}, "InvalidGroup.NotFound"},
				{"A's group and account as the peer of B's rule", func() error {
					_, err := cb.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(bGroup),
						IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(e.group), UserId: aws.String(a.ID)}}}}})
					return err
				}, "InvalidGroup.NotFound"},
				{"DescribeSecurityGroupRules", func() error {
					_, err := cb.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{e.rule}})
					return err
				}, "InvalidSecurityGroupRuleId.NotFound"},
				{"revoke A's rule id from B's group", func() error {
					_, err := cb.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(bGroup), SecurityGroupRuleIds: []string{e.rule}})
					return err
				}, "InvalidSecurityGroupRuleId.NotFound"},
				{"DescribeKeyPairs by name", func() error {
					_, err := cb.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{e.keyName}})
					return err
				}, "InvalidKeyPair.NotFound"},
				{"DescribeKeyPairs by id", func() error {
					_, err := cb.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyPairIds: []string{e.keyID}})
					return err
				}, "InvalidKeyPair.NotFound"},
				{"DeleteKeyPair by id", func() error {
					_, err := cb.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyPairId: aws.String(e.keyID)})
					return err
				}, "InvalidKeyPair.NotFound"},
			} {
				t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
			}

			for id, code := range map[string]string{
				e.vpc: "InvalidVpcID.NotFound", e.subnet: "InvalidSubnetID.NotFound", e.group: "InvalidGroup.NotFound",
				e.rule: "InvalidSecurityGroupRuleId.NotFound", e.keyID: "InvalidKeyPair.NotFound",
			} {
				_, err := cb.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: tagList("owner", "b")})
				wantCode(t, err, code)
				_, err = cb.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}})
				wantCode(t, err, code)
			}

			// As AWS, deleting a key pair by a name the caller does not have succeeds, and does nothing.
			_, err := cb.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(e.keyName)})
			noErr(t, err)
		})

		t.Run("B's lists never show A's resources", func(t *testing.T) {
			ctx := t.Context()
			vpcs, err := cb.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
			noErr(t, err)
			subnets, err := cb.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
			noErr(t, err)
			groups, err := cb.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
			noErr(t, err)
			rules, err := cb.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{})
			noErr(t, err)
			keys, err := cb.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
			noErr(t, err)
			tags, err := cb.DescribeTags(ctx, &ec2.DescribeTagsInput{})
			noErr(t, err)
			byFilter, err := cb.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{filter("resource-id", e.vpc)}})
			noErr(t, err)

			seen := slices.Concat(idsOf(vpcs.Vpcs, vpcID), idsOf(subnets.Subnets, subnetID), idsOf(groups.SecurityGroups, groupID),
				idsOf(rules.SecurityGroupRules, ruleID), idsOf(keys.KeyPairs, keyPairID), idsOf(tags.Tags, tagResource), idsOf(byFilter.Tags, tagResource))
			for _, id := range []string{e.vpc, e.subnet, e.group, e.rule, e.keyID} {
				if slices.Contains(seen, id) {
					t.Errorf("B sees A's %s", id)
				}
			}
			for _, v := range vpcs.Vpcs {
				if aws.ToString(v.OwnerId) != bb.ID {
					t.Errorf("B lists VPC %s owned by %s", aws.ToString(v.VpcId), aws.ToString(v.OwnerId))
				}
			}
			for _, g := range groups.SecurityGroups {
				if aws.ToString(g.OwnerId) != bb.ID {
					t.Errorf("B lists group %s owned by %s", aws.ToString(g.GroupId), aws.ToString(g.OwnerId))
				}
			}
			if len(keys.KeyPairs) != 0 || len(tags.Tags) != 0 {
				t.Errorf("B, which has no key pairs or tags, sees %d key pairs and %d tags", len(keys.KeyPairs), len(tags.Tags))
			}
			// B has a default VPC of its own, with the same range as A's.
			def := defaultVPC(t, cb)
			if aws.ToString(def.VpcId) == aws.ToString(defaultVPC(t, ca).VpcId) {
				t.Error("A and B share a default VPC")
			}
		})

		t.Run("names are per account", func(t *testing.T) {
			_, err := cb.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String(e.keyName), KeyType: types.KeyTypeEd25519})
			noErr(t, err)
			createGroup(t, cb, "a-only", "")
			_, err = bb.IAM.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("shared-name")})
			noErr(t, err)
			_, err = a.IAM.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("shared-name")})
			noErr(t, err)
			_, err = cb.DeleteKeyPair(t.Context(), &ec2.DeleteKeyPairInput{KeyName: aws.String(e.keyName)})
			noErr(t, err)
		})

		t.Run("IAM", func(t *testing.T) {
			_, err := a.IAM.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("only-in-a")})
			noErr(t, err)
			_, err = bb.IAM.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("only-in-a")})
			wantCode(t, err, "NoSuchEntity")
			_, err = bb.IAM.DeleteUser(t.Context(), &iam.DeleteUserInput{UserName: aws.String("only-in-a")})
			wantCode(t, err, "NoSuchEntity")
			_, err = bb.IAM.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(a.KeyID), Status: iamtypes.StatusTypeInactive})
			wantCode(t, err, "NoSuchEntity")
			_, err = bb.IAM.DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(a.KeyID)})
			wantCode(t, err, "NoSuchEntity")
			users, err := bb.IAM.ListUsers(t.Context(), &iam.ListUsersInput{})
			noErr(t, err)
			for _, u := range users.Users {
				if aws.ToString(u.UserName) == "only-in-a" {
					t.Error("B lists A's user")
				}
			}
			_, err = a.IAM.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("only-in-a")})
			noErr(t, err)
		})

		t.Run("A's resources are intact", func(t *testing.T) {
			after := snapshot(t, ca)
			if diff := after.diff(before); diff != "" {
				t.Errorf("A's resources changed while B tried to reach them:\n%s", diff)
			}
			_, err := ca.DescribeKeyPairs(t.Context(), &ec2.DescribeKeyPairsInput{KeyNames: []string{e.keyName}})
			noErr(t, err)
			// And A's root key still works.
			if _, err := a.EC2.DescribeRegions(t.Context(), &ec2.DescribeRegionsInput{}); err != nil {
				t.Errorf("A's key stopped working: %v", err)
			}
		})
	})
}
