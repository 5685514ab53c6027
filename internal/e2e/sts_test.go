package e2e_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
	kumosts "github.com/kumo-cloud/kumo/internal/sts"
)

// sessionClients are SDK clients signed with temporary credentials.
type sessionClients struct {
	*controllertest.Account
	S3 *s3.Client
}

func withSession(srv *controllertest.Server, keyID, secret, token string) sessionClients {
	acct := srv.Clients(keyID, secret)
	acct.AWSConfig.Credentials = credentials.NewStaticCredentialsProvider(keyID, secret, token)
	acct.EC2 = ec2.NewFromConfig(acct.AWSConfig)
	acct.IAM = iam.NewFromConfig(acct.AWSConfig)
	acct.STS = sts.NewFromConfig(acct.AWSConfig)
	cfg := acct.AWSConfig.Copy()
	cfg.BaseEndpoint = aws.String(srv.S3Endpoint)
	return sessionClients{Account: acct, S3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })}
}

func fromCreds(srv *controllertest.Server, c *ststypes.Credentials) sessionClients {
	return withSession(srv, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

// newUser makes an IAM user with an access key and, if doc is not "",
// an inline policy.
func newUser(t *testing.T, srv *controllertest.Server, root *controllertest.Account, name, doc string) *controllertest.Account {
	t.Helper()
	ctx := t.Context()
	noErr(t, second(root.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})))
	if doc != "" {
		noErr(t, second(root.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})))
	}
	k, err := root.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	noErr(t, err)
	u := srv.Clients(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey))
	u.ID = root.ID
	return u
}

func callerARN(t *testing.T, c *sts.Client) (arn, userID, account string) {
	t.Helper()
	out, err := c.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	noErr(t, err)
	return aws.ToString(out.Arn), aws.ToString(out.UserId), aws.ToString(out.Account)
}

