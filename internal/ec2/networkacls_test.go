package ec2_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func describeACLs(t *testing.T, c *ec2.Client, filters ...types.Filter) []types.NetworkAcl {
	t.Helper()
	out, err := c.DescribeNetworkAcls(context.Background(), &ec2.DescribeNetworkAclsInput{Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	return out.NetworkAcls
}

func oneACL(t *testing.T, c *ec2.Client, filters ...types.Filter) types.NetworkAcl {
	t.Helper()
	acls := describeACLs(t, c, filters...)
	if len(acls) != 1 {
		t.Fatalf("want one ACL for %+v, got %+v", filters, acls)
	}
	return acls[0]
}

// aclEntryText renders an entry compactly: "in 100 -1 allow 0.0.0.0/0".
func aclEntryText(e types.NetworkAclEntry) string {
	dir := "in"
	if aws.ToBool(e.Egress) {
		dir = "out"
	}
	s := dir + " " + aclItoa(int(aws.ToInt32(e.RuleNumber))) + " " + aws.ToString(e.Protocol) + " " + string(e.RuleAction) + " " +
		aws.ToString(e.CidrBlock) + aws.ToString(e.Ipv6CidrBlock)
	if e.PortRange != nil {
		s += " ports " + aclItoa(int(aws.ToInt32(e.PortRange.From))) + "-" + aclItoa(int(aws.ToInt32(e.PortRange.To)))
	}
	if e.IcmpTypeCode != nil {
		s += " icmp " + aclItoa(int(aws.ToInt32(e.IcmpTypeCode.Type))) + "/" + aclItoa(int(aws.ToInt32(e.IcmpTypeCode.Code)))
	}
	return s
}

func aclItoa(n int) string { return strconv.Itoa(n) }

func aclEntryTexts(a types.NetworkAcl) []string {
	var out []string
	for _, e := range a.Entries {
		out = append(out, aclEntryText(e))
	}
	return out
}

func aclAssocSubnets(a types.NetworkAcl) []string {
	var out []string
	for _, as := range a.Associations {
		out = append(out, aws.ToString(as.SubnetId))
	}
	slices.Sort(out)
	return out
}

func aclAssocOf(t *testing.T, c *ec2.Client, subnet string) string {
	t.Helper()
	a := oneACL(t, c, flt("association.subnet-id", subnet))
	for _, as := range a.Associations {
		if aws.ToString(as.SubnetId) == subnet {
			return aws.ToString(as.NetworkAclAssociationId)
		}
	}
	t.Fatalf("no association of %s in %+v", subnet, a)
	return ""
}

var defaultACLEntries = []string{"out 100 -1 allow 0.0.0.0/0", "out 32767 -1 deny 0.0.0.0/0", "in 100 -1 allow 0.0.0.0/0", "in 32767 -1 deny 0.0.0.0/0"}

// TestDefaultNetworkACLs is what Terraform's aws_vpc read asks
// (DescribeNetworkAcls default=true & vpc-id): the default VPC and every new
// VPC have one default ACL with AWS's entries, associated with every subnet.
func TestDefaultNetworkACLs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.Start(t, b)
		c := srv.NewAccount(t, "a").EC2
		ctx := context.Background()

		def := defaultVPCID(t, c)
		acl := oneACL(t, c, flt("default", "true"), flt("vpc-id", def))
		if !slices.Equal(aclEntryTexts(acl), defaultACLEntries) || !aws.ToBool(acl.IsDefault) || aws.ToString(acl.OwnerId) == "" {
			t.Errorf("default VPC's ACL: %+v %v", acl, aclEntryTexts(acl))
		}
		subs, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{flt("vpc-id", def)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(aclAssocSubnets(acl)) != len(subs.Subnets) || len(subs.Subnets) == 0 {
			t.Errorf("default ACL associations %v, subnets %d", aclAssocSubnets(acl), len(subs.Subnets))
		}

		vpc := mustVPC(t, c, "10.5.0.0/16")
		acl = oneACL(t, c, flt("default", "true"), flt("vpc-id", vpc))
		if !slices.Equal(aclEntryTexts(acl), defaultACLEntries) || len(acl.Associations) != 0 {
			t.Errorf("new VPC's ACL: %+v", acl)
		}
		sub := mustSubnet(t, c, vpc, "10.5.1.0/24")
		acl = oneACL(t, c, flt("association.subnet-id", sub))
		if !aws.ToBool(acl.IsDefault) || aws.ToString(acl.VpcId) != vpc {
			t.Errorf("new subnet's ACL: %+v", acl)
		}
		if _, err := c.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: acl.NetworkAclId}); err == nil {
			t.Fatal("deleted the default ACL")
		} else {
			wantCode(t, err, "InvalidParameterValue")
		}
		// The default ACL's entries can be changed, as Terraform's aws_default_network_acl does.
		if _, err := c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: acl.NetworkAclId, Egress: aws.Bool(true), RuleNumber: aws.Int32(100)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: acl.NetworkAclId, Egress: aws.Bool(false), RuleNumber: aws.Int32(32767)}); err == nil {
			t.Fatal("deleted the * rule")
		} else {
			wantCode(t, err, "InvalidParameterValue")
		}

		if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &sub}); err != nil {
			t.Fatal(err)
		}
		if got := describeACLs(t, c, flt("association.subnet-id", sub)); len(got) != 0 {
			t.Errorf("deleted subnet still associated: %+v", got)
		}
		if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc}); err != nil {
			t.Fatal(err)
		}
		if got := describeACLs(t, c, flt("vpc-id", vpc)); len(got) != 0 {
			t.Errorf("deleted VPC's ACLs remain: %+v", got)
		}
	})
}

