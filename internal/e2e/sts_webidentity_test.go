package e2e_test

import (
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
	kumosts "github.com/kumo-cloud/kumo/internal/sts"
)

const testIssuer = "https://login.example.com/realm"

func signedToken(t *testing.T, key *rsa.PrivateKey, kid string, c jwt.Claims) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	noErr(t, err)
	tok, err := jwt.Signed(signer).Claims(c).Serialize()
	noErr(t, err)
	return tok
}

// TestSTSAssumeRoleWithWebIdentity: an unsigned request with an ID
// token of an operator-configured issuer gets a session of a role whose
// trust policy names the issuer and the token's audience; a bad
// signature, another audience, an expired token or an unknown issuer do
// not.
func TestSTSAssumeRoleWithWebIdentity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.StartAPIOnly(t, b)
		root := srv.NewAccount(t, "team-a")
		ctx := t.Context()
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		noErr(t, err)
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		noErr(t, err)
		srv.STS.SetOIDCProviders([]kumosts.OIDCProvider{{IssuerURL: testIssuer, Audiences: []string{"kumo-cli"},
			Keys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}}})
		host := strings.TrimPrefix(testIssuer, "https://")
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + root.ID + `:oidc-provider/` + host + `"},
			"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + host + `:aud":"kumo-cli"},"StringLike":{"` + host + `:sub":"user-*"}}}]}`
		noErr(t, second(root.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ci"), AssumeRolePolicyDocument: aws.String(trust)})))
		roleARN := aws.String("arn:aws:iam::" + root.ID + ":role/ci")

		cfg := root.AWSConfig.Copy()
		cfg.Credentials = aws.AnonymousCredentials{}
		anon := sts.NewFromConfig(cfg)
		now := time.Now()
		claims := jwt.Claims{Issuer: testIssuer, Subject: "user-42", Audience: jwt.Audience{"kumo-cli"}, IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))}
		assume := func(tok string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
			return anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: roleARN, RoleSessionName: aws.String("ci-run"), WebIdentityToken: aws.String(tok)})
		}
		out, err := assume(signedToken(t, key, "k1", claims))
		noErr(t, err)
		if aws.ToString(out.SubjectFromWebIdentityToken) != "user-42" || aws.ToString(out.Audience) != "kumo-cli" || aws.ToString(out.Provider) != host ||
			aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::"+root.ID+":assumed-role/ci/ci-run" {
			t.Errorf("AssumeRoleWithWebIdentity = %+v %+v", out, out.AssumedRoleUser)
		}
		if arn, _, _ := callerARN(t, fromCreds(srv, out.Credentials).STS); arn != "arn:aws:sts::"+root.ID+":assumed-role/ci/ci-run" {
			t.Errorf("session GetCallerIdentity = %s", arn)
		}

		_, err = assume(signedToken(t, other, "k1", claims))
		wantCode(t, err, "InvalidIdentityToken") // signed by another key
		wrongAud := claims
		wrongAud.Audience = jwt.Audience{"someone-else"}
		_, err = assume(signedToken(t, key, "k1", wrongAud))
		wantCode(t, err, "InvalidIdentityToken")
		expired := claims
		expired.Expiry = jwt.NewNumericDate(now.Add(-time.Hour))
		_, err = assume(signedToken(t, key, "k1", expired))
		wantCode(t, err, "ExpiredTokenException")
		unknown := claims
		unknown.Issuer = "https://elsewhere.example.com"
		_, err = assume(signedToken(t, key, "k1", unknown))
		wantCode(t, err, "InvalidIdentityToken")
		badSub := claims
		badSub.Subject = "robot-1"
		_, err = assume(signedToken(t, key, "k1", badSub))
		wantCode(t, err, "AccessDenied") // the trust policy's sub condition
		_, err = assume("not-a-jwt")
		wantCode(t, err, "InvalidIdentityToken")
	})
}
