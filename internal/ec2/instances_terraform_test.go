package ec2_test

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestTerraformInstanceCalls replays what Terraform's aws_instance sends
// (../shared/reference/terraform-aws-provider.md): RunInstances with its
// fixed extras (an empty Placement.AvailabilityZone among them), then the
// Read pass's calls, each of which is fatal to the provider when it fails.
func TestTerraformInstanceCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		userData := base64.StdEncoding.EncodeToString([]byte("#cloud-config\nruncmd: [echo hi]\n"))
		out := run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img, InstanceType: types.InstanceTypeT3Micro,
			UserData: &userData, ClientToken: aws.String("terraform-20261125"),
			Placement:             &types.Placement{AvailabilityZone: aws.String("")},
			DisableApiTermination: aws.Bool(false), EbsOptimized: aws.Bool(false),
			Monitoring:          &types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(false)},
			HibernationOptions:  &types.HibernationOptionsRequest{Configured: aws.Bool(false)},
			CreditSpecification: &types.CreditSpecificationRequest{CpuCredits: aws.String("unlimited")},
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
				Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("tf")}}}}})
		id := *out.Instances[0].InstanceId

		if _, err := a.EC2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{types.InstanceTypeT3Micro}}); err != nil {
			t.Fatalf("DescribeInstanceTypes: %v", err)
		}
		tags, err := a.EC2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{flt("resource-id", id), flt("key", "aws:ec2launchtemplate:id")}})
		if err != nil || len(tags.Tags) != 0 {
			t.Fatalf("DescribeTags launch template: %v %v", tags, err)
		}
		for attr, check := range map[types.InstanceAttributeName]func(*ec2.DescribeInstanceAttributeOutput) bool{
			types.InstanceAttributeNameInstanceInitiatedShutdownBehavior: func(o *ec2.DescribeInstanceAttributeOutput) bool {
				return aws.ToString(o.InstanceInitiatedShutdownBehavior.Value) == "stop"
			},
			types.InstanceAttributeNameDisableApiStop: func(o *ec2.DescribeInstanceAttributeOutput) bool {
				return o.DisableApiStop != nil && !aws.ToBool(o.DisableApiStop.Value)
			},
			types.InstanceAttributeNameDisableApiTermination: func(o *ec2.DescribeInstanceAttributeOutput) bool {
				return o.DisableApiTermination != nil && !aws.ToBool(o.DisableApiTermination.Value)
			},
			types.InstanceAttributeNameUserData: func(o *ec2.DescribeInstanceAttributeOutput) bool {
				return o.UserData != nil && aws.ToString(o.UserData.Value) == userData // the same base64, byte for byte
			},
		} {
			o, err := a.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: attr})
			if err != nil || !check(o) {
				t.Errorf("DescribeInstanceAttribute %s: %+v %v", attr, o, err)
			}
		}
		// The credit option RunInstances asked for (the provider reads it when the type is burstable).
		credits, err := a.EC2.DescribeInstanceCreditSpecifications(ctx, &ec2.DescribeInstanceCreditSpecificationsInput{InstanceIds: []string{id}})
		if err != nil || len(credits.InstanceCreditSpecifications) != 1 || aws.ToString(credits.InstanceCreditSpecifications[0].CpuCredits) != "unlimited" ||
			aws.ToString(credits.InstanceCreditSpecifications[0].InstanceId) != id {
			t.Fatalf("DescribeInstanceCreditSpecifications: %+v %v", credits, err)
		}

		// Delete: termination protection off (tolerated either way), then terminate.
		if _, err := a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id,
			DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
			t.Errorf("ModifyInstanceAttribute DisableApiTermination=false: %v", err)
		}
		if _, err := a.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
	})
}
