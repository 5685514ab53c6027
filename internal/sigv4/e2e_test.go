package sigv4

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const callerIdentityXML = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/alice</Arn>
    <UserId>AIDAKUMOEXAMPLE</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000001</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`

const stsErrorXML = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>
  <RequestId>00000000-0000-0000-0000-000000000002</RequestId>
</ErrorResponse>`

// stsErrorCode maps a Verify error to the STS error code.
func stsErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrMissingAuth):
		return "MissingAuthenticationToken"
	case errors.Is(err, ErrUnknownAccessKey):
		return "InvalidClientTokenId"
	case errors.Is(err, ErrExpired):
		return "RequestExpired"
	case errors.Is(err, ErrMalformed):
		return "IncompleteSignature"
	default:
		return "SignatureDoesNotMatch"
	}
}

// stsServer answers GetCallerIdentity for requests that verify.
func stsServer(t *testing.T) *httptest.Server {
	v := &Verifier{Lookup: testLookup}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			var res *Result
			res, err = v.Verify(r.Context(), r, body)
			if err == nil && (res.Service != "sts" || res.Region != testRegion) {
				err = fmt.Errorf("scope %s/%s: %w", res.Region, res.Service, ErrSignatureMismatch)
			}
		}
		w.Header().Set("Content-Type", "text/xml")
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, stsErrorXML, stsErrorCode(err), "verification failed")
			return
		}
		fmt.Fprint(w, callerIdentityXML)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func stsClient(url, akid, secret string) *sts.Client {
	return sts.New(sts.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
		RetryMaxAttempts: 1,
	})
}

func TestEndToEndSTSGetCallerIdentity(t *testing.T) {
	srv := stsServer(t)
	ctx := context.Background()

	out, err := stsClient(srv.URL, testAKID, testSecret).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the right credentials: %v", err)
	}
	if aws.ToString(out.Account) != "123456789012" || aws.ToString(out.Arn) != "arn:aws:iam::123456789012:user/alice" {
		t.Errorf("output = %s, %s", aws.ToString(out.Account), aws.ToString(out.Arn))
	}

	for _, tt := range []struct{ akid, secret, code string }{
		{testAKID, "wrong-secret", "SignatureDoesNotMatch"},
		{"AKIDUNKNOWN", testSecret, "InvalidClientTokenId"},
	} {
		_, err := stsClient(srv.URL, tt.akid, tt.secret).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code {
			t.Errorf("GetCallerIdentity as %s: error = %v, want code %s", tt.akid, err, tt.code)
		}
	}
}
