package e2e_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// racers is how many clients race for each invariant.
const racers = 8

// race runs fn from racers goroutines released together and returns
// each one's error.
func race(fn func(i int) error) []error {
	errs := make([]error, racers)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// outcome counts successes and error codes.
func outcome(errs []error) map[string]int {
	m := map[string]int{}
	for _, err := range errs {
		m[outcomeCode(err)]++
	}
	return m
}

// outcomeCode is "ok", an API error's code, or the error's text.
func outcomeCode(err error) string {
	var ae smithy.APIError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ae):
		return ae.ErrorCode()
	}
	return err.Error()
}

// wantOutcome checks that exactly ok calls succeeded and the others failed with code.
func wantOutcome(t *testing.T, errs []error, ok int, code string) {
	t.Helper()
	got := outcome(errs)
	want := map[string]int{"ok": ok}
	if ok < racers {
		want[code] = racers - ok
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcome of %d racing calls = %v, want %v", racers, got, want)
	}
}

// TestConcurrentInvariants races clients against the checks the API makes
// before it writes (duplicates, overlaps, limits): the invariants must hold
// whatever the interleaving, on every backend.
func TestConcurrentInvariants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := start(t, b)
		c := acct.EC2
		vpc := createVPC(t, c, "10.80.0.0/16")

		t.Run("first use makes one default VPC", func(t *testing.T) {
			fresh := srv.NewAccount(t, "racing")
			errs := race(func(int) error {
				_, err := fresh.EC2.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{})
				return err
			})
			wantOutcome(t, errs, racers, "")
			out, err := fresh.EC2.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
			noErr(t, err)
			if len(out.Vpcs) != 1 {
				t.Errorf("racing first requests made %d VPCs, want 1", len(out.Vpcs))
			}
		})

		t.Run("same group name", func(t *testing.T) {
			errs := race(func(int) error {
				_, err := c.CreateSecurityGroup(t.Context(), &ec2.CreateSecurityGroupInput{GroupName: aws.String("racy"), Description: aws.String("d"), VpcId: aws.String(vpc)})
				return err
			})
			wantOutcome(t, errs, 1, "InvalidGroup.Duplicate")
		})

		t.Run("same key pair name", func(t *testing.T) {
			errs := race(func(int) error {
				_, err := c.CreateKeyPair(t.Context(), &ec2.CreateKeyPairInput{KeyName: aws.String("racy"), KeyType: types.KeyTypeEd25519})
				return err
			})
			wantOutcome(t, errs, 1, "InvalidKeyPair.Duplicate")
		})

		t.Run("overlapping subnets", func(t *testing.T) {
			errs := race(func(i int) error {
				// Every range contains 10.80.0.0/28.
				_, err := c.CreateSubnet(t.Context(), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(fmt.Sprintf("10.80.0.0/%d", 21+i)), AvailabilityZone: aws.String("kumo-1a")})
				return err
			})
			wantOutcome(t, errs, 1, "InvalidSubnet.Conflict")
			out, err := c.DescribeSubnets(t.Context(), &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", vpc)}})
			noErr(t, err)
			if len(out.Subnets) != 1 {
				t.Errorf("VPC has %d overlapping subnets: %v", len(out.Subnets), idsOf(out.Subnets, subnetID))
			}
		})

		t.Run("same rule", func(t *testing.T) {
			g := createGroup(t, c, "rule-race", vpc)
			errs := race(func(int) error {
				_, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(g),
					IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
				return err
			})
			wantOutcome(t, errs, 1, "InvalidPermission.Duplicate")
			rules, err := c.DescribeSecurityGroupRules(t.Context(), &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{filter("group-id", g), filter("is-egress", "false")}})
			noErr(t, err)
			if len(rules.SecurityGroupRules) != 1 {
				t.Errorf("group has %d copies of one rule", len(rules.SecurityGroupRules))
			}
		})

		t.Run("tag limit", func(t *testing.T) {
			fresh := createVPC(t, c, "10.81.0.0/16")
			errs := race(func(i int) error {
				var kv []string
				for j := range 10 {
					kv = append(kv, fmt.Sprintf("r%d-k%d", i, j), "v")
				}
				_, err := c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{fresh}, Tags: tagList(kv...)})
				return err
			})
			wantOutcome(t, errs, 5, "TagLimitExceeded")
			tags, err := c.DescribeTags(t.Context(), &ec2.DescribeTagsInput{Filters: []types.Filter{filter("resource-id", fresh)}})
			noErr(t, err)
			if len(tags.Tags) > 50 {
				t.Errorf("resource has %d tags, the limit is 50", len(tags.Tags))
			}
		})

		t.Run("access key limit", func(t *testing.T) {
			_, err := acct.IAM.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("keys")})
			noErr(t, err)
			errs := race(func(int) error {
				_, err := acct.IAM.CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{UserName: aws.String("keys")})
				return err
			})
			wantOutcome(t, errs, 2, "LimitExceeded")
			keys, err := acct.IAM.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{UserName: aws.String("keys")})
			noErr(t, err)
			if len(keys.AccessKeyMetadata) > 2 {
				t.Errorf("user has %d access keys, the limit is 2", len(keys.AccessKeyMetadata))
			}
		})

		t.Run("delete a VPC while a subnet is created in it", func(t *testing.T) {
			for round := range 5 {
				v := createVPC(t, c, fmt.Sprintf("10.%d.0.0/16", 90+round))
				errs := race(func(i int) error {
					if i == 0 {
						_, err := c.DeleteVpc(t.Context(), &ec2.DeleteVpcInput{VpcId: aws.String(v)})
						return err
					}
					_, err := c.CreateSubnet(t.Context(), &ec2.CreateSubnetInput{VpcId: aws.String(v), CidrBlock: aws.String(fmt.Sprintf("10.%d.%d.0/24", 90+round, i)), AvailabilityZone: aws.String("kumo-1a")})
					return err
				})
				for i, err := range errs {
					call := "CreateSubnet"
					if i == 0 {
						call = "DeleteVpc"
					}
					switch code := outcomeCode(err); code {
					case "ok", "DependencyViolation", "InvalidVpcID.NotFound":
					default:
						t.Errorf("round %d: %s failed with %s, want success, DependencyViolation or InvalidVpcID.NotFound", round, call, code)
					}
				}
				_, gone := c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{VpcIds: []string{v}})
				subnets, err := c.DescribeSubnets(t.Context(), &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", v)}})
				noErr(t, err)
				if gone != nil && len(subnets.Subnets) > 0 {
					t.Errorf("round %d: VPC %s was deleted but has %d subnets", round, v, len(subnets.Subnets))
				}
			}
		})

		t.Run("delete a group while a rule starts naming it", func(t *testing.T) {
			for round := range 5 {
				target := createGroup(t, c, fmt.Sprintf("target-%d", round), vpc)
				user := createGroup(t, c, fmt.Sprintf("user-%d", round), vpc)
				errs := race(func(i int) error {
					if i == 0 {
						_, err := c.DeleteSecurityGroup(t.Context(), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(target)})
						return err
					}
					_, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(user),
						IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(int32(i)), ToPort: aws.Int32(int32(i)),
							UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(target)}}}}})
					return err
				})
				_, gone := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{target}})
				rules, err := c.DescribeSecurityGroupRules(t.Context(), &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{filter("group-id", user), filter("is-egress", "false")}})
				noErr(t, err)
				if gone != nil && len(rules.SecurityGroupRules) > 0 {
					t.Errorf("round %d: group %s was deleted while %d rules still name it (outcome %v)", round, target, len(rules.SecurityGroupRules), outcome(errs))
				}
			}
		})
	})
}
