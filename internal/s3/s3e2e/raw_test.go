package s3e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
)

// signedRequest builds a request signed for S3 with u's key, with the
// body's hex SHA-256 as X-Amz-Content-Sha256.
func signedRequest(t testing.TB, u *user, method, url string, body []byte) *http.Request {
	t.Helper()
	sum := sha256.Sum256(body)
	return signedRequestHash(t, u.KeyID, u.Secret, method, url, body, hex.EncodeToString(sum[:]), time.Now())
}

// signedRequestHash signs with a given payload hash and time.
func signedRequestHash(t testing.TB, keyID, secret, method, url string, body []byte, payloadHash string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := signer.SignHTTP(context.Background(), creds, req, payloadHash, "s3", controllertest.Region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

// do sends a request and returns the status, the S3 error code (from the
// XML body) and the body.
func do(t testing.TB, req *http.Request) (int, string, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, errorCode(body), body
}

// errorCode extracts <Code> from an S3 error body.
func errorCode(body []byte) string {
	start := bytes.Index(body, []byte("<Code>"))
	end := bytes.Index(body, []byte("</Code>"))
	if start < 0 || end < start {
		return ""
	}
	return string(body[start+len("<Code>") : end])
}
