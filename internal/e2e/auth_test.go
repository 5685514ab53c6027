package e2e_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestAuth covers SigV4 authentication as each service reports it: bad
// secrets, unknown, inactive and deleted keys, missing signatures, clock
// skew and presigned URLs.
func TestAuth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := start(t, b)

		t.Run("wrong secret", func(t *testing.T) {
			bad := srv.Clients(acct.KeyID, "wrong"+acct.Secret[5:])
			_, err := bad.EC2.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
			wantCode(t, err, "AuthFailure")
			_, err = bad.IAM.ListUsers(t.Context(), &iam.ListUsersInput{})
			wantCode(t, err, "SignatureDoesNotMatch")
			_, err = bad.STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			wantCode(t, err, "SignatureDoesNotMatch")
		})

		t.Run("unknown key", func(t *testing.T) {
			bad := srv.Clients("AKIAIOSFODNN7EXAMPLE", acct.Secret)
			_, err := bad.EC2.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
			wantCode(t, err, "AuthFailure")
			_, err = bad.STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			wantCode(t, err, "InvalidClientTokenId")
			_, err = bad.IAM.ListUsers(t.Context(), &iam.ListUsersInput{})
			wantCode(t, err, "InvalidClientTokenId")
		})

		raw := newRawClient(srv, acct.KeyID, acct.Secret)

		t.Run("no signature", func(t *testing.T) {
			req, err := raw.unsigned(t.Context(), ec2Params("DescribeVpcs"))
			noErr(t, err)
			r, err := raw.send(req)
			noErr(t, err)
			wantRawError(t, r, http.StatusForbidden, "MissingAuthenticationToken")
			if !r.EC2Envelope {
				t.Errorf("not an EC2 error envelope: %s", r.Body)
			}
		})

		t.Run("clock skew", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				skew time.Duration
				code string // "" = accepted
			}{
				{"16 minutes slow", -16 * time.Minute, "RequestExpired"},
				{"16 minutes fast", 16 * time.Minute, "RequestExpired"},
				{"14 minutes slow", -14 * time.Minute, ""},
				{"14 minutes fast", 14 * time.Minute, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := raw.callAt(t, "ec2", ec2Params("DescribeRegions"), time.Now().Add(tc.skew))
					if tc.code == "" {
						if r.Status != http.StatusOK {
							t.Errorf("HTTP %d %s (%s), want 200", r.Status, r.Code, r.Message)
						}
						return
					}
					wantRawError(t, r, http.StatusBadRequest, tc.code)
				})
			}
			r := raw.callAt(t, "sts", queryParams("GetCallerIdentity", "2011-06-15"), time.Now().Add(-16*time.Minute))
			wantRawError(t, r, http.StatusBadRequest, "RequestExpired")
			if r.Root != "ErrorResponse" {
				t.Errorf("STS error root %s, want ErrorResponse", r.Root)
			}
		})

		t.Run("credential scoped to another region", func(t *testing.T) {
			for _, region := range []string{"us-east-1", "kumo-2"} {
				params := ec2Params("DescribeRegions")
				req, err := raw.unsigned(t.Context(), params)
				noErr(t, err)
				noErr(t, raw.signer.SignHTTP(t.Context(), raw.creds, req, payloadHash([]byte(params.Encode())), "ec2", region, time.Now()))
				r, err := raw.send(req)
				noErr(t, err)
				if r.Status < 400 || r.Status >= 500 {
					t.Errorf("signed for %s: HTTP %d %s, want a 4xx refusal (AWS: AuthFailure)", region, r.Status, r.Code)
				}
			}
		})

		t.Run("presigned URL", func(t *testing.T) {
			get := func(u string, hdr http.Header) rawResponse {
				t.Helper()
				req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
				noErr(t, err)
				for k, v := range hdr {
					req.Header[k] = v
				}
				r, err := raw.send(req)
				noErr(t, err)
				return r
			}
			u, hdr, err := raw.presignedURL(t.Context(), "ec2", ec2Params("DescribeRegions"), time.Now(), 5*time.Minute)
			noErr(t, err)
			r := get(u, hdr)
			if r.Status != http.StatusOK || r.Root != "DescribeRegionsResponse" {
				t.Errorf("presigned GET: HTTP %d %s (%s), want 200 DescribeRegionsResponse", r.Status, r.Code, r.Message)
			}
			wantRequestID(t, r)
			// The signature covers the query: changing the action breaks it.
			r = get(u+"&RegionName.1=kumo-1", hdr)
			wantRawError(t, r, http.StatusUnauthorized, "AuthFailure")
			// A URL past its X-Amz-Expires is refused, even within the clock skew.
			u, hdr, err = raw.presignedURL(t.Context(), "ec2", ec2Params("DescribeRegions"), time.Now().Add(-2*time.Minute), time.Minute)
			noErr(t, err)
			wantRawError(t, get(u, hdr), http.StatusBadRequest, "RequestExpired")
		})

		t.Run("inactive and deleted keys", func(t *testing.T) {
			created, err := acct.IAM.CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{})
			noErr(t, err)
			id := created.AccessKey.AccessKeyId
			second := srv.Clients(aws.ToString(id), aws.ToString(created.AccessKey.SecretAccessKey))
			_, err = second.EC2.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
			noErr(t, err)

			_, err = acct.IAM.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{AccessKeyId: id, Status: iamtypes.StatusTypeInactive})
			noErr(t, err)
			_, err = second.EC2.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
			wantCode(t, err, "AuthFailure")
			_, err = second.STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			wantCode(t, err, "InvalidClientTokenId")

			_, err = acct.IAM.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{AccessKeyId: id, Status: iamtypes.StatusTypeActive})
			noErr(t, err)
			_, err = second.EC2.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
			noErr(t, err)

			_, err = acct.IAM.DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{AccessKeyId: id})
			noErr(t, err)
			_, err = second.EC2.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
			wantCode(t, err, "AuthFailure")
			// The account's first key is untouched.
			_, err = acct.EC2.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
			noErr(t, err)
		})
	})
}
