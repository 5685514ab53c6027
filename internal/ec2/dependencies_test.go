package ec2_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestDependentInterfaces: a subnet with interfaces and a group that an
// instance or an interface uses cannot be deleted (DependencyViolation);
// once they are gone, both can.
func TestDependentInterfaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newENIFixture(t, b)
		ctx := context.Background()
		g, err := f.c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("app"), VpcId: &f.vpc})
		if err != nil {
			t.Fatal(err)
		}
		eni := f.create(t, &ec2.CreateNetworkInterfaceInput{Groups: []string{*g.GroupId}})
		_, err = f.c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &f.sub})
		wantClientError(t, err, "DependencyViolation")
		_, err = f.c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: g.GroupId})
		wantClientError(t, err, "DependencyViolation")
		if _, err := f.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: eni.NetworkInterfaceId}); err != nil {
			t.Fatal(err)
		}

		run, err := f.c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &f.img, InstanceType: types.InstanceTypeT3Nano,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: &f.sub, SecurityGroupIds: []string{*g.GroupId}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: g.GroupId})
		wantClientError(t, err, "DependencyViolation")
		_, err = f.c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &f.sub})
		wantClientError(t, err, "DependencyViolation")
		if _, err := f.c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{*run.Instances[0].InstanceId}}); err != nil {
			t.Fatal(err)
		}
		observe(t, f.srv, f.a.ID, *run.Instances[0].InstanceId, "terminated", "deleted")
		if _, err := f.c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: g.GroupId}); err != nil {
			t.Errorf("group of a terminated instance: %v", err)
		}
		if _, err := f.c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &f.sub}); err != nil {
			t.Errorf("subnet of a terminated instance: %v", err)
		}
	})
}
