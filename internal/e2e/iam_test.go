package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestIAM covers users, access keys and STS GetCallerIdentity.
func TestIAM(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := start(t, b)
		c := acct.IAM

		t.Run("GetCallerIdentity as root", func(t *testing.T) {
			out, err := acct.STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			noErr(t, err)
			if aws.ToString(out.Account) != acct.ID || aws.ToString(out.Arn) != "arn:aws:iam::"+acct.ID+":root" || aws.ToString(out.UserId) != acct.ID {
				t.Errorf("root identity = %s %s %s, want account %s, arn:aws:iam::%s:root", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId), acct.ID, acct.ID)
			}
		})

		var alice *iamtypes.User
		t.Run("CreateUser", func(t *testing.T) {
			out, err := c.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("alice"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
			noErr(t, err)
			alice = out.User
			if aws.ToString(alice.Arn) != "arn:aws:iam::"+acct.ID+":user/alice" || !strings.HasPrefix(aws.ToString(alice.UserId), "AIDA") || aws.ToString(alice.Path) != "/" {
				t.Errorf("CreateUser = %s %s path %s", aws.ToString(alice.Arn), aws.ToString(alice.UserId), aws.ToString(alice.Path))
			}
			_, err = c.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("alice")})
			wantCode(t, err, "EntityAlreadyExists")
			_, err = c.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("ALICE")})
			wantCode(t, err, "EntityAlreadyExists") // IAM names are case-insensitive
			for _, bad := range []string{"bad name", "slash/name", strings.Repeat("x", 65), "é"} {
				_, err = c.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String(bad)})
				wantCode(t, err, "ValidationError")
			}
			_, err = c.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("pathy"), Path: aws.String("no-slashes")})
			wantCode(t, err, "ValidationError")

			got, err := c.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("alice")})
			noErr(t, err)
			if aws.ToString(got.User.UserId) != aws.ToString(alice.UserId) {
				t.Errorf("GetUser alice = %s, created %s", aws.ToString(got.User.UserId), aws.ToString(alice.UserId))
			}
			_, err = c.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("nobody")})
			wantCode(t, err, "NoSuchEntity")
		})
		if alice == nil {
			t.FailNow()
		}

		t.Run("access keys of a user", func(t *testing.T) {
			k1, err := c.CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
			noErr(t, err)
			key := k1.AccessKey
			if aws.ToString(key.UserName) != "alice" || key.Status != iamtypes.StatusTypeActive || !strings.HasPrefix(aws.ToString(key.AccessKeyId), "AKIA") || len(aws.ToString(key.SecretAccessKey)) != 40 {
				t.Errorf("CreateAccessKey = %+v", key)
			}

			as := srv.Clients(aws.ToString(key.AccessKeyId), aws.ToString(key.SecretAccessKey))
			id, err := as.STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			noErr(t, err)
			if aws.ToString(id.Arn) != "arn:aws:iam::"+acct.ID+":user/alice" || aws.ToString(id.UserId) != aws.ToString(alice.UserId) || aws.ToString(id.Account) != acct.ID {
				t.Errorf("alice's identity = %s %s %s, want user/alice %s", aws.ToString(id.Arn), aws.ToString(id.UserId), aws.ToString(id.Account), aws.ToString(alice.UserId))
			}
			// GetUser without a name is the caller; like AWS, it needs
			// iam:GetUser on the caller's own ARN.
			_, err = as.IAM.GetUser(t.Context(), &iam.GetUserInput{})
			wantCode(t, err, "AccessDenied")
			noErr(t, second(c.PutUserPolicy(t.Context(), &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("self"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}]}`)})))
			me, err := as.IAM.GetUser(t.Context(), &iam.GetUserInput{})
			noErr(t, err)
			if aws.ToString(me.User.UserName) != "alice" {
				t.Errorf("alice's GetUser() = %s", aws.ToString(me.User.UserName))
			}

			k2, err := c.CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
			noErr(t, err)
			_, err = c.CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
			wantCode(t, err, "LimitExceeded")
			_, err = c.CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{UserName: aws.String("nobody")})
			wantCode(t, err, "NoSuchEntity")

			list, err := c.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{UserName: aws.String("alice")})
			noErr(t, err)
			var ids []string
			for _, m := range list.AccessKeyMetadata {
				ids = append(ids, aws.ToString(m.AccessKeyId))
				if aws.ToString(m.UserName) != "alice" || m.Status != iamtypes.StatusTypeActive {
					t.Errorf("listed key %+v", m)
				}
			}
			if want := sorted(aws.ToString(key.AccessKeyId), aws.ToString(k2.AccessKey.AccessKeyId)); !slices.Equal(sorted(ids...), want) {
				t.Errorf("ListAccessKeys = %v, want %v", ids, want)
			}
			// The root's keys are not alice's.
			rootKeys, err := c.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{})
			noErr(t, err)
			if len(rootKeys.AccessKeyMetadata) != 1 || aws.ToString(rootKeys.AccessKeyMetadata[0].AccessKeyId) != acct.KeyID {
				t.Errorf("root's keys = %+v, want only %s", rootKeys.AccessKeyMetadata, acct.KeyID)
			}

			_, err = c.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k2.AccessKey.AccessKeyId, Status: "Sleeping"})
			wantCode(t, err, "ValidationError")
			_, err = c.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAAA"), Status: iamtypes.StatusTypeInactive})
			wantCode(t, err, "NoSuchEntity")
			_, err = c.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k2.AccessKey.AccessKeyId, Status: iamtypes.StatusTypeInactive})
			noErr(t, err)
			list, err = c.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{UserName: aws.String("alice")})
			noErr(t, err)
			for _, m := range list.AccessKeyMetadata {
				want := iamtypes.StatusTypeActive
				if aws.ToString(m.AccessKeyId) == aws.ToString(k2.AccessKey.AccessKeyId) {
					want = iamtypes.StatusTypeInactive
				}
				if m.Status != want {
					t.Errorf("key %s is %s, want %s", aws.ToString(m.AccessKeyId), m.Status, want)
				}
			}

			_, err = c.DeleteUser(t.Context(), &iam.DeleteUserInput{UserName: aws.String("alice")})
			wantCode(t, err, "DeleteConflict")
			_, err = c.DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAAA")})
			wantCode(t, err, "NoSuchEntity")
			// A key is deleted through its owner only.
			_, err = c.DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{AccessKeyId: key.AccessKeyId})
			wantCode(t, err, "NoSuchEntity")
			for _, k := range []*string{key.AccessKeyId, k2.AccessKey.AccessKeyId} {
				_, err = c.DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k})
				noErr(t, err)
			}
			_, err = as.STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			wantCode(t, err, "InvalidClientTokenId")
			noErr(t, second(c.DeleteUserPolicy(t.Context(), &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("self")})))
			_, err = c.DeleteUser(t.Context(), &iam.DeleteUserInput{UserName: aws.String("alice")})
			noErr(t, err)
			_, err = c.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("alice")})
			wantCode(t, err, "NoSuchEntity")
			_, err = c.DeleteUser(t.Context(), &iam.DeleteUserInput{UserName: aws.String("alice")})
			wantCode(t, err, "NoSuchEntity")
		})

		t.Run("ListUsers pagination", func(t *testing.T) {
			var want []string
			for i := range 5 {
				name := fmt.Sprintf("user-%d", i)
				want = append(want, name)
				_, err := c.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String(name)})
				noErr(t, err)
			}
			var got []string
			in := &iam.ListUsersInput{MaxItems: aws.Int32(2)}
			for pages := 1; ; pages++ {
				if pages > 5 {
					t.Fatal("ListUsers pagination does not end")
				}
				out, err := c.ListUsers(t.Context(), in)
				noErr(t, err)
				if len(out.Users) > 2 {
					t.Errorf("page of %d users, MaxItems 2", len(out.Users))
				}
				for _, u := range out.Users {
					got = append(got, aws.ToString(u.UserName))
				}
				if !out.IsTruncated {
					if out.Marker != nil {
						t.Errorf("last page has Marker %q", aws.ToString(out.Marker))
					}
					break
				}
				if aws.ToString(out.Marker) == "" {
					t.Fatal("IsTruncated without a Marker")
				}
				in.Marker = out.Marker
			}
			if !slices.Equal(sorted(got...), want) {
				t.Errorf("ListUsers pages = %v, want %v", got, want)
			}
			_, err := c.ListUsers(t.Context(), &iam.ListUsersInput{MaxItems: aws.Int32(0)})
			wantCode(t, err, "ValidationError")
		})
	})
}
