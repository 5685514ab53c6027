package ec2_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestTerraformUnknownIDs checks reference §0.2 for the network and
// instance resources: a Describe (or delete) of a well-formed ID that does
// not exist answers the specific NotFound code, with a 4xx status.
func TestTerraformUnknownIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		c := srv.NewAccount(t, "a").EC2
		const hex = "0123456789abcdef0"
		for code, call := range map[string]func() error{
			"InvalidVpcID.NotFound": func() error {
				_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-" + hex}})
				return err
			},
			"InvalidSubnetID.NotFound": func() error {
				_, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-" + hex}})
				return err
			},
			"InvalidGroup.NotFound": func() error {
				_, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-" + hex}})
				return err
			},
			"InvalidSecurityGroupRuleId.NotFound": func() error {
				_, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{"sgr-" + hex}})
				return err
			},
			"InvalidKeyPair.NotFound": func() error {
				_, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"nobody"}})
				return err
			},
			"InvalidInstanceID.NotFound": func() error {
				_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-" + hex}})
				return err
			},
			"InvalidVolume.NotFound": func() error {
				_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-" + hex}})
				return err
			},
			"InvalidAllocationID.NotFound": func() error {
				_, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{"eipalloc-" + hex}})
				return err
			},
			"InvalidAssociationID.NotFound": func() error {
				_, err := c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: aws.String("eipassoc-" + hex)})
				return err
			},
			"InvalidRouteTableID.NotFound": func() error {
				_, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{"rtb-" + hex}})
				return err
			},
			"InvalidInternetGatewayID.NotFound": func() error {
				_, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{"igw-" + hex}})
				return err
			},
		} {
			wantClientError(t, call(), code)
		}
		_, err := c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: aws.String("rtbassoc-" + hex)})
		wantClientError(t, err, "InvalidAssociationID.NotFound")
	})
}

// TestTerraformFilters checks the filters of reference §0.3 select, with
// other objects of the same kind present that a server ignoring the filter
// would return as well.
func TestTerraformFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		n := tfNetwork(t, a.EC2)
		otherVPC := tfCreateVPC(t, a.EC2, "10.1.0.0/16")
		otherSub, err := a.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &n.vpc, CidrBlock: aws.String("10.0.2.0/24"), AvailabilityZone: aws.String("kumo-1a")})
		step(t, "CreateSubnet", err)
		inst := tfRunInstance(t, a.EC2, img, base64.StdEncoding.EncodeToString([]byte("x")), n)
		observe(t, srv, a.ID, inst, "running", "running")

		count := func(what string, got, want int) {
			t.Helper()
			if got != want {
				t.Errorf("%s: %d results, want %d", what, got, want)
			}
		}
		for _, vpc := range []string{n.vpc, otherVPC} {
			acls, err := a.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{flt("default", "true"), flt("vpc-id", vpc)}})
			step(t, "DescribeNetworkAcls", err)
			count("DescribeNetworkAcls default=true vpc-id="+vpc, len(acls.NetworkAcls), 1)
			rts, err := a.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{flt("association.main", "true"), flt("vpc-id", vpc)}})
			step(t, "DescribeRouteTables", err)
			count("DescribeRouteTables association.main=true vpc-id="+vpc, len(rts.RouteTables), 1)
			sgs, err := a.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{flt("group-name", "default"), flt("vpc-id", vpc)}})
			step(t, "DescribeSecurityGroups", err)
			count("DescribeSecurityGroups group-name=default vpc-id="+vpc, len(sgs.SecurityGroups), 1)
		}
		enis := func(f types.Filter) int {
			o, err := a.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{f}})
			step(t, "DescribeNetworkInterfaces", err)
			return len(o.NetworkInterfaces)
		}
		count("DescribeNetworkInterfaces subnet-id (the instance's)", enis(flt("subnet-id", n.subnet)), 1)
		count("DescribeNetworkInterfaces subnet-id (another)", enis(flt("subnet-id", aws.ToString(otherSub.Subnet.SubnetId))), 0)
		count("DescribeNetworkInterfaces group-id (the instance's)", enis(flt("group-id", n.sg)), 1)
		peer := tfCreateSG(t, a.EC2, n.vpc, "peer", "peer")
		count("DescribeNetworkInterfaces group-id (another)", enis(flt("group-id", peer)), 0)

		// DescribeTags resource-id & key: the instance's Name tag must not answer.
		tags, err := a.EC2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{flt("resource-id", inst), flt("key", "aws:ec2launchtemplate:id")}})
		step(t, "DescribeTags", err)
		count("DescribeTags resource-id key=aws:ec2launchtemplate:id", len(tags.Tags), 0)
		tags, err = a.EC2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{flt("resource-id", inst), flt("key", "Name")}})
		step(t, "DescribeTags", err)
		count("DescribeTags resource-id key=Name", len(tags.Tags), 1)

		// DescribeAddresses association-id with another, unassociated, address allocated.
		attachGateway(t, a.EC2, n.vpc)
		e1, e2 := allocate(t, a.EC2), allocate(t, a.EC2)
		assoc := associate(t, a.EC2, &ec2.AssociateAddressInput{AllocationId: e1.AllocationId, InstanceId: &inst})
		got := describeAddresses(t, a.EC2, &ec2.DescribeAddressesInput{Filters: []types.Filter{flt("association-id", assoc)}})
		if len(got) != 1 || aws.ToString(got[0].AllocationId) != aws.ToString(e1.AllocationId) {
			t.Errorf("DescribeAddresses association-id: %+v (unassociated %s must not answer)", got, aws.ToString(e2.AllocationId))
		}

		// DescribeImages name (wildcard) & state=available, IncludeDeprecated=false: never empty for a real name.
		imgs, err := a.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{IncludeDeprecated: aws.Bool(false),
			Filters: []types.Filter{flt("name", "*"), flt("state", "available")}})
		step(t, "DescribeImages name=* state=available", err)
		found := false
		for _, im := range imgs.Images {
			found = found || aws.ToString(im.ImageId) == img
			if _, err := time.Parse(time.RFC3339, aws.ToString(im.CreationDate)); err != nil {
				t.Errorf("image %s creationDate %q: not RFC 3339 (most_recent sorts on it)", aws.ToString(im.ImageId), aws.ToString(im.CreationDate))
			}
		}
		if !found {
			t.Errorf("DescribeImages name=* state=available lacks %s: %+v", img, imgs.Images)
		}
		none, err := a.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{flt("name", "no-such-image-*"), flt("state", "available")}})
		step(t, "DescribeImages", err)
		count("DescribeImages name=no-such-image-*", len(none.Images), 0)
	})
}
