package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestPagination walks DescribeSecurityGroups page by page and checks
// MaxResults' bounds and NextToken's validation.
func TestPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := start(t, b)
		c := acct.EC2
		want := map[string]bool{}
		for i := range 12 {
			want[createGroup(t, c, fmt.Sprintf("page-%02d", i), "")] = true
		}
		want[defaultGroupID(t, c)] = true

		seen := map[string]int{}
		in := &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(5)}
		pages := 0
		for {
			pages++
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			out, err := c.DescribeSecurityGroups(t.Context(), in)
			noErr(t, err)
			if len(out.SecurityGroups) > 5 {
				t.Errorf("page %d has %d groups, MaxResults is 5", pages, len(out.SecurityGroups))
			}
			for _, g := range out.SecurityGroups {
				seen[aws.ToString(g.GroupId)]++
			}
			if aws.ToString(out.NextToken) == "" {
				break
			}
			in.NextToken = out.NextToken
		}
		if pages != 3 {
			t.Errorf("13 groups in pages of 5 took %d pages, want 3", pages)
		}
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("group %s seen %d times, want once", id, seen[id])
			}
		}
		if len(seen) != len(want) {
			t.Errorf("pagination saw %d groups, want %d", len(seen), len(want))
		}

		// The SDK's paginator agrees.
		p := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(5)})
		n := 0
		for p.HasMorePages() {
			out, err := p.NextPage(t.Context())
			noErr(t, err)
			n += len(out.SecurityGroups)
		}
		if n != len(want) {
			t.Errorf("SDK paginator saw %d groups, want %d", n, len(want))
		}

		for _, max := range []int32{4, 0, -1, 1001} {
			_, err := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(max)})
			wantCode(t, err, "InvalidParameterValue")
		}
		for _, tok := range []string{"garbage!", "bm90IGEgdG9rZW4", "%%%"} {
			_, err := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(5), NextToken: aws.String(tok)})
			wantCode(t, err, "InvalidPaginationToken")
		}
	})
}

// defaultGroupID returns the id of the default VPC's default group.
func defaultGroupID(t *testing.T, c *ec2.Client) string {
	t.Helper()
	out, err := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})
	noErr(t, err)
	return aws.ToString(out.SecurityGroups[0].GroupId)
}

// TestDryRun checks that DryRun answers DryRunOperation and changes nothing.
func TestDryRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := start(t, b)
		c := acct.EC2
		dry := aws.Bool(true)

		_, err := c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{DryRun: dry})
		wantCode(t, err, "DryRunOperation")
		_, err = c.CreateVpc(t.Context(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16"), DryRun: dry})
		wantCode(t, err, "DryRunOperation")
		_, err = c.CreateSecurityGroup(t.Context(), &ec2.CreateSecurityGroupInput{GroupName: aws.String("dry"), Description: aws.String("d"), DryRun: dry})
		wantCode(t, err, "DryRunOperation")
		_, err = c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("dry"), DryRun: dry})
		wantCode(t, err, "DryRunOperation")

		vpcs, err := c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
		noErr(t, err)
		if len(vpcs.Vpcs) != 1 || !aws.ToBool(vpcs.Vpcs[0].IsDefault) {
			t.Errorf("after dry runs the account has VPCs %v, want only the default one", idsOf(vpcs.Vpcs, vpcID))
		}
		groups, err := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("group-name", "dry")}})
		noErr(t, err)
		if len(groups.SecurityGroups) != 0 {
			t.Errorf("a dry run created group %v", idsOf(groups.SecurityGroups, groupID))
		}
		keys, err := c.DescribeKeyPairs(t.Context(), &ec2.DescribeKeyPairsInput{})
		noErr(t, err)
		if len(keys.KeyPairs) != 0 {
			t.Errorf("a dry run created key pair %v", idsOf(keys.KeyPairs, keyName))
		}
		// Now for real.
		createGroup(t, c, "dry", "")
	})
}

// TestAPIErrors covers the errors every action shares: unknown actions
// and parameters, missing and malformed values, and the request id every
// answer carries.
func TestAPIErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := start(t, b)
		_, err := acct.EC2.DescribeTransitGateways(t.Context(), &ec2.DescribeTransitGatewaysInput{})
		wantCode(t, err, "UnsupportedOperation")

		raw := newRawClient(srv, acct.KeyID, acct.Secret)
		for _, tc := range []struct {
			name   string
			params []string // Action first, then key, value pairs
			code   string
		}{
			{"unknown action", []string{"NoSuchThing"}, "InvalidAction"},
			{"unknown parameter", []string{"DescribeVpcs", "Bogus", "1"}, "UnknownParameter"},
			{"misspelt parameter", []string{"DescribeVpcs", "VpcID.1", "vpc-0123456789abcdef0"}, "UnknownParameter"},
			{"missing parameter", []string{"CreateSecurityGroup", "GroupName", "x"}, "MissingParameter"},
			{"integer expected", []string{"DescribeVpcs", "MaxResults", "abc"}, "InvalidParameterValue"},
			{"boolean expected", []string{"DescribeKeyPairs", "IncludePublicKey", "maybe"}, "InvalidParameterValue"},
			{"not implemented", []string{"CreateTransitGateway", "Description", "x"}, "UnsupportedOperation"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := raw.call(t, "ec2", ec2Params(tc.params[0], tc.params[1:]...))
				wantRawError(t, r, http.StatusBadRequest, tc.code)
				if !r.EC2Envelope {
					t.Errorf("not an EC2 error envelope: %s", r.Body)
				}
			})
		}

		t.Run("no Action", func(t *testing.T) {
			r := raw.call(t, "ec2", ec2Params("")) // Action= (empty)
			if r.Status < 400 || r.Status >= 500 || r.Code == "" {
				t.Errorf("empty Action: HTTP %d %s, want a 4xx error", r.Status, r.Code)
			}
			wantRequestID(t, r)
		})

		t.Run("request ids on success", func(t *testing.T) {
			for _, action := range []string{"DescribeVpcs", "DescribeRegions", "DescribeSecurityGroups"} {
				r := raw.call(t, "ec2", ec2Params(action))
				if r.Status != http.StatusOK || r.Code != "" || r.Root != action+"Response" {
					t.Errorf("%s: HTTP %d %s, root %s", action, r.Status, r.Code, r.Root)
				}
				wantRequestID(t, r)
			}
			r := raw.call(t, "sts", queryParams("GetCallerIdentity", "2011-06-15"))
			if r.Status != http.StatusOK || !strings.Contains(string(r.Body), acct.ID) {
				t.Errorf("GetCallerIdentity: HTTP %d %s", r.Status, r.Body)
			}
			wantRequestID(t, r)
			r = raw.call(t, "iam", queryParams("NoSuchThing", "2010-05-08"))
			if r.Status != http.StatusBadRequest || r.Code != "InvalidAction" || r.Root != "ErrorResponse" {
				t.Errorf("IAM unknown action: HTTP %d %s, root %s; want 400 InvalidAction in an ErrorResponse", r.Status, r.Code, r.Root)
			}
			wantRequestID(t, r)
		})

		t.Run("ids are unique", func(t *testing.T) {
			seen := map[string]bool{}
			for range 20 {
				r := raw.call(t, "ec2", ec2Params("DescribeRegions"))
				if seen[r.HeaderID] {
					t.Fatalf("request id %s reused", r.HeaderID)
				}
				seen[r.HeaderID] = true
			}
		})
	})
}
