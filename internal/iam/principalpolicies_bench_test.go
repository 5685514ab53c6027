package iam

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// tenStatements is a policy of ten statements, as the benchmark asks.
func tenStatements(i int) string {
	var st []string
	for j := range 10 {
		st = append(st, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":"ec2:StartInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"t%d-%d"}}}`, j, i, j))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
}

// BenchmarkPoliciesFor gathers the policies of a user in 10 groups, each
// group with an inline and an attached policy of 10 statements.
func BenchmarkPoliciesFor(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			s, ctx, acct := newService(b, backend)
			str := func(v string) *string { return &v }
			if _, err := s.CreateUser(ctx, &iamapi.CreateUserRequest{UserName: str("u")}); err != nil {
				b.Fatal(err)
			}
			for i := range 10 {
				g := fmt.Sprintf("g%d", i)
				pol, err := s.CreatePolicy(ctx, &iamapi.CreatePolicyRequest{PolicyName: str("p" + g), PolicyDocument: str(tenStatements(i))})
				if err != nil {
					b.Fatal(err)
				}
				_, err1 := s.CreateGroup(ctx, &iamapi.CreateGroupRequest{GroupName: str(g)})
				_, err2 := s.AddUserToGroup(ctx, &iamapi.AddUserToGroupRequest{GroupName: str(g), UserName: str("u")})
				_, err3 := s.PutGroupPolicy(ctx, &iamapi.PutGroupPolicyRequest{GroupName: str(g), PolicyName: str("inline"), PolicyDocument: str(tenStatements(i))})
				_, err4 := s.AttachGroupPolicy(ctx, &iamapi.AttachGroupPolicyRequest{GroupName: str(g), PolicyArn: pol.Policy.Arn})
				for _, err := range []error{err1, err2, err3, err4} {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			p := identity.Principal{AccountID: acct, UserName: "u"}
			b.ResetTimer()
			for b.Loop() {
				got, err := s.PoliciesFor(ctx, p)
				if err != nil || len(got.Identity) != 20 {
					b.Fatalf("%d policies, %v", len(got.Identity), err)
				}
			}
		})
	}
}