func mustACL(t *testing.T, c *ec2.Client, vpc string, tags ...types.Tag) string {
	t.Helper()
	in := &ec2.CreateNetworkAclInput{VpcId: &vpc}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkAcl, Tags: tags}}
	}
	out, err := c.CreateNetworkAcl(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.NetworkAcl.NetworkAclId)
}

func TestCreateNetworkACLIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.Start(t, b)
		c := srv.NewAccount(t, "a").EC2
		ctx := context.Background()
		vpc, other := mustVPC(t, c, "10.6.0.0/16"), mustVPC(t, c, "10.7.0.0/16")

		in := &ec2.CreateNetworkAclInput{VpcId: &vpc, ClientToken: aws.String("tok-1"),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkAcl, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}}
		first, err := c.CreateNetworkAcl(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		acl := first.NetworkAcl
		if aws.ToBool(acl.IsDefault) || aws.ToString(first.ClientToken) != "tok-1" || len(acl.Tags) != 1 ||
			!slices.Equal(aclEntryTexts(*acl), []string{"out 32767 -1 deny 0.0.0.0/0", "in 32767 -1 deny 0.0.0.0/0"}) {
			t.Errorf("new ACL: %+v %v", acl, aclEntryTexts(*acl))
		}
		again, err := c.CreateNetworkAcl(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(again.NetworkAcl.NetworkAclId) != aws.ToString(acl.NetworkAclId) || len(again.NetworkAcl.Tags) != 1 {
			t.Errorf("retry made another ACL: %+v", again.NetworkAcl)
		}
		if got := describeACLs(t, c, flt("vpc-id", vpc), flt("default", "false")); len(got) != 1 {
			t.Errorf("ACLs after retry: %+v", got)
		}
		in.VpcId = &other
		_, err = c.CreateNetworkAcl(ctx, in)
		wantCode(t, err, "IdempotentParameterMismatch")

		_, err = c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String("vpc-0000000000000000f")})
		wantCode(t, err, "InvalidVpcID.NotFound")
		_, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{"acl-0000000000000000f"}})
		wantCode(t, err, "InvalidNetworkAclID.NotFound")
	})
}

func createACLEntry(c *ec2.Client, in ec2.CreateNetworkAclEntryInput) error {
	_, err := c.CreateNetworkAclEntry(context.Background(), &in)
	return err
}

func TestNetworkACLEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.Start(t, b)
		c := srv.NewAccount(t, "a").EC2
		ctx := context.Background()
		vpc := mustVPC(t, c, "10.8.0.0/16")
		id := mustACL(t, c, vpc, types.Tag{Key: aws.String("tier"), Value: aws.String("db")})
		aclID := &id
		ok := []ec2.CreateNetworkAclEntryInput{
			{NetworkAclId: aclID, RuleNumber: aws.Int32(110), Egress: aws.Bool(false), Protocol: aws.String("tcp"), RuleAction: types.RuleActionAllow,
				CidrBlock: aws.String("10.0.0.0/8"), PortRange: &types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}},
			{NetworkAclId: aclID, RuleNumber: aws.Int32(100), Egress: aws.Bool(false), Protocol: aws.String("6"), RuleAction: types.RuleActionDeny,
				CidrBlock: aws.String("10.8.9.0/24"), PortRange: &types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}},
			{NetworkAclId: aclID, RuleNumber: aws.Int32(120), Egress: aws.Bool(false), Protocol: aws.String("1"), RuleAction: types.RuleActionAllow,
				CidrBlock: aws.String("0.0.0.0/0"), IcmpTypeCode: &types.IcmpTypeCode{Type: aws.Int32(8), Code: aws.Int32(-1)}},
			{NetworkAclId: aclID, RuleNumber: aws.Int32(100), Egress: aws.Bool(true), Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow,
				CidrBlock: aws.String("0.0.0.0/0")},
			{NetworkAclId: aclID, RuleNumber: aws.Int32(130), Egress: aws.Bool(false), Protocol: aws.String("17"), RuleAction: types.RuleActionAllow,
				Ipv6CidrBlock: aws.String("::/0"), PortRange: &types.PortRange{From: aws.Int32(1024), To: aws.Int32(65535)}},
		}
		for _, in := range ok {
			if err := createACLEntry(c, in); err != nil {
				t.Fatal(err)
			}
		}
		acl := oneACL(t, c, flt("network-acl-id", id))
		want := []string{"out 100 -1 allow 0.0.0.0/0", "out 32767 -1 deny 0.0.0.0/0",
			"in 100 6 deny 10.8.9.0/24 ports 22-22", "in 110 6 allow 10.0.0.0/8 ports 22-22", "in 120 1 allow 0.0.0.0/0 icmp 8/-1",
			"in 130 17 allow ::/0 ports 1024-65535", "in 32767 -1 deny 0.0.0.0/0"}
		if !slices.Equal(aclEntryTexts(acl), want) {
			t.Errorf("entries:\n got %q\nwant %q", aclEntryTexts(acl), want)
		}

		bad := map[string]ec2.CreateNetworkAclEntryInput{
			"NetworkAclEntryAlreadyExists": ok[0],
			"InvalidParameterValue": {NetworkAclId: aclID, RuleNumber: aws.Int32(32767), Egress: aws.Bool(false), Protocol: aws.String("-1"),
				RuleAction: types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0")},
			"InvalidNetworkAclID.NotFound": {NetworkAclId: aws.String("acl-0000000000000000f"), RuleNumber: aws.Int32(1), Egress: aws.Bool(false),
				Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0")},
		}
		for code, in := range bad {
			wantCode(t, createACLEntry(c, in), code)
		}
		for _, in := range []ec2.CreateNetworkAclEntryInput{
			{NetworkAclId: aclID, RuleNumber: aws.Int32(0), Egress: aws.Bool(false), Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0")},
			{NetworkAclId: aclID, RuleNumber: aws.Int32(5), Egress: aws.Bool(false), Protocol: aws.String("tcp"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0")},
			{NetworkAclId: aclID, RuleNumber: aws.Int32(5), Egress: aws.Bool(false), Protocol: aws.String("icmp"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0")},
			{NetworkAclId: aclID, RuleNumber: aws.Int32(5), Egress: aws.Bool(false), Protocol: aws.String("bogus"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0")},
			{NetworkAclId: aclID, RuleNumber: aws.Int32(5), Egress: aws.Bool(false), Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("10.0.0.300/8")},
			{NetworkAclId: aclID, RuleNumber: aws.Int32(5), Egress: aws.Bool(false), Protocol: aws.String("tcp"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0"),
				PortRange: &types.PortRange{From: aws.Int32(80), To: aws.Int32(70000)}},
		} {
			wantCode(t, createACLEntry(c, in), "InvalidParameterValue")
		}

		_, err := c.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: aclID, RuleNumber: aws.Int32(110), Egress: aws.Bool(false),
			Protocol: aws.String("tcp"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("10.0.0.0/8"), PortRange: &types.PortRange{From: aws.Int32(443), To: aws.Int32(443)}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: aclID, RuleNumber: aws.Int32(111), Egress: aws.Bool(false),
			Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("10.0.0.0/8")})
		wantCode(t, err, "InvalidNetworkAclEntry.NotFound")
		if _, err := c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aclID, RuleNumber: aws.Int32(130), Egress: aws.Bool(false)}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aclID, RuleNumber: aws.Int32(130), Egress: aws.Bool(false)})
		wantCode(t, err, "InvalidNetworkAclEntry.NotFound")

		// Filters over entries and tags.
		for _, f := range [][]types.Filter{
			{flt("entry.port-range.from", "443")}, {flt("entry.port-range.to", "443")}, {flt("entry.rule-number", "120"), flt("entry.icmp.type", "8")},
			{flt("entry.icmp.code", "-1")}, {flt("entry.protocol", "6"), flt("entry.rule-action", "deny")}, {flt("entry.cidr", "10.8.9.0/24")},
			{flt("entry.egress", "true"), flt("vpc-id", vpc), flt("default", "false")}, {flt("tag:tier", "db")}, {flt("tag-key", "tier")},
			{flt("owner-id", aws.ToString(acl.OwnerId)), flt("network-acl-id", id)},
		} {
			if got := describeACLs(t, c, f...); len(got) != 1 || aws.ToString(got[0].NetworkAclId) != id {
				t.Errorf("filter %v: %d ACLs", f, len(got))
			}
		}
		if got := aclEntryTexts(oneACL(t, c, flt("network-acl-id", id))); !slices.Contains(got, "in 110 6 allow 10.0.0.0/8 ports 443-443") ||
			slices.Contains(got, "in 110 6 allow 10.0.0.0/8 ports 22-22") || slices.Contains(got, "in 130 17 allow ::/0 ports 1024-65535") {
			t.Errorf("after replace and delete: %q", got)
		}
		_, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{flt("entry.bogus", "1")}})
		wantCode(t, err, "InvalidParameterValue")

		// CreateTags on an acl- id.
		if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("k2"), Value: aws.String("v")}}}); err != nil {
			t.Fatal(err)
		}
		if got := describeACLs(t, c, flt("tag:k2", "v")); len(got) != 1 {
			t.Errorf("tag:k2: %+v", got)
		}
		_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"acl-0000000000000000f"}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		wantCode(t, err, "InvalidNetworkAclID.NotFound")
	})
}