// TestSTSSessionToken: GetSessionToken's credentials work on EC2, IAM,
// STS and S3 (header and presigned), and a bogus, foreign or expired
// token is refused with each API's code.
func TestSTSSessionToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.StartAPIOnly(t, b)
		root := srv.NewAccount(t, "team-a")
		ctx := t.Context()
		if arn, id, acct := callerARN(t, root.STS); arn != "arn:aws:iam::"+root.ID+":root" || id != root.ID || acct != root.ID {
			t.Errorf("root GetCallerIdentity = %s %s %s", arn, id, acct)
		}
		// Enforcement applies to the session as to alice: she may do everything.
		alice := newUser(t, srv, root, "alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
		if arn, id, _ := callerARN(t, alice.STS); arn != "arn:aws:iam::"+root.ID+":user/alice" || !strings.HasPrefix(id, "AIDA") {
			t.Errorf("user GetCallerIdentity = %s %s", arn, id)
		}

		_, err := alice.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(899)})
		wantCode(t, err, "ValidationError")
		_, err = alice.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129601)})
		wantCode(t, err, "ValidationError")
		rootTok, err := root.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129600)})
		noErr(t, err)
		if left := time.Until(aws.ToTime(rootTok.Credentials.Expiration)); left > time.Hour || left < 59*time.Minute {
			t.Errorf("root session lasts %v, want AWS's 1 h cap", left)
		}
		tok, err := alice.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
		noErr(t, err)
		c := tok.Credentials
		if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || aws.ToString(c.SessionToken) == "" || time.Until(aws.ToTime(c.Expiration)) > 15*time.Minute {
			t.Fatalf("GetSessionToken = %+v", c)
		}
		sess := fromCreds(srv, c)
		if arn, _, _ := callerARN(t, sess.STS); arn != "arn:aws:iam::"+root.ID+":user/alice" {
			t.Errorf("session GetCallerIdentity = %s", arn)
		}
		noErr(t, second(sess.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})))
		_, err = sess.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		wantCode(t, err, "AccessDenied")

		// S3 with the token in a header, then in a presigned URL.
		noErr(t, second(sess.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sess-bucket")})))
		noErr(t, second(sess.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sess-bucket"), Key: aws.String("k"), Body: strings.NewReader("hello")})))
		pre, err := s3.NewPresignClient(sess.S3).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sess-bucket"), Key: aws.String("k")})
		noErr(t, err)
		if !strings.Contains(pre.URL, "X-Amz-Security-Token=") {
			t.Fatalf("presigned URL has no token: %s", pre.URL)
		}
		if status, body := httpGet(t, pre.URL); status != 200 || body != "hello" {
			t.Errorf("presigned GET with token = %d %q", status, body)
		}
		if status, body := httpGet(t, strings.Replace(pre.URL, "X-Amz-Security-Token=", "X-Amz-Security-Token=x", 1)); status != 400 || !strings.Contains(body, "<Code>InvalidToken</Code>") {
			t.Errorf("presigned GET with a bogus token = %d %s", status, body)
		}

		// A bogus token, the wrong key's token, no token: refused.
		bogus := withSession(srv, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)+"x")
		_, err = bogus.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantCode(t, err, "InvalidClientTokenId")
		_, err = bogus.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		wantCode(t, err, "AuthFailure")
		_, err = bogus.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
		wantCode(t, err, "InvalidToken")
		swapped := withSession(srv, aws.ToString(rootTok.Credentials.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
		_, err = swapped.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantCode(t, err, "InvalidClientTokenId")
		noToken := withSession(srv, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "")
		_, err = noToken.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantCode(t, err, "InvalidClientTokenId")
		longTerm := withSession(srv, alice.KeyID, alice.Secret, aws.ToString(c.SessionToken))
		_, err = longTerm.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantCode(t, err, "InvalidClientTokenId")

		// Expired: credentials issued by a clock two hours behind.
		past := &kumosts.Service{DB: srv.DB, Box: srv.Identity.Box, Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }}
		noErr(t, second(root.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("old"), AssumeRolePolicyDocument: aws.String(ec2TrustDoc)})))
		old, err := past.IssueRoleSession(ctx, root.ID, "old", "then", time.Hour, nil)
		noErr(t, err)
		expired := withSession(srv, old.AccessKeyID, old.SecretAccessKey, old.SessionToken)
		_, err = expired.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantCode(t, err, "ExpiredToken")
		_, err = expired.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		wantCode(t, err, "ExpiredToken")
		_, err = expired.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
		wantCode(t, err, "ExpiredToken")

		// Deleting the user ends its sessions.
		noErr(t, second(root.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(alice.KeyID)})))
		noErr(t, second(root.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p")})))
		noErr(t, second(root.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})))
		_, err = sess.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantCode(t, err, "InvalidClientTokenId")
	})
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	noErr(t, err)
	resp, err := controllertest.HTTPClient().Do(req)
	noErr(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestSTSAssumeRoleAcrossAccounts: a user of one account assumes a role
// of another whose trust policy names the first account and demands an
// ExternalId; its own policy must allow sts:AssumeRole too.
func TestSTSAssumeRoleAcrossAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.StartAPIOnly(t, b)
		a, other := srv.NewAccount(t, "team-a"), srv.NewAccount(t, "team-b")
		ctx := t.Context()
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + a.ID + `:root"},"Action":"sts:AssumeRole",
			"Condition":{"StringEquals":{"sts:ExternalId":"ext-42"}}}]}`
		noErr(t, second(other.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("shared"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(7200)})))
		roleARN := "arn:aws:iam::" + other.ID + ":role/shared"
		// What the role's sessions may do (a session policy only narrows it).
		noErr(t, second(other.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("shared"), PolicyName: aws.String("work"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","sts:AssumeRole","sts:TagSession"],"Resource":"*"}]}`)})))
		may := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}]}`
		alice := newUser(t, srv, a, "alice", may)
		bob := newUser(t, srv, a, "bob", "")

		assume := func(c *sts.Client, in sts.AssumeRoleInput) (*sts.AssumeRoleOutput, error) {
			if in.RoleArn == nil {
				in.RoleArn = aws.String(roleARN)
			}
			if in.RoleSessionName == nil {
				in.RoleSessionName = aws.String("alice-session")
			}
			return c.AssumeRole(ctx, &in)
		}
		_, err := assume(alice.STS, sts.AssumeRoleInput{})
		wantCode(t, err, "AccessDenied") // no ExternalId
		_, err = assume(alice.STS, sts.AssumeRoleInput{ExternalId: aws.String("wrong-1")})
		wantCode(t, err, "AccessDenied")
		_, err = assume(bob.STS, sts.AssumeRoleInput{ExternalId: aws.String("ext-42")})
		wantCode(t, err, "AccessDenied") // bob's own policies do not allow it
		_, err = assume(a.STS, sts.AssumeRoleInput{ExternalId: aws.String("ext-42")})
		wantCode(t, err, "AccessDenied") // roles may not be assumed by root
		_, err = assume(alice.STS, sts.AssumeRoleInput{ExternalId: aws.String("ext-42"), RoleSessionName: aws.String("bad name")})
		wantCode(t, err, "ValidationError")
		_, err = assume(alice.STS, sts.AssumeRoleInput{ExternalId: aws.String("ext-42"), DurationSeconds: aws.Int32(7201)})
		wantCode(t, err, "ValidationError")
		_, err = assume(alice.STS, sts.AssumeRoleInput{ExternalId: aws.String("ext-42"), RoleArn: aws.String("arn:aws:iam::" + other.ID + ":role/nope")})
		wantCode(t, err, "AccessDenied")
		_, err = assume(alice.STS, sts.AssumeRoleInput{ExternalId: aws.String("ext-42"), Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
		wantCode(t, err, "AccessDenied") // the trust policy does not allow sts:TagSession

		out, err := assume(alice.STS, sts.AssumeRoleInput{ExternalId: aws.String("ext-42"), DurationSeconds: aws.Int32(7200),
			Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`)})
		noErr(t, err)
		wantARN := "arn:aws:sts::" + other.ID + ":assumed-role/shared/alice-session"
		if aws.ToString(out.AssumedRoleUser.Arn) != wantARN || !strings.HasPrefix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), "AROA") ||
			!strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":alice-session") || !strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") {
			t.Errorf("AssumeRole = %+v %+v", out.AssumedRoleUser, out.Credentials)
		}
		if left := time.Until(aws.ToTime(out.Credentials.Expiration)); left < 119*time.Minute || left > 2*time.Hour {
			t.Errorf("session lasts %v, want 2 h", left)
		}
		sess := fromCreds(srv, out.Credentials)
		arn, id, acct := callerARN(t, sess.STS)
		if arn != wantARN || id != aws.ToString(out.AssumedRoleUser.AssumedRoleId) || acct != other.ID {
			t.Errorf("role session GetCallerIdentity = %s %s %s", arn, id, acct)
		}
		noErr(t, second(sess.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})))

		// Role chaining is capped at an hour.
		selfTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
		noErr(t, second(other.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("next"), AssumeRolePolicyDocument: aws.String(selfTrust), MaxSessionDuration: aws.Int32(7200)})))
		noErr(t, second(other.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("shared"), PolicyName: aws.String("chain"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"*"}]}`)})))
		nextARN := aws.String("arn:aws:iam::" + other.ID + ":role/next")
		_, err = assume(sess.STS, sts.AssumeRoleInput{RoleArn: nextARN})
		wantCode(t, err, "AccessDenied") // the session policy allows only ec2:Describe*
		out, err = assume(alice.STS, sts.AssumeRoleInput{ExternalId: aws.String("ext-42")})
		noErr(t, err)
		sess = fromCreds(srv, out.Credentials)
		_, err = assume(sess.STS, sts.AssumeRoleInput{RoleArn: nextARN, DurationSeconds: aws.Int32(3601)})
		wantCode(t, err, "ValidationError")
		chained, err := assume(sess.STS, sts.AssumeRoleInput{RoleArn: nextARN, RoleSessionName: aws.String("chained"),
			Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
		noErr(t, err)
		if aws.ToString(chained.AssumedRoleUser.Arn) != "arn:aws:sts::"+other.ID+":assumed-role/next/chained" {
			t.Errorf("chained AssumeRole = %s", aws.ToString(chained.AssumedRoleUser.Arn))
		}

		// GetAccessKeyInfo names the account of a long-term key (bob's
		// policies do not allow sts:GetAccessKeyInfo; his root may).
		_, err = bob.STS.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(other.KeyID)})
		wantCode(t, err, "AccessDenied")
		info, err := a.STS.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(other.KeyID)})
		noErr(t, err)
		if aws.ToString(info.Account) != other.ID {
			t.Errorf("GetAccessKeyInfo = %s, want %s", aws.ToString(info.Account), other.ID)
		}
	})
}
