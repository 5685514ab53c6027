package stsapi_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kumo-cloud/kumo/internal/awsapi/awsapitest"
	"github.com/kumo-cloud/kumo/internal/awsapi/stsapi"
)

// fakeSTS answers GetCallerIdentity; the embedded nil Service makes any
// other method fail the test loudly.
type fakeSTS struct{ stsapi.Service }

func (fakeSTS) GetCallerIdentity(context.Context, *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
	return &stsapi.GetCallerIdentityResponse{
		UserId:  aws.String("AIDAEXAMPLE"),
		Account: aws.String("123456789012"),
		Arn:     aws.String("arn:aws:iam::123456789012:user/alice"),
	}, nil
}

func TestSDKGetCallerIdentity(t *testing.T) {
	srv := awsapitest.NewServer(t, stsapi.Model(), fakeSTS{})
	out, err := sts.NewFromConfig(awsapitest.Config(srv.URL)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if aws.ToString(out.Account) != "123456789012" || aws.ToString(out.UserId) != "AIDAEXAMPLE" ||
		aws.ToString(out.Arn) != "arn:aws:iam::123456789012:user/alice" {
		t.Errorf("identity = %+v", out)
	}
}

func TestOperationLists(t *testing.T) {
	want := []string{"AssumeRole", "AssumeRoleWithWebIdentity", "DecodeAuthorizationMessage", "GetAccessKeyInfo", "GetCallerIdentity", "GetSessionToken"}
	if got := stsapi.ImplementedOperations(); !slices.Equal(got, want) {
		t.Errorf("ImplementedOperations = %v, want %v", got, want)
	}
	all := stsapi.AllOperations()
	m := stsapi.Model()
	if len(all) != len(m.Operations) {
		t.Errorf("AllOperations has %d, Model %d", len(all), len(m.Operations))
	}
	for _, op := range all {
		if m.Operations[op] == nil || m.Operations[op].Name != op {
			t.Errorf("Model lacks %s", op)
		}
	}
}
