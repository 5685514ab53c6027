package ec2_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestTerraformProviderConfigure replays the provider's configure-time
// calls (reference §1), each on the EC2 endpoint as form-encoded POST / signed
// for kumo-1 (§0.1): sts:GetCallerIdentity (default settings; any error is
// fatal), and with skip_credentials_validation iam:GetUser without a name.
// The account ID and partition come from the
// ARNs; both must be well formed. IAM errors must parse as IAM's
// <ErrorResponse> (§0.1).
func TestTerraformProviderConfigure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		a := srv.NewAccount(t, "a")
		for range 2 { // apply configures the provider twice (§0.6)
			id, err := a.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			step(t, "sts:GetCallerIdentity", err)
			if aws.ToString(id.Account) != a.ID {
				t.Errorf("GetCallerIdentity Account = %q, want %q", aws.ToString(id.Account), a.ID)
			}
			checkARN(t, "GetCallerIdentity Arn", aws.ToString(id.Arn), a.ID)
		}

		u, err := a.IAM.GetUser(ctx, &iam.GetUserInput{})
		step(t, "iam:GetUser", err)
		checkARN(t, "GetUser User.Arn", aws.ToString(u.User.Arn), a.ID)

		// iam:ListRoles is the provider's last resort, reached only when
		// both calls above failed to give the account; it is not made here.

		// An IAM error is parsed by the SDK from <ErrorResponse><Error><Code>.
		_, err = a.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
		wantClientError(t, err, "NoSuchEntity")
	})
}

// checkARN checks arn:<partition>:<service>::<account>:... with a
// non-empty partition, which the provider takes from it.
func checkARN(t *testing.T, what, arn, account string) {
	t.Helper()
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[4] != account {
		t.Errorf("%s = %q: want arn:<partition>:<service>::%s:...", what, arn, account)
	}
}
