package e2e_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestSubnets covers CreateSubnet's range rules, DescribeSubnets' filters
// and DeleteSubnet.
func TestSubnets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := start(t, b)
		c := acct.EC2
		vpc := createVPC(t, c, "10.20.0.0/16")

		out, err := c.CreateSubnet(t.Context(), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.20.1.0/24"),
			AvailabilityZone: aws.String("kumo-1b"), TagSpecifications: tagSpec(types.ResourceTypeSubnet, "tier", "web")})
		noErr(t, err)
		s := out.Subnet
		web := aws.ToString(s.SubnetId)
		if aws.ToString(s.VpcId) != vpc || aws.ToString(s.AvailabilityZone) != "kumo-1b" || aws.ToString(s.AvailabilityZoneId) != "kumo1-az2" ||
			s.State != types.SubnetStateAvailable || aws.ToBool(s.DefaultForAz) || aws.ToInt32(s.AvailableIpAddressCount) != 251 {
			t.Errorf("CreateSubnet = %+v; want in %s, kumo-1b (kumo1-az2), available, not default, 251 free", s, vpc)
		}
		if tagsOf(s.Tags)["tier"] != "web" {
			t.Errorf("CreateSubnet tags = %v", tagsOf(s.Tags))
		}
		db := createSubnet(t, c, vpc, "10.20.2.0/28", "kumo-1c")

		t.Run("CreateSubnet errors", func(t *testing.T) {
			for _, tc := range []struct {
				name, vpc, cidr, zone, code string
			}{
				{"outside the VPC", vpc, "10.21.0.0/24", "kumo-1a", "InvalidSubnet.Range"},
				{"larger than /16", vpc, "10.20.0.0/15", "kumo-1a", "InvalidSubnet.Range"},
				{"smaller than /28", vpc, "10.20.3.0/29", "kumo-1a", "InvalidSubnet.Range"},
				{"overlapping", vpc, "10.20.1.128/25", "kumo-1a", "InvalidSubnet.Conflict"},
				{"containing another", vpc, "10.20.0.0/22", "kumo-1a", "InvalidSubnet.Conflict"},
				{"unknown zone", vpc, "10.20.4.0/24", "kumo-1z", "InvalidParameterValue"},
				{"zone of another region", vpc, "10.20.4.0/24", "us-east-1a", "InvalidParameterValue"},
				{"host bits set", vpc, "10.20.4.1/24", "kumo-1a", "InvalidParameterValue"},
				{"unknown VPC", "vpc-0123456789abcdef0", "10.20.4.0/24", "kumo-1a", "InvalidVpcID.NotFound"},
				{"malformed VPC", "vpc-nothex", "10.20.4.0/24", "kumo-1a", "InvalidVpcID.Malformed"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := c.CreateSubnet(t.Context(), &ec2.CreateSubnetInput{VpcId: aws.String(tc.vpc), CidrBlock: aws.String(tc.cidr), AvailabilityZone: aws.String(tc.zone)})
					wantCode(t, err, tc.code)
				})
			}
		})

		t.Run("DescribeSubnets", func(t *testing.T) {
			def := aws.ToString(defaultVPC(t, c).VpcId)
			for _, tc := range []struct {
				name    string
				filters []types.Filter
				n       int      // how many subnets match
				want    []string // which, when they are ours
			}{
				{"vpc-id", []types.Filter{filter("vpc-id", vpc)}, 2, sorted(web, db)},
				{"availability-zone", []types.Filter{filter("vpc-id", vpc), filter("availability-zone", "kumo-1c")}, 1, []string{db}},
				{"default-for-az true", []types.Filter{filter("default-for-az", "true")}, 3, nil},
				{"default-for-az false", []types.Filter{filter("default-for-az", "false")}, 2, sorted(web, db)},
				{"default VPC", []types.Filter{filter("vpc-id", def)}, 3, nil},
				{"cidr-block", []types.Filter{filter("cidr-block", "10.20.2.0/28")}, 1, []string{db}},
				{"tag", []types.Filter{filter("tag:tier", "web")}, 1, []string{web}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					out, err := c.DescribeSubnets(t.Context(), &ec2.DescribeSubnetsInput{Filters: tc.filters})
					noErr(t, err)
					got := idsOf(out.Subnets, subnetID)
					if len(got) != tc.n || (tc.want != nil && !slices.Equal(got, tc.want)) {
						t.Errorf("got %v, want %d subnets %v", got, tc.n, tc.want)
					}
				})
			}
			out, err := c.DescribeSubnets(t.Context(), &ec2.DescribeSubnetsInput{SubnetIds: []string{db}})
			noErr(t, err)
			if len(out.Subnets) != 1 || aws.ToInt32(out.Subnets[0].AvailableIpAddressCount) != 11 {
				t.Errorf("a /28 = %+v, want one subnet with 11 free addresses", out.Subnets)
			}
			_, err = c.DescribeSubnets(t.Context(), &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}})
			wantCode(t, err, "InvalidSubnetID.NotFound")
		})

		t.Run("DeleteSubnet", func(t *testing.T) {
			_, err := c.DeleteSubnet(t.Context(), &ec2.DeleteSubnetInput{SubnetId: aws.String("subnet-0123456789abcdef0")})
			wantCode(t, err, "InvalidSubnetID.NotFound")
			_, err = c.DeleteSubnet(t.Context(), &ec2.DeleteSubnetInput{SubnetId: aws.String("subnet-#")})
			wantCode(t, err, "InvalidSubnetID.Malformed")
			_, err = c.DeleteSubnet(t.Context(), &ec2.DeleteSubnetInput{SubnetId: aws.String(web)})
			noErr(t, err)
			_, err = c.DescribeSubnets(t.Context(), &ec2.DescribeSubnetsInput{SubnetIds: []string{web}})
			wantCode(t, err, "InvalidSubnetID.NotFound")
			// The range is free again.
			createSubnet(t, c, vpc, "10.20.1.0/24", "kumo-1a")
		})
	})
}
