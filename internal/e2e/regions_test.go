package e2e_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestRegionsZonesAndTypes covers what a region presents before anything
// is created: its name, zones, account attributes and instance types.
func TestRegionsZonesAndTypes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := start(t, b)
		c := acct.EC2

		t.Run("DescribeRegions", func(t *testing.T) {
			out, err := c.DescribeRegions(t.Context(), &ec2.DescribeRegionsInput{})
			noErr(t, err)
			if got := idsOf(out.Regions, regionName); !slices.Equal(got, []string{"kumo-1"}) {
				t.Errorf("regions = %v, want [kumo-1]", got)
			}
			if aws.ToString(out.Regions[0].Endpoint) == "" {
				t.Error("region has no endpoint")
			}
			out, err = c.DescribeRegions(t.Context(), &ec2.DescribeRegionsInput{RegionNames: []string{"kumo-1"}})
			noErr(t, err)
			if len(out.Regions) != 1 {
				t.Errorf("RegionNames=[kumo-1]: got %d regions", len(out.Regions))
			}
			_, err = c.DescribeRegions(t.Context(), &ec2.DescribeRegionsInput{RegionNames: []string{"us-east-1"}})
			wantCode(t, err, "InvalidParameterValue")
		})

		t.Run("DescribeAvailabilityZones", func(t *testing.T) {
			out, err := c.DescribeAvailabilityZones(t.Context(), &ec2.DescribeAvailabilityZonesInput{})
			noErr(t, err)
			if got := idsOf(out.AvailabilityZones, zoneName); !slices.Equal(got, zones) {
				t.Errorf("zones = %v, want %v", got, zones)
			}
			for i, z := range out.AvailabilityZones {
				wantID := "kumo1-az" + string(rune('1'+i))
				if aws.ToString(z.ZoneId) != wantID || aws.ToString(z.RegionName) != "kumo-1" || z.State != types.AvailabilityZoneStateAvailable {
					t.Errorf("zone %s: id %s region %s state %s, want %s kumo-1 available",
						aws.ToString(z.ZoneName), aws.ToString(z.ZoneId), aws.ToString(z.RegionName), z.State, wantID)
				}
			}
			out, err = c.DescribeAvailabilityZones(t.Context(), &ec2.DescribeAvailabilityZonesInput{Filters: []types.Filter{filter("zone-name", "kumo-1b")}})
			noErr(t, err)
			if len(out.AvailabilityZones) != 1 || aws.ToString(out.AvailabilityZones[0].ZoneId) != "kumo1-az2" {
				t.Errorf("zone-name=kumo-1b: got %+v, want kumo-1b (kumo1-az2)", out.AvailabilityZones)
			}
			_, err = c.DescribeAvailabilityZones(t.Context(), &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"kumo-1z"}})
			wantCode(t, err, "InvalidParameterValue")
		})

		t.Run("DescribeAccountAttributes", func(t *testing.T) {
			out, err := c.DescribeAccountAttributes(t.Context(), &ec2.DescribeAccountAttributesInput{})
			noErr(t, err)
			attrs := map[string][]string{}
			for _, a := range out.AccountAttributes {
				for _, v := range a.AttributeValues {
					attrs[aws.ToString(a.AttributeName)] = append(attrs[aws.ToString(a.AttributeName)], aws.ToString(v.AttributeValue))
				}
			}
			if got := attrs["supported-platforms"]; !slices.Equal(got, []string{"VPC"}) {
				t.Errorf("supported-platforms = %v, want [VPC]", got)
			}
			def := aws.ToString(defaultVPC(t, c).VpcId)
			if got := attrs["default-vpc"]; !slices.Equal(got, []string{def}) {
				t.Errorf("default-vpc = %v, want [%s]", got, def)
			}
		})

		t.Run("DescribeInstanceTypes", func(t *testing.T) {
			out, err := c.DescribeInstanceTypes(t.Context(), &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{types.InstanceTypeT3Micro}})
			noErr(t, err)
			if len(out.InstanceTypes) != 1 {
				t.Fatalf("t3.micro: got %d types", len(out.InstanceTypes))
			}
			it := out.InstanceTypes[0]
			if aws.ToInt32(it.VCpuInfo.DefaultVCpus) != 2 || aws.ToInt64(it.MemoryInfo.SizeInMiB) != 1024 {
				t.Errorf("t3.micro: %d vCPU, %d MiB; want 2 vCPU, 1024 MiB", aws.ToInt32(it.VCpuInfo.DefaultVCpus), aws.ToInt64(it.MemoryInfo.SizeInMiB))
			}

			out, err = c.DescribeInstanceTypes(t.Context(), &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{filter("vcpu-info.default-vcpus", "4")}})
			noErr(t, err)
			var four []string
			for _, it := range out.InstanceTypes {
				four = append(four, string(it.InstanceType))
			}
			slices.Sort(four)
			if !slices.Equal(four, []string{"m5.xlarge", "t3.xlarge"}) {
				t.Errorf("vcpu-info.default-vcpus=4: got %v, want [m5.xlarge t3.xlarge]", four)
			}

			_, err = c.DescribeInstanceTypes(t.Context(), &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"x9.enormous"}})
			wantCode(t, err, "InvalidInstanceType")

			seen := map[types.InstanceType]int{}
			in := &ec2.DescribeInstanceTypesInput{MaxResults: aws.Int32(5)}
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("DescribeInstanceTypes pagination does not end")
				}
				out, err := c.DescribeInstanceTypes(t.Context(), in)
				noErr(t, err)
				if len(out.InstanceTypes) > 5 {
					t.Errorf("page of %d types, MaxResults 5", len(out.InstanceTypes))
				}
				for _, it := range out.InstanceTypes {
					seen[it.InstanceType]++
				}
				if out.NextToken == nil {
					break
				}
				in.NextToken = out.NextToken
			}
			if len(seen) != 10 {
				t.Errorf("pagination saw %d distinct types, want 10: %v", len(seen), seen)
			}
			for it, n := range seen {
				if n != 1 {
					t.Errorf("type %s seen %d times", it, n)
				}
			}
		})
	})
}
