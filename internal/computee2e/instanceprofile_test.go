package computee2e

import (
	"context"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
)

// credsScript prints the role the metadata service lists and its
// credential document on the console.
const credsScript = `#!/bin/sh
r=$(kumo-imds meta-data/iam/security-credentials/)
echo "KUMO-ROLE: $r"
kumo-imds meta-data/iam/security-credentials/$r
echo
echo "KUMO-CREDS-END"
`

func (c *cluster) config(keyID, secret, token string) aws.Config {
	return aws.Config{Region: region, HTTPClient: controllertest.HTTPClient(), BaseEndpoint: aws.String("http://" + c.ec2Addr),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, token)}
}

var (
	accessKeyLine = regexp.MustCompile(`"AccessKeyId": "(ASIA[A-Z0-9]+)"`)
	secretLine    = regexp.MustCompile(`"SecretAccessKey": "([^"]+)"`)
	tokenLine     = regexp.MustCompile(`"Token": "([^"]+)"`)
)

// TestInstanceProfileCredentials: a real demo guest launched with an
// instance profile reads its role's credentials from the metadata
// service, and they are a session of the role named after the instance.
func TestInstanceProfileCredentials(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	acct, err := c.admin.CreateAccount(ctx, "team-a")
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.config(acct.AccessKeyId, acct.SecretAccessKey, "")
	e, im := ec2.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	for _, step := range []func() error{
		func() error {
			_, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web-role"), AssumeRolePolicyDocument: aws.String(trust)})
			return err
		},
		func() error {
			_, err := im.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")})
			return err
		},
		func() error {
			_, err := im.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web-role")})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	inst := run(t, e, &ec2.RunInstancesInput{ImageId: aws.String(demoImageID(t, e)), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web")},
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(credsScript)))})
	id := aws.ToString(inst.InstanceId)
	waitState(t, e, id, types.InstanceStateNameRunning, 2*time.Minute)
	out := waitConsole(t, e, id, 3*time.Minute, "the role's credentials", func(s string) bool {
		return strings.Contains(s, "KUMO-CREDS-END")
	})
	if !strings.Contains(out, "KUMO-ROLE: web-role") {
		t.Fatalf("the guest did not see its role; console:\n%s", out)
	}
	key, secret, token := accessKeyLine.FindStringSubmatch(out), secretLine.FindStringSubmatch(out), tokenLine.FindStringSubmatch(out)
	if key == nil || secret == nil || token == nil || !strings.Contains(out, `"Type": "AWS-HMAC"`) {
		t.Fatalf("no credential document on the console:\n%s", out)
	}
	who, err := sts.NewFromConfig(c.config(key[1], secret[1], token[1])).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("the guest's credentials: %v", err)
	}
	if want := "arn:aws:sts::" + acct.AccountId + ":assumed-role/web-role/" + id; aws.ToString(who.Arn) != want {
		t.Errorf("the guest's credentials are %s, want %s", aws.ToString(who.Arn), want)
	}
}
