package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// eachBackend runs a benchmark on SQLite and, when configured, PostgreSQL.
func eachBackend(b *testing.B, fn func(b *testing.B, acct *controllertest.Account)) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			srv := controllertest.Start(b, be)
			fn(b, srv.NewAccount(b, "bench"))
		})
	}
}

func reportRate(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkDescribeSecurityGroups: a Describe over 20 groups with rules and tags.
func BenchmarkDescribeSecurityGroups(b *testing.B) {
	eachBackend(b, func(b *testing.B, acct *controllertest.Account) {
		ctx := context.Background()
		for i := 0; i < 20; i++ {
			g, err := acct.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(fmt.Sprintf("g%d", i)), Description: aws.String("bench")})
			if err != nil {
				b.Fatal(err)
			}
			_, err = acct.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g.GroupId, IpProtocol: aws.String("tcp"),
				FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("10.0.0.0/8")})
			if err != nil {
				b.Fatal(err)
			}
			_, err = acct.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{*g.GroupId}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			out, err := acct.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
				Filters: []types.Filter{{Name: aws.String("tag:team"), Values: []string{"blue"}}}})
			if err != nil {
				b.Fatal(err)
			}
			if len(out.SecurityGroups) != 20 {
				b.Fatalf("describe returned %d groups, want 20", len(out.SecurityGroups))
			}
		}
		reportRate(b, start)
	})
}

// BenchmarkCreateKeyPair: key generation, a write transaction and the response.
func BenchmarkCreateKeyPair(b *testing.B) {
	for _, kt := range []types.KeyType{types.KeyTypeEd25519, types.KeyTypeRsa} {
		b.Run(string(kt), func(b *testing.B) {
			eachBackend(b, func(b *testing.B, acct *controllertest.Account) {
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					_, err := acct.EC2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(fmt.Sprintf("k%d", i)), KeyType: kt})
					if err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b, start)
			})
		})
	}
}
