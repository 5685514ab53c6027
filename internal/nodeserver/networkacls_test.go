package nodeserver_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/nodeserver/nodeservertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// subnetACL finds a subnet's ACL in a Desired.
func subnetACL(d *nodeapi.Desired, subnet string) (nodeapi.SubnetNetworkACL, bool) {
	for _, v := range d.VPCs {
		for _, a := range v.NetworkACLs {
			if a.SubnetID == subnet {
				return a, true
			}
		}
	}
	return nodeapi.SubnetNetworkACL{}, false
}

// awaitACLDesired reads Desired messages for up to a second until ok holds.
func awaitACLDesired(t *testing.T, s nodeapi.Session, what string, ok func(*nodeapi.Desired) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not in the desired state within a second", what)
		}
		if ok(recvDesired(t, s, time.Until(deadline))) {
			return
		}
	}
}

// TestNetworkACLsReachTheNode: a node hosting a guest of a subnet gets the
// subnet's ACL in its desired state (the VPC's default ACL first), and
// every change made through the EC2 API (a new association, an entry
// added, replaced or deleted) within a second.
func TestNetworkACLsReachTheNode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.Start(t, b)
		acct := srv.NewAccount(t, "team-acl")
		ctx := t.Context()
		subnets, err := acct.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
		if err != nil || len(subnets.Subnets) == 0 {
			t.Fatalf("default subnets: %v", err)
		}
		sn := subnets.Subnets[0]
		subnetID, vpcID := aws.ToString(sn.SubnetId), aws.ToString(sn.VpcId)
		s := nodeservertest.JoinWithGuest(t, srv, acct.ID, sn)
		d := recvDesired(t, s, 5*time.Second)
		def, ok := subnetACL(d, subnetID)
		want := []nodeapi.NetworkACLEntry{
			{RuleNumber: 100, Allow: true, Protocol: "-1", CIDR: "0.0.0.0/0", FromPort: -1, ToPort: -1},
			{RuleNumber: 32767, Protocol: "-1", CIDR: "0.0.0.0/0", FromPort: -1, ToPort: -1},
			{RuleNumber: 100, Egress: true, Allow: true, Protocol: "-1", CIDR: "0.0.0.0/0", FromPort: -1, ToPort: -1},
			{RuleNumber: 32767, Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0", FromPort: -1, ToPort: -1},
		}
		if !ok || def.CIDR != aws.ToString(sn.CidrBlock) || !slices.Equal(def.Entries, want) {
			t.Fatalf("subnet's default ACL in the first desired state: %s", jsonOf(d.VPCs))
		}

		acl, err := acct.EC2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: &vpcID})
		if err != nil {
			t.Fatal(err)
		}
		aclID := aws.ToString(acl.NetworkAcl.NetworkAclId)
		assoc, err := acct.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
			{Name: aws.String("association.subnet-id"), Values: []string{subnetID}}}})
		if err != nil || len(assoc.NetworkAcls) != 1 {
			t.Fatalf("subnet's association: %v", err)
		}
		var assocID string
		for _, a := range assoc.NetworkAcls[0].Associations {
			if aws.ToString(a.SubnetId) == subnetID {
				assocID = aws.ToString(a.NetworkAclAssociationId)
			}
		}
		if _, err := acct.EC2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: &assocID, NetworkAclId: &aclID}); err != nil {
			t.Fatal(err)
		}
		awaitACLDesired(t, s, "new association", func(d *nodeapi.Desired) bool {
			a, ok := subnetACL(d, subnetID)
			return ok && a.NetworkACLID == aclID && len(a.Entries) == 2
		})
		entry := &ec2.CreateNetworkAclEntryInput{NetworkAclId: &aclID, RuleNumber: aws.Int32(10), Egress: aws.Bool(false), Protocol: aws.String("tcp"),
			RuleAction: types.RuleActionAllow, CidrBlock: aws.String("203.0.113.0/24"), PortRange: &types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}}
		if _, err := acct.EC2.CreateNetworkAclEntry(ctx, entry); err != nil {
			t.Fatal(err)
		}
		wantEntry := nodeapi.NetworkACLEntry{RuleNumber: 10, Allow: true, Protocol: "6", CIDR: "203.0.113.0/24", FromPort: 22, ToPort: 22}
		awaitACLDesired(t, s, "new entry", func(d *nodeapi.Desired) bool {
			a, _ := subnetACL(d, subnetID)
			return slices.Contains(a.Entries, wantEntry)
		})
		if _, err := acct.EC2.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: &aclID, RuleNumber: aws.Int32(10), Egress: aws.Bool(false),
			Protocol: aws.String("icmp"), RuleAction: types.RuleActionDeny, CidrBlock: aws.String("0.0.0.0/0"),
			IcmpTypeCode: &types.IcmpTypeCode{Type: aws.Int32(8), Code: aws.Int32(-1)}}); err != nil {
			t.Fatal(err)
		}
		wantEntry = nodeapi.NetworkACLEntry{RuleNumber: 10, Protocol: "1", CIDR: "0.0.0.0/0", FromPort: 8, ToPort: -1}
		awaitACLDesired(t, s, "replaced entry", func(d *nodeapi.Desired) bool {
			a, _ := subnetACL(d, subnetID)
			return slices.Contains(a.Entries, wantEntry)
		})
		if _, err := acct.EC2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: &aclID, RuleNumber: aws.Int32(10), Egress: aws.Bool(false)}); err != nil {
			t.Fatal(err)
		}
		awaitACLDesired(t, s, "deleted entry", func(d *nodeapi.Desired) bool {
			a, _ := subnetACL(d, subnetID)
			return len(a.Entries) == 2
		})
	})
}
