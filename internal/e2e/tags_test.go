package e2e_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestTags covers CreateTags, DescribeTags and DeleteTags on every taggable
// resource type, their validation and DescribeTags' pagination.
func TestTags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := start(t, b)
		c := acct.EC2
		vpc := createVPC(t, c, "10.40.0.0/16")
		subnet := createSubnet(t, c, vpc, "10.40.0.0/24", "kumo-1a")
		sg := createGroup(t, c, "tagged", vpc)
		rule, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg),
			IpPermissions: []types.IpPermission{tcpFrom(80, 80, "0.0.0.0/0")}})
		noErr(t, err)
		sgr := aws.ToString(rule.SecurityGroupRules[0].SecurityGroupRuleId)
		key, err := c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("tagged"), KeyType: types.KeyTypeEd25519})
		noErr(t, err)
		kp := aws.ToString(key.KeyPairId)

		resources := map[string]string{vpc: "vpc", subnet: "subnet", sg: "security-group", sgr: "security-group-rule", kp: "key-pair"}
		all := []string{vpc, subnet, sg, sgr, kp}
		_, err = c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: all, Tags: tagList("env", "prod", "Name", "")})
		noErr(t, err)

		describe := func(t *testing.T, filters ...types.Filter) []types.TagDescription {
			t.Helper()
			out, err := c.DescribeTags(t.Context(), &ec2.DescribeTagsInput{Filters: filters})
			noErr(t, err)
			return out.Tags
		}

		t.Run("CreateTags on every type", func(t *testing.T) {
			tags := describe(t, filter("key", "env"))
			if got := idsOf(tags, tagResource); !slices.Equal(got, sorted(all...)) {
				t.Errorf("key=env on %v, want %v", got, sorted(all...))
			}
			for _, d := range tags {
				if want := resources[aws.ToString(d.ResourceId)]; string(d.ResourceType) != want || aws.ToString(d.Value) != "prod" {
					t.Errorf("tag on %s: type %s value %q, want %s prod", aws.ToString(d.ResourceId), d.ResourceType, aws.ToString(d.Value), want)
				}
			}
			// The resources show them too.
			if got := tagsOf(group(t, c, sg).Tags); !maps.Equal(got, map[string]string{"env": "prod", "Name": ""}) {
				t.Errorf("group tags = %v", got)
			}
			rules, err := c.DescribeSecurityGroupRules(t.Context(), &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{sgr}})
			noErr(t, err)
			if got := tagsOf(rules.SecurityGroupRules[0].Tags); got["env"] != "prod" {
				t.Errorf("rule tags = %v", got)
			}
		})

		t.Run("DescribeTags filters", func(t *testing.T) {
			// The lookup Terraform does: one resource, one key.
			tags := describe(t, filter("resource-id", vpc), filter("key", "env"))
			if len(tags) != 1 || aws.ToString(tags[0].ResourceId) != vpc || aws.ToString(tags[0].Value) != "prod" {
				t.Errorf("resource-id+key = %+v", tags)
			}
			if tags := describe(t, filter("resource-type", "security-group-rule")); len(tags) != 2 {
				t.Errorf("resource-type=security-group-rule: %d tags, want 2", len(tags))
			}
			if tags := describe(t, filter("value", "prod")); len(tags) != len(all) {
				t.Errorf("value=prod: %d tags, want %d", len(tags), len(all))
			}
			if tags := describe(t, filter("value", "")); len(tags) != len(all) {
				t.Errorf("value='': %d tags, want %d (the empty Name tags)", len(tags), len(all))
			}
			_, err := c.DescribeTags(t.Context(), &ec2.DescribeTagsInput{Filters: []types.Filter{filter("colour", "red")}})
			wantCode(t, err, "InvalidParameterValue")
		})

		t.Run("overwrite and DeleteTags", func(t *testing.T) {
			_, err := c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{subnet}, Tags: tagList("env", "dev", "tier", "db")})
			noErr(t, err)
			if tags := describe(t, filter("resource-id", subnet)); len(tags) != 3 {
				t.Errorf("subnet has %d tags, want 3 (env overwritten, Name, tier)", len(tags))
			}
			// A value that does not match removes nothing.
			_, err = c.DeleteTags(t.Context(), &ec2.DeleteTagsInput{Resources: []string{subnet}, Tags: tagList("env", "prod")})
			noErr(t, err)
			if tags := describe(t, filter("resource-id", subnet), filter("key", "env")); len(tags) != 1 || aws.ToString(tags[0].Value) != "dev" {
				t.Errorf("DeleteTags env=prod on env=dev: left %+v, want env=dev", tags)
			}
			_, err = c.DeleteTags(t.Context(), &ec2.DeleteTagsInput{Resources: []string{subnet}, Tags: tagList("env", "dev")})
			noErr(t, err)
			// A key without a value removes whatever the value.
			_, err = c.DeleteTags(t.Context(), &ec2.DeleteTagsInput{Resources: []string{subnet}, Tags: []types.Tag{{Key: aws.String("tier")}}})
			noErr(t, err)
			if tags := describe(t, filter("resource-id", subnet)); len(tags) != 1 || aws.ToString(tags[0].Key) != "Name" {
				t.Errorf("after deleting env and tier the subnet has %+v, want only Name", tags)
			}
			// No tags at all removes every tag.
			_, err = c.DeleteTags(t.Context(), &ec2.DeleteTagsInput{Resources: []string{subnet, kp}})
			noErr(t, err)
			if tags := describe(t, filter("resource-id", subnet, kp)); len(tags) != 0 {
				t.Errorf("DeleteTags without tags left %+v", tags)
			}
			if tags := describe(t, filter("resource-id", vpc)); len(tags) != 2 {
				t.Errorf("DeleteTags on other resources touched the VPC's: %+v", tags)
			}
		})

		t.Run("errors", func(t *testing.T) {
			for _, tc := range []struct {
				name      string
				resources []string
				tags      []types.Tag
				code      string
			}{
				{"aws: prefix", []string{vpc}, tagList("aws:cloudformation:stack-name", "x"), "InvalidParameterValue"},
				{"AWS: prefix", []string{vpc}, tagList("AWS:x", "x"), "InvalidParameterValue"},
				{"empty key", []string{vpc}, tagList("", "x"), "InvalidParameterValue"},
				{"key too long", []string{vpc}, tagList(string(make([]byte, 129)), "x"), "InvalidParameterValue"},
				{"unknown prefix", []string{"tgw-0123456789abcdef0"}, tagList("k", "v"), "InvalidID"},
				{"nonexistent volume", []string{"vol-0123456789abcdef0"}, tagList("k", "v"), "InvalidVolume.NotFound"},
				{"nonexistent instance", []string{"i-0123456789abcdef0"}, tagList("k", "v"), "InvalidInstanceID.NotFound"},
				{"no prefix", []string{"banana"}, tagList("k", "v"), "InvalidID"},
				{"nonexistent vpc", []string{"vpc-0123456789abcdef0"}, tagList("k", "v"), "InvalidVpcID.NotFound"},
				{"nonexistent subnet", []string{"subnet-0123456789abcdef0"}, tagList("k", "v"), "InvalidSubnetID.NotFound"},
				{"nonexistent group", []string{"sg-0123456789abcdef0"}, tagList("k", "v"), "InvalidGroup.NotFound"},
				{"nonexistent rule", []string{"sgr-0123456789abcdef0"}, tagList("k", "v"), "InvalidSecurityGroupRuleId.NotFound"},
				{"nonexistent key pair", []string{"key-0123456789abcdef0"}, tagList("k", "v"), "InvalidKeyPair.NotFound"},
				{"one bad resource among good ones", []string{vpc, "vpc-0123456789abcdef0"}, tagList("k", "v"), "InvalidVpcID.NotFound"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: tc.resources, Tags: tc.tags})
					wantCode(t, err, tc.code)
				})
			}
			if tags := describe(t, filter("key", "k")); len(tags) != 0 {
				t.Errorf("failed CreateTags calls left tags: %+v", tags)
			}
			_, err := c.DeleteTags(t.Context(), &ec2.DeleteTagsInput{Resources: []string{"vpc-0123456789abcdef0"}})
			wantCode(t, err, "InvalidVpcID.NotFound")
		})

		t.Run("TagLimitExceeded", func(t *testing.T) {
			many := func(n int, prefix string) []types.Tag {
				var kv []string
				for i := range n {
					kv = append(kv, fmt.Sprintf("%s%02d", prefix, i), "v")
				}
				return tagList(kv...)
			}
			fresh := createVPC(t, c, "10.41.0.0/16")
			_, err := c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{fresh}, Tags: many(51, "k")})
			wantCode(t, err, "TagLimitExceeded")
			if tags := describe(t, filter("resource-id", fresh)); len(tags) != 0 {
				t.Errorf("a refused CreateTags left %d tags", len(tags))
			}
			_, err = c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{fresh}, Tags: many(50, "k")})
			noErr(t, err)
			// Overwriting stays within the limit; one more key does not.
			_, err = c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{fresh}, Tags: many(50, "k")})
			noErr(t, err)
			_, err = c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{fresh}, Tags: tagList("one-more", "v")})
			wantCode(t, err, "TagLimitExceeded")
			_, err = c.CreateVpc(t.Context(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.42.0.0/16"),
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: many(51, "k")}}})
			wantCode(t, err, "TagLimitExceeded")
		})

		t.Run("pagination", func(t *testing.T) {
			fresh := createGroup(t, c, "paged", vpc)
			var kv []string
			for i := range 12 {
				kv = append(kv, fmt.Sprintf("page%02d", i), "x")
			}
			_, err := c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{fresh}, Tags: tagList(kv...)})
			noErr(t, err)
			seen := map[string]int{}
			in := &ec2.DescribeTagsInput{MaxResults: aws.Int32(5), Filters: []types.Filter{filter("resource-id", fresh)}}
			for pages := 1; ; pages++ {
				if pages > 5 {
					t.Fatal("pagination does not end")
				}
				out, err := c.DescribeTags(t.Context(), in)
				noErr(t, err)
				if len(out.Tags) > 5 {
					t.Errorf("page of %d tags, MaxResults 5", len(out.Tags))
				}
				for _, d := range out.Tags {
					seen[aws.ToString(d.Key)]++
				}
				if aws.ToString(out.NextToken) == "" {
					break
				}
				in.NextToken = out.NextToken
			}
			if len(seen) != 12 {
				t.Errorf("pagination saw %d tags, want 12", len(seen))
			}
			for k, n := range seen {
				if n != 1 {
					t.Errorf("tag %s seen %d times", k, n)
				}
			}
			// Unfiltered, across resources, too.
			total := len(describe(t))
			n := 0
			p := ec2.NewDescribeTagsPaginator(c, &ec2.DescribeTagsInput{MaxResults: aws.Int32(5)})
			for p.HasMorePages() {
				out, err := p.NextPage(t.Context())
				noErr(t, err)
				n += len(out.Tags)
			}
			if n != total {
				t.Errorf("paginated DescribeTags saw %d tags, unpaginated %d", n, total)
			}
		})

		t.Run("deleting a resource deletes its tags", func(t *testing.T) {
			g := createGroup(t, c, "short-lived", vpc)
			r, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(g),
				IpPermissions: []types.IpPermission{tcpFrom(1, 1, "10.0.0.0/8")}})
			noErr(t, err)
			rid := aws.ToString(r.SecurityGroupRules[0].SecurityGroupRuleId)
			_, err = c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{g, rid}, Tags: tagList("ephemeral", "yes")})
			noErr(t, err)
			_, err = c.DeleteSecurityGroup(t.Context(), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(g)})
			noErr(t, err)
			if tags := describe(t, filter("key", "ephemeral")); len(tags) != 0 {
				t.Errorf("tags of a deleted group and its rule remain: %+v", tags)
			}
			_, err = c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{rid}, Tags: tagList("k", "v")})
			wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
		})
	})
}
