package ec2_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestIamInstanceProfileAssociations: RunInstances with a profile by
// name, DescribeInstances' IamInstanceProfile, and Associate, Describe,
// Replace and Disassociate with EC2's shapes and errors.
func TestIamInstanceProfileAssociations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := t.Context()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		if _, err := a.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
		var arns []string
		for _, name := range []string{"web", "batch"} {
			p, err := a.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name), Path: aws.String("/app/")})
			if err != nil {
				t.Fatal(err)
			}
			arns = append(arns, aws.ToString(p.InstanceProfile.Arn))
		}

		_, err := a.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &img, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("nope")}})
		wantClientError(t, err, "InvalidParameterValue")
		out := run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img, IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web")}})
		id := aws.ToString(out.Instances[0].InstanceId)
		if p := out.Instances[0].IamInstanceProfile; p == nil || aws.ToString(p.Arn) != arns[0] {
			t.Errorf("RunInstances IamInstanceProfile = %+v, want %s", p, arns[0])
		}
		if got := describeInstances(t, a.EC2); len(got) != 1 || got[0].IamInstanceProfile == nil || aws.ToString(got[0].IamInstanceProfile.Arn) != arns[0] {
			t.Errorf("DescribeInstances IamInstanceProfile = %+v", got)
		}

		list, err := a.EC2.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{})
		if err != nil || len(list.IamInstanceProfileAssociations) != 1 {
			t.Fatalf("DescribeIamInstanceProfileAssociations = %+v, %v", list, err)
		}
		assoc := list.IamInstanceProfileAssociations[0]
		if aws.ToString(assoc.InstanceId) != id || assoc.State != types.IamInstanceProfileAssociationStateAssociated {
			t.Errorf("association = %+v", assoc)
		}
		_, err = a.EC2.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: &id,
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: aws.String(arns[1])}})
		wantClientError(t, err, "IncorrectState")

		rep, err := a.EC2.ReplaceIamInstanceProfileAssociation(ctx, &ec2.ReplaceIamInstanceProfileAssociationInput{AssociationId: assoc.AssociationId,
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: aws.String(arns[1])}})
		if err != nil || aws.ToString(rep.IamInstanceProfileAssociation.IamInstanceProfile.Arn) != arns[1] {
			t.Fatalf("Replace = %+v, %v", rep, err)
		}
		_, err = a.EC2.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: assoc.AssociationId})
		wantClientError(t, err, "InvalidAssociationID.NotFound") // replaced: the old id is gone
		filtered, err := a.EC2.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
			Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{id}}}})
		if err != nil || len(filtered.IamInstanceProfileAssociations) != 1 {
			t.Fatalf("filtered Describe = %+v, %v", filtered, err)
		}
		dis, err := a.EC2.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: rep.IamInstanceProfileAssociation.AssociationId})
		if err != nil || dis.IamInstanceProfileAssociation.State != types.IamInstanceProfileAssociationStateDisassociating {
			t.Fatalf("Disassociate = %+v, %v", dis, err)
		}
		if got := describeInstances(t, a.EC2); got[0].IamInstanceProfile != nil {
			t.Errorf("after Disassociate, IamInstanceProfile = %+v", got[0].IamInstanceProfile)
		}
		_, err = a.EC2.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: &id,
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::000000000000:instance-profile/app/web")}})
		wantClientError(t, err, "InvalidParameterValue") // another account's
		assoc2, err := a.EC2.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: &id,
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: aws.String(arns[0])}})
		if err != nil || aws.ToString(assoc2.IamInstanceProfileAssociation.InstanceId) != id {
			t.Fatalf("Associate = %+v, %v", assoc2, err)
		}
		_, err = a.EC2.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String("i-0123456789abcdef0"),
			IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web")}})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
	})
}
