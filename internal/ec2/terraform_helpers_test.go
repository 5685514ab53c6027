package ec2_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// Helpers of the Terraform replays (terraform_*_test.go): each replays the
// calls /work/shared/reference/terraform-aws-provider.md measured for one
// resource of hashicorp/aws 5.45, in order, with the parameters it sends.

// step fails the test when a call the provider treats as fatal fails.
func step(t *testing.T, call string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s (fatal to Terraform): %v", call, err)
	}
}

// onlyOne is the check of a Read by id: call (the action and its id
// parameter) must have answered exactly the object asked for.
func onlyOne[T any](t *testing.T, call, id string, got []T, idOf func(T) *string) T {
	t.Helper()
	if len(got) != 1 || aws.ToString(idOf(got[0])) != id {
		t.Fatalf("%s=%s answered %+v", call, id, got)
	}
	return got[0]
}

// sameRead is the no-diff check: a second Read right after the first must
// answer the same thing.
func sameRead(t *testing.T, what string, first, second any) {
	t.Helper()
	if !reflect.DeepEqual(first, second) {
		t.Errorf("%s: a second read differs (perpetual diff)\nfirst:  %+v\nsecond: %+v", what, first, second)
	}
}

// skipIfUnsupported skips, naming the helper that owns the action, when an
// action answers UnsupportedOperation today; any other error is a failure.
func skipIfUnsupported(t *testing.T, err error, owner string) {
	t.Helper()
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "UnsupportedOperation" || ae.ErrorCode() == "InvalidAction") {
		t.Skipf("needs %s (answers %s today)", owner, ae.ErrorCode())
	}
}

// tagMap turns a tagSet into a map for comparing with what was sent.
func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, tg := range tags {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

// wantTags checks the tagSet holds exactly the tags sent: a tag the server
// adds by itself (not aws:-prefixed) is a perpetual diff.
func wantTags(t *testing.T, what string, got []types.Tag, want map[string]string) {
	t.Helper()
	m := tagMap(got)
	for k := range m {
		if strings.HasPrefix(k, "aws:") {
			delete(m, k)
		}
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("%s tags: got %v, want %v", what, m, want)
	}
}

func tagSpec(rt types.ResourceType, kv ...string) []types.TagSpecification {
	var tags []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return []types.TagSpecification{{ResourceType: rt, Tags: tags}}
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// attachGateway gives a VPC an attached internet gateway, which an elastic
// IP association needs (Gateway.NotAttached otherwise).
func attachGateway(t *testing.T, c *ec2.Client, vpc string) {
	t.Helper()
	ctx := context.Background()
	g, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: g.InternetGateway.InternetGatewayId, VpcId: &vpc}); err != nil {
		t.Fatal(err)
	}
}
