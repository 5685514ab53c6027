package ec2_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func creditsOf(t *testing.T, c *ec2.Client, ids ...string) map[string]string {
	t.Helper()
	out, err := c.DescribeInstanceCreditSpecifications(context.Background(), &ec2.DescribeInstanceCreditSpecificationsInput{InstanceIds: ids})
	if err != nil {
		t.Fatalf("DescribeInstanceCreditSpecifications %v: %v", ids, err)
	}
	got := map[string]string{}
	for _, s := range out.InstanceCreditSpecifications {
		got[aws.ToString(s.InstanceId)] = aws.ToString(s.CpuCredits)
	}
	return got
}

// TestInstanceCreditSpecifications: burstable instances report their CPU
// credit option (t2 standard and t3 unlimited by default, or what
// RunInstances or ModifyInstanceCreditSpecification chose), kept per
// instance; types that are not burstable report standard and cannot be
// changed (InstanceCreditSpecification.NotSupported), as EC2.
func TestInstanceCreditSpecifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 64, 262144)
		a := srv.NewAccount(t, "a")
		c := a.EC2
		launch := func(it types.InstanceType, credits string) string {
			in := &ec2.RunInstancesInput{ImageId: &img, InstanceType: it}
			if credits != "" {
				in.CreditSpecification = &types.CreditSpecificationRequest{CpuCredits: &credits}
			}
			return *run(t, c, in).Instances[0].InstanceId
		}
		// t2 is not in the default catalogue (its default is TestDefaultCredits'); the value is case-insensitive.
		nano, t3, t3std, m5 := launch(types.InstanceTypeT3Nano, "Standard"), launch(types.InstanceTypeT3Micro, ""), launch(types.InstanceTypeT3Micro, "standard"), launch(types.InstanceTypeM5Large, "")
		want := map[string]string{nano: "standard", t3: "unlimited", t3std: "standard", m5: "standard"}
		if got := creditsOf(t, c, nano, t3, t3std, m5); len(got) != 4 || got[nano] != want[nano] || got[t3] != want[t3] || got[t3std] != want[t3std] || got[m5] != want[m5] {
			t.Fatalf("credit options %v, want %v", got, want)
		}
		// No ids: the instances whose option is unlimited.
		if got := creditsOf(t, c); len(got) != 1 || got[t3] != "unlimited" {
			t.Errorf("without ids: %v", got)
		}

		out, err := c.ModifyInstanceCreditSpecification(ctx, &ec2.ModifyInstanceCreditSpecificationInput{InstanceCreditSpecifications: []types.InstanceCreditSpecificationRequest{
			{InstanceId: &nano, CpuCredits: aws.String("unlimited")}, {InstanceId: &t3, CpuCredits: aws.String("standard")},
			{InstanceId: &m5, CpuCredits: aws.String("unlimited")}, {InstanceId: aws.String("i-0123456789abcdef0"), CpuCredits: aws.String("standard")}}})
		if err != nil || len(out.SuccessfulInstanceCreditSpecifications) != 2 || len(out.UnsuccessfulInstanceCreditSpecifications) != 2 {
			t.Fatalf("ModifyInstanceCreditSpecification: %+v %v", out, err)
		}
		codes := map[string]string{}
		for _, u := range out.UnsuccessfulInstanceCreditSpecifications {
			codes[aws.ToString(u.InstanceId)] = string(u.Error.Code)
		}
		if codes[m5] != "InstanceCreditSpecification.NotSupported" || codes["i-0123456789abcdef0"] != "InvalidInstanceID.NotFound" {
			t.Errorf("unsuccessful items: %v", codes)
		}
		if got := creditsOf(t, c, nano, t3, m5); got[nano] != "unlimited" || got[t3] != "standard" || got[m5] != "standard" {
			t.Errorf("after modify: %v", got)
		}

		// Bad values are refused as a whole.
		_, err = c.ModifyInstanceCreditSpecification(ctx, &ec2.ModifyInstanceCreditSpecificationInput{InstanceCreditSpecifications: []types.InstanceCreditSpecificationRequest{
			{InstanceId: &nano, CpuCredits: aws.String("bursty")}}})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &img, InstanceType: types.InstanceTypeM5Large, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			CreditSpecification: &types.CreditSpecificationRequest{CpuCredits: aws.String("unlimited")}})
		wantClientError(t, err, "InstanceCreditSpecification.NotSupported")
		_, err = c.DescribeInstanceCreditSpecifications(ctx, &ec2.DescribeInstanceCreditSpecificationsInput{InstanceIds: []string{"i-0123456789abcdef0"}})
		wantClientError(t, err, "InvalidInstanceID.NotFound")

		// The option is the instance's: a stop keeps it.
		observe(t, srv, a.ID, nano, "running", "running")
		if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{nano}}); err != nil {
			t.Fatal(err)
		}
		if got := creditsOf(t, c, nano); got[nano] != "unlimited" {
			t.Errorf("after stop: %v", got)
		}
	})
}
