package ec2_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestClientTokenRetries retries every action Kumo implements whose model
// input has ClientToken (CopyImage, CreateNetworkInterface,
// CreateRouteTable, ImportImage, ImportSnapshot,
// ModifyInstanceCreditSpecification, RunInstances) the way an SDK retries
// after a lost response: the same token and parameters give the same
// resource (and make no second one), the same token with other parameters
// is IdempotentParameterMismatch. CreateRouteTable used to make a second
// table.
func TestClientTokenRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 32, 65536)
		c := srv.NewAccount(t, "a").EC2
		vpc := mustVPC(t, c, "10.40.0.0/16")
		vpc2 := mustVPC(t, c, "10.41.0.0/16")
		sub := mustSubnet(t, c, vpc, "10.40.1.0/24")
		sub2 := mustSubnet(t, c, vpc, "10.40.2.0/24")
		inst := *run(t, c, &ec2.RunInstancesInput{ImageId: &img, InstanceType: types.InstanceTypeT3Micro}).Instances[0].InstanceId
		bucket := func(key string) *types.UserBucket {
			return &types.UserBucket{S3Bucket: aws.String("b"), S3Key: aws.String(key)}
		}

		cases := []struct {
			action string
			// call sends the request with token and the first or the other
			// parameters, and returns what it made.
			call func(token string, other bool) (string, error)
			// count is how many resources of the kind exist.
			count func() int
		}{
			{"CreateRouteTable", func(tok string, other bool) (string, error) {
				v := vpc
				if other {
					v = vpc2
				}
				out, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &v, ClientToken: &tok})
				if err != nil {
					return "", err
				}
				if aws.ToString(out.ClientToken) != tok {
					t.Errorf("CreateRouteTable echoes token %q", aws.ToString(out.ClientToken))
				}
				return aws.ToString(out.RouteTable.RouteTableId), nil
			}, func() int { return len(describeRTs(t, c, flt("vpc-id", vpc))) }},
			{"CreateVolume", func(tok string, other bool) (string, error) {
				size := int32(10)
				if other {
					size = 20
				}
				out, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("kumo-1a"), Size: &size, ClientToken: &tok})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.VolumeId), nil
			}, func() int {
				out, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{flt("status", "available")}})
				if err != nil {
					t.Fatal(err)
				}
				return len(out.Volumes)
			}},
			{"CreateNetworkAcl", func(tok string, other bool) (string, error) {
				v := vpc
				if other {
					v = vpc2
				}
				out, err := c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: &v, ClientToken: &tok})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.NetworkAcl.NetworkAclId), nil
			}, func() int {
				out, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{flt("vpc-id", vpc)}})
				if err != nil {
					t.Fatalf("DescribeNetworkAcls: %v", err)
				}
				return len(out.NetworkAcls)
			}},
			{"RunInstances", func(tok string, other bool) (string, error) {
				it := types.InstanceTypeT3Micro
				if other {
					it = types.InstanceTypeT3Small
				}
				out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &img, InstanceType: it, SubnetId: &sub,
					MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: &tok})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.Instances[0].InstanceId), nil
			}, func() int { return len(describeInstances(t, c, flt("subnet-id", sub))) }},
			{"CreateNetworkInterface", func(tok string, other bool) (string, error) {
				s := sub
				if other {
					s = sub2
				}
				out, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &s, ClientToken: &tok})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.NetworkInterface.NetworkInterfaceId), nil
			}, func() int {
				out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{flt("status", "available")}})
				if err != nil {
					t.Fatal(err)
				}
				return len(out.NetworkInterfaces)
			}},
			{"CopyImage", func(tok string, other bool) (string, error) {
				name := "copy-1"
				if other {
					name = "copy-2"
				}
				out, err := c.CopyImage(ctx, &ec2.CopyImageInput{Name: &name, SourceImageId: &img, SourceRegion: aws.String(controllertest.Region), ClientToken: &tok})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.ImageId), nil
			}, func() int { return len(describeImages(t, c, &ec2.DescribeImagesInput{Owners: []string{"self"}})) }},
			{"ImportImage", func(tok string, other bool) (string, error) {
				key := "disk.qcow2"
				if other {
					key = "other.qcow2"
				}
				out, err := c.ImportImage(ctx, &ec2.ImportImageInput{ClientToken: &tok,
					DiskContainers: []types.ImageDiskContainer{{Format: aws.String("qcow2"), UserBucket: bucket(key)}}})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.ImportTaskId), nil
			}, func() int {
				out, err := c.DescribeImportImageTasks(ctx, &ec2.DescribeImportImageTasksInput{})
				if err != nil {
					t.Fatal(err)
				}
				return len(out.ImportImageTasks)
			}},
			{"ImportSnapshot", func(tok string, other bool) (string, error) {
				key := "disk.raw"
				if other {
					key = "other.raw"
				}
				out, err := c.ImportSnapshot(ctx, &ec2.ImportSnapshotInput{ClientToken: &tok,
					DiskContainer: &types.SnapshotDiskContainer{Format: aws.String("raw"), UserBucket: bucket(key)}})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.ImportTaskId), nil
			}, func() int {
				out, err := c.DescribeImportSnapshotTasks(ctx, &ec2.DescribeImportSnapshotTasksInput{})
				if err != nil {
					t.Fatal(err)
				}
				return len(out.ImportSnapshotTasks)
			}},
			{"ModifyInstanceCreditSpecification", func(tok string, other bool) (string, error) {
				credits := "standard"
				if other {
					credits = "unlimited"
				}
				out, err := c.ModifyInstanceCreditSpecification(ctx, &ec2.ModifyInstanceCreditSpecificationInput{ClientToken: &tok,
					InstanceCreditSpecifications: []types.InstanceCreditSpecificationRequest{{InstanceId: &inst, CpuCredits: &credits}}})
				if err != nil {
					return "", err
				}
				if len(out.SuccessfulInstanceCreditSpecifications) != 1 {
					t.Errorf("ModifyInstanceCreditSpecification: %+v", out.UnsuccessfulInstanceCreditSpecifications)
				}
				return aws.ToString(out.SuccessfulInstanceCreditSpecifications[0].InstanceId), nil
			}, func() int { return 1 }},
		}
		for _, tc := range cases {
			t.Run(tc.action, func(t *testing.T) {
				before := tc.count()
				tok := "retry-" + tc.action
				first, err := tc.call(tok, false)
				if err != nil {
					t.Fatalf("first request: %v", err)
				}
				again, err := tc.call(tok, false)
				if err != nil || again != first {
					t.Fatalf("retry with the same token: %q %v, want %q", again, err, first)
				}
				if got := tc.count(); got != before+1 && tc.action != "ModifyInstanceCreditSpecification" {
					t.Errorf("%d resources after a request and its retry, want %d", got, before+1)
				}
				_, err = tc.call(tok, true)
				wantClientError(t, err, "IdempotentParameterMismatch")
				other, err := tc.call(tok+"-2", true)
				if err != nil || other == "" || (other == first && tc.action != "ModifyInstanceCreditSpecification") {
					t.Fatalf("a new token: %q %v", other, err)
				}
			})
		}
		_, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpc, ClientToken: aws.String(strings.Repeat("t", 65))})
		wantClientError(t, err, "InvalidParameterValue")
	})
}

// TestClientTokenAuditIsComplete fails when an action with a ClientToken
// in its model input is implemented without joining TestClientTokenRetries.
func TestClientTokenAuditIsComplete(t *testing.T) {
	covered := map[string]bool{"CopyImage": true, "CreateNetworkAcl": true, "CreateNetworkInterface": true, "CreateRouteTable": true, "ImportImage": true,
		"ImportSnapshot": true, "ModifyInstanceCreditSpecification": true, "RunInstances": true, "CreateVolume": true}
	svc := reflect.TypeFor[ec2api.Service]()
	for i := range svc.NumMethod() {
		m := svc.Method(i)
		in := m.Type.In(1).Elem()
		if _, ok := in.FieldByName("ClientToken"); ok && !covered[m.Name] {
			t.Errorf("%s takes a ClientToken but TestClientTokenRetries does not retry it", m.Name)
		}
	}
}
