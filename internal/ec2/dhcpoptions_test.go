package ec2_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func dhcpConf(key string, values ...string) types.NewDhcpConfiguration {
	return types.NewDhcpConfiguration{Key: aws.String(key), Values: values}
}

func vpcDopt(t *testing.T, c *ec2.Client, vpc string) string {
	t.Helper()
	out, err := c.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{VpcIds: []string{vpc}})
	if err != nil || len(out.Vpcs) != 1 {
		t.Fatalf("describe %s: %+v %v", vpc, out, err)
	}
	return aws.ToString(out.Vpcs[0].DhcpOptionsId)
}

// dhcpValues flattens an options set to key → values.
func dhcpValues(o types.DhcpOptions) map[string]string {
	out := map[string]string{}
	for _, c := range o.DhcpConfigurations {
		var vs []string
		for _, v := range c.Values {
			vs = append(vs, aws.ToString(v.Value))
		}
		out[aws.ToString(c.Key)] = strings.Join(vs, ",")
	}
	return out
}

func TestDHCPOptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.Start(t, b)
		a, other := srv.NewAccount(t, "a"), srv.NewAccount(t, "b")
		c := a.EC2

		// The account's default set, used by the default VPC and new VPCs.
		def := vpcDopt(t, c, defaultVPCID(t, c))
		if !strings.HasPrefix(def, "dopt-") {
			t.Fatalf("default VPC's DhcpOptionsId = %q", def)
		}
		sets, err := c.DescribeDhcpOptions(ctx, &ec2.DescribeDhcpOptionsInput{DhcpOptionsIds: []string{def}})
		if err != nil || len(sets.DhcpOptions) != 1 {
			t.Fatalf("describe default set: %+v %v", sets, err)
		}
		want := map[string]string{"domain-name": controllertest.Region + ".compute.internal", "domain-name-servers": "AmazonProvidedDNS"}
		if got := dhcpValues(sets.DhcpOptions[0]); len(got) != 2 || got["domain-name"] != want["domain-name"] || got["domain-name-servers"] != want["domain-name-servers"] {
			t.Errorf("default set = %v, want %v", got, want)
		}
		vpc := mustVPC(t, c, "10.7.0.0/16")
		if got := vpcDopt(t, c, vpc); got != def {
			t.Errorf("new VPC uses %s, want %s", got, def)
		}

		for name, tc := range map[string][]types.NewDhcpConfiguration{
			"unknown option":       {dhcpConf("router", "10.0.0.1")},
			"five DNS servers":     {dhcpConf("domain-name-servers", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5")},
			"DNS server not an IP": {dhcpConf("domain-name-servers", "dns.example")},
			"bad NTP server":       {dhcpConf("ntp-servers", "pool.ntp.org")},
			"node type 3":          {dhcpConf("netbios-node-type", "3")},
			"no value":             {dhcpConf("domain-name")},
			"option twice":         {dhcpConf("domain-name", "a.example"), dhcpConf("domain-name", "b.example")},
		} {
			_, err := c.CreateDhcpOptions(ctx, &ec2.CreateDhcpOptionsInput{DhcpConfigurations: tc})
			if err == nil {
				t.Fatalf("%s: created", name)
			}
			wantClientError(t, err, "InvalidParameterValue")
		}

		created, err := c.CreateDhcpOptions(ctx, &ec2.CreateDhcpOptionsInput{
			DhcpConfigurations: []types.NewDhcpConfiguration{
				dhcpConf("domain-name", "corp.example"),
				dhcpConf("domain-name-servers", "10.7.0.2,AmazonProvidedDNS"),
				dhcpConf("ntp-servers", "10.7.0.3"),
				dhcpConf("netbios-node-type", "2"),
			},
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeDhcpOptions, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("corp")}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(created.DhcpOptions.DhcpOptionsId)
		if got := dhcpValues(*created.DhcpOptions); got["domain-name-servers"] != "10.7.0.2,AmazonProvidedDNS" || got["netbios-node-type"] != "2" ||
			aws.ToString(created.DhcpOptions.OwnerId) != a.ID || len(created.DhcpOptions.Tags) != 1 {
			t.Fatalf("created set: %+v", created.DhcpOptions)
		}

		// Filters.
		for _, f := range [][]types.Filter{
			{flt("key", "ntp-servers")},
			{flt("value", "corp.example")},
			{flt("tag:env", "corp")},
			{flt("dhcp-options-id", id), flt("owner-id", a.ID)},
		} {
			out, err := c.DescribeDhcpOptions(ctx, &ec2.DescribeDhcpOptionsInput{Filters: f})
			if err != nil || len(out.DhcpOptions) != 1 || aws.ToString(out.DhcpOptions[0].DhcpOptionsId) != id {
				t.Errorf("filter %s: %+v %v", aws.ToString(f[0].Name), out, err)
			}
		}

		// Associate, see it on the VPC and in the node's view, then go back to none.
		if _, err := c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{DhcpOptionsId: &id, VpcId: &vpc}); err != nil {
			t.Fatal(err)
		}
		if got := vpcDopt(t, c, vpc); got != id {
			t.Errorf("VPC uses %s after associating %s", got, id)
		}
		vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{flt("dhcp-options-id", id)}})
		if err != nil || len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].VpcId) != vpc {
			t.Errorf("vpcs with dhcp-options-id %s: %+v %v", id, vpcs, err)
		}
		var node store.VPCDHCP
		storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) (err error) {
			node, err = tx.DHCPForVPC(ctx, vpc)
			return err
		})
		if node.DHCPOptionsID != id || node.DomainName != "corp.example" || strings.Join(node.DomainNameServers, ",") != "10.7.0.2,AmazonProvidedDNS" || strings.Join(node.NTPServers, ",") != "10.7.0.3" {
			t.Errorf("node's view: %+v", node)
		}

		_, err = c.DeleteDhcpOptions(ctx, &ec2.DeleteDhcpOptionsInput{DhcpOptionsId: &id})
		wantClientError(t, err, "DependencyViolation")
		_, err = c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{DhcpOptionsId: aws.String("dopt-00000000000000000"), VpcId: &vpc})
		wantClientError(t, err, "InvalidDhcpOptionID.NotFound")
		_, err = c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{DhcpOptionsId: &id, VpcId: aws.String("vpc-00000000000000000")})
		wantClientError(t, err, "InvalidVpcID.NotFound")

		// Another account cannot see, use or delete the set.
		oc := other.EC2
		_, err = oc.DescribeDhcpOptions(ctx, &ec2.DescribeDhcpOptionsInput{DhcpOptionsIds: []string{id}})
		wantClientError(t, err, "InvalidDhcpOptionID.NotFound")
		_, err = oc.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{DhcpOptionsId: &id, VpcId: aws.String(defaultVPCID(t, oc))})
		wantClientError(t, err, "InvalidDhcpOptionID.NotFound")
		_, err = oc.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{DhcpOptionsId: aws.String("default"), VpcId: &vpc})
		wantClientError(t, err, "InvalidVpcID.NotFound")
		_, err = oc.DeleteDhcpOptions(ctx, &ec2.DeleteDhcpOptionsInput{DhcpOptionsId: &id})
		wantClientError(t, err, "InvalidDhcpOptionID.NotFound")

		if _, err := c.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{DhcpOptionsId: aws.String("default"), VpcId: &vpc}); err != nil {
			t.Fatal(err)
		}
		if got := vpcDopt(t, c, vpc); got != "default" {
			t.Errorf("VPC uses %s after associating default", got)
		}
		if _, err := c.DeleteDhcpOptions(ctx, &ec2.DeleteDhcpOptionsInput{DhcpOptionsId: &id}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteDhcpOptions(ctx, &ec2.DeleteDhcpOptionsInput{DhcpOptionsId: &id})
		wantClientError(t, err, "InvalidDhcpOptionID.NotFound")
		// A VPC using a set can still be deleted; the association goes with it.
		if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(mustVPC(t, c, "10.8.0.0/16"))}); err != nil {
			t.Fatal(err)
		}
	})
}