func TestNetworkACLAssociations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.Start(t, b)
		c := srv.NewAccount(t, "a").EC2
		ctx := context.Background()
		vpc := mustVPC(t, c, "10.9.0.0/16")
		sub := mustSubnet(t, c, vpc, "10.9.1.0/24")
		custom := mustACL(t, c, vpc)
		def := oneACL(t, c, flt("vpc-id", vpc), flt("default", "true"))

		old := aclAssocOf(t, c, sub)
		out, err := c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: &old, NetworkAclId: &custom})
		if err != nil {
			t.Fatal(err)
		}
		moved := aws.ToString(out.NewAssociationId)
		if moved == old || len(moved) < len("aclassoc-") || moved[:9] != "aclassoc-" {
			t.Errorf("new association id %q (old %q)", moved, old)
		}
		acl := oneACL(t, c, flt("association.association-id", moved))
		if aws.ToString(acl.NetworkAclId) != custom || !slices.Equal(aclAssocSubnets(acl), []string{sub}) {
			t.Errorf("after replace: %+v", acl)
		}
		if got := describeACLs(t, c, flt("association.network-acl-id", aws.ToString(def.NetworkAclId))); len(got) != 0 {
			t.Errorf("default ACL still associated: %+v", got)
		}
		_, err = c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: &old, NetworkAclId: &custom})
		wantCode(t, err, "InvalidAssociationID.NotFound")
		_, err = c.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: &custom})
		wantCode(t, err, "DependencyViolation")

		// Another VPC's ACL cannot take the subnet.
		foreign := mustACL(t, c, mustVPC(t, c, "10.10.0.0/16"))
		_, err = c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: &moved, NetworkAclId: &foreign})
		wantCode(t, err, "InvalidParameterValue")

		// A VPC with a non-default ACL cannot be deleted.
		if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &sub}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc})
		wantCode(t, err, "DependencyViolation")
		if _, err := c.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: &custom}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: &custom})
		wantCode(t, err, "InvalidNetworkAclID.NotFound")
		if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDescribeNetworkACLsPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.Start(t, b)
		c := srv.NewAccount(t, "a").EC2
		vpc := mustVPC(t, c, "10.11.0.0/16")
		for range 6 {
			mustACL(t, c, vpc)
		}
		want := len(describeACLs(t, c))
		seen := map[string]bool{}
		p := ec2.NewDescribeNetworkAclsPaginator(c, &ec2.DescribeNetworkAclsInput{MaxResults: aws.Int32(5)})
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, a := range out.NetworkAcls {
				seen[aws.ToString(a.NetworkAclId)] = true
			}
		}
		if len(seen) != want || want < 8 || pages < 2 {
			t.Errorf("pages %d saw %d of %d ACLs", pages, len(seen), want)
		}
	})
}
