package bench

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kumo-cloud/kumo/internal/authz"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// tenStatements is a managed policy of ten statements on StopInstances by
// tag; only the last of the last policy matches team=blue.
func tenStatements(p int) string {
	var sts []string
	for s := 0; s < 10; s++ {
		team := fmt.Sprintf("team%d-%d", p, s)
		if p == 9 && s == 9 {
			team = "blue"
		}
		sts = append(sts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":["ec2:StopInstances","ec2:StartInstances"],"Resource":"arn:aws:ec2:*:*:instance/*",`+
			`"Condition":{"StringEquals":{"aws:ResourceTag/team":"%s"},"Bool":{"aws:SecureTransport":"false"},"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}`, s, team))
	}
	sts = append(sts, `{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}`)
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(sts, ",") + `]}`
}

// BenchmarkAuthorize10x10: the authorization of one StopInstances by a
// user whose three groups hold ten managed policies of ten statements
// (policies read from the store and the instance's tags looked up on
// every request, as the API server does), beside a DescribeSecurityGroups
// call by the same user through HTTP and SigV4.
func BenchmarkAuthorize10x10(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			srv := controllertest.Start(b, be)
			root := srv.NewAccount(b, "bench")
			ctx := context.Background()
			u, err := root.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev")})
			if err != nil {
				b.Fatal(err)
			}
			for g := 0; g < 3; g++ {
				name := fmt.Sprintf("group%d", g)
				if _, err := root.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name)}); err != nil {
					b.Fatal(err)
				}
				if _, err := root.IAM.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String("dev")}); err != nil {
					b.Fatal(err)
				}
			}
			for p := 0; p < 10; p++ {
				pol, err := root.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%d", p)), PolicyDocument: aws.String(tenStatements(p))})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := root.IAM.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(fmt.Sprintf("group%d", p%3)), PolicyArn: pol.Policy.Arn}); err != nil {
					b.Fatal(err)
				}
			}
			const inst = "i-00000000000000b1e"
			storetest.MustUpdate(b, srv.DB, func(ctx context.Context, tx *store.Tx) error {
				now := time.Now()
				if err := tx.InsertInstance(ctx, store.Instance{ID: inst, AccountID: root.ID, ReservationID: "r-1", InstanceType: "t3.micro",
					State: "running", DesiredPower: "running", StateChangedAt: now, LaunchTime: now, CreatedAt: now}); err != nil {
					return err
				}
				return tx.PutTag(ctx, store.Tag{AccountID: root.ID, ResourceID: inst, ResourceType: "instance", Key: "team", Value: "blue"})
			})
			call := authz.Call{Principal: identity.Principal{AccountID: root.ID, UserName: "dev", UserID: aws.ToString(u.User.UserId)},
				Service: "ec2", Operation: "StopInstances", Params: url.Values{"InstanceId.1": {inst}}, SourceIP: "127.0.0.1"}
			b.Run("authorize", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := srv.Authorizer.Authorize(ctx, call); err != nil {
						b.Fatal(err)
					}
				}
			})
			key, err := root.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dev")})
			if err != nil {
				b.Fatal(err)
			}
			dev := srv.Clients(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
			for name, c := range map[string]*ec2.Client{"describe-as-root": root.EC2, "describe-as-user": dev.EC2} {
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					for i := 0; i < b.N; i++ {
						if _, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
