package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testAKID     = "AKIDKUMOEXAMPLE"
	testSecret   = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testRegion   = "kumo-1"
	testEndpoint = "http://kumo.example:8443"
	formType     = "application/x-www-form-urlencoded; charset=utf-8"
)

// testNow is the fixed "now" of the verifier in unit tests.
func testNow() time.Time { return time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC) }

func testLookup(_ context.Context, id string) (string, error) {
	if id == testAKID {
		return testSecret, nil
	}
	return "", fmt.Errorf("access key %q: %w", id, ErrUnknownAccessKey)
}

func newTestVerifier(s3 bool) *Verifier {
	return &Verifier{Lookup: testLookup, Now: testNow, S3: s3}
}

func creds(secret string) aws.Credentials {
	return aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: secret}
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// signer returns the SDK's reference signer, with S3 path rules if s3.
func signer(s3 bool) *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = s3 })
}

// formPost builds an unsigned query-API POST as the EC2/IAM/STS SDKs send it.
func formPost(t testing.TB, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, testEndpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", formType)
	return r
}

// signForm signs a form POST with the SDK signer at time at.
func signForm(t testing.TB, service, body, secret string, at time.Time) *http.Request {
	t.Helper()
	r := formPost(t, body)
	err := signer(false).SignHTTP(context.Background(), creds(secret), r, hashHex([]byte(body)), service, testRegion, at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// onWire sends a client request through the HTTP/1.1 wire format and returns
// it as a server sees it, with its body read.
func onWire(t testing.TB, r *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sr, body
}

// presignedGet presigns a GET with the SDK signer and returns it as a server
// sees it.
func presignedGet(t testing.TB, s3 bool, target, service, payloadHash string, expires int, at time.Time) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := r.URL.Query()
	q.Set("X-Amz-Expires", fmt.Sprint(expires))
	r.URL.RawQuery = q.Encode()
	uri, hdr, err := signer(s3).PresignHTTP(context.Background(), creds(testSecret), r, payloadHash, service, testRegion, at)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := http.NewRequest(http.MethodGet, uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if !strings.EqualFold(k, "host") {
			pr.Header[k] = v
		}
	}
	sr, _ := onWire(t, pr)
	return sr
}

// wantErr fails unless err wraps target.
func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}
