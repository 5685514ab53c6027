package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestVerifyFormPost(t *testing.T) {
	bodies := map[string]string{
		"ec2": "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0",
		"iam": "Action=ListUsers&Version=2010-05-08",
		"sts": "Action=GetCallerIdentity&Version=2011-06-15",
	}
	for service, body := range bodies {
		t.Run(service, func(t *testing.T) {
			r, got := onWire(t, signForm(t, service, body, testSecret, testNow()))
			res, err := newTestVerifier(false).Verify(context.Background(), r, got)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, r, service, hashHex([]byte(body)))
		})
	}
}

func checkResult(t *testing.T, res *Result, r *http.Request, service, payloadHash string) {
	t.Helper()
	if res.AccessKeyID != testAKID || res.Date != "20260314" || res.Region != testRegion || res.Service != service {
		t.Errorf("scope = %s/%s/%s/%s", res.AccessKeyID, res.Date, res.Region, res.Service)
	}
	wantHeaders := []string{"content-length", "content-type", "host", "x-amz-date"}
	if !slices.Equal(res.SignedHeaders, wantHeaders) {
		t.Errorf("SignedHeaders = %v, want %v", res.SignedHeaders, wantHeaders)
	}
	if res.Presigned || res.PayloadHash != payloadHash || res.SessionToken != "" {
		t.Errorf("Presigned %v, PayloadHash %q, SessionToken %q", res.Presigned, res.PayloadHash, res.SessionToken)
	}
	if !strings.HasSuffix(r.Header.Get("Authorization"), "Signature="+res.Signature) {
		t.Errorf("Signature %q not in %q", res.Signature, r.Header.Get("Authorization"))
	}
	if !hmac.Equal(res.SigningKey, SigningKey(testSecret, "20260314", testRegion, service)) {
		t.Errorf("SigningKey = %x", res.SigningKey)
	}
	if !res.Time.Equal(testNow()) {
		t.Errorf("Time = %v", res.Time)
	}
}

func TestVerifyClientSideRequest(t *testing.T) {
	// Verify also accepts a request that has not been through the wire, as
	// long as the body is passed.
	body := "Action=ListUsers&Version=2010-05-08"
	r := signForm(t, "iam", body, testSecret, testNow())
	if _, err := newTestVerifier(false).Verify(context.Background(), r, []byte(body)); err != nil {
		t.Fatal(err)
	}
}

func TestVerifySessionTokenAndContentSHA(t *testing.T) {
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	r := formPost(t, body)
	r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte(body)))
	c := creds(testSecret)
	c.SessionToken = "session-token/with+odd=chars"
	if err := signer(false).SignHTTP(context.Background(), c, r, hashHex([]byte(body)), "sts", testRegion, testNow()); err != nil {
		t.Fatal(err)
	}
	sr, got := onWire(t, r)
	// Without a SessionToken checker every token is refused.
	if _, err := newTestVerifier(false).Verify(context.Background(), sr, got); !errors.Is(err, ErrInvalidSessionToken) {
		t.Fatalf("token without a checker: %v, want ErrInvalidSessionToken", err)
	}
	v := newTestVerifier(false)
	v.SessionToken = func(_ context.Context, keyID, token string) error {
		if token != c.SessionToken {
			return ErrInvalidSessionToken
		}
		return nil
	}
	res, err := v.Verify(context.Background(), sr, got)
	if err != nil {
		t.Fatal(err)
	}
	if res.SessionToken != c.SessionToken {
		t.Errorf("SessionToken = %q", res.SessionToken)
	}
	if !slices.Contains(res.SignedHeaders, "x-amz-security-token") {
		t.Errorf("SignedHeaders = %v", res.SignedHeaders)
	}
}

func TestVerifyHeaderValues(t *testing.T) {
	// Values are trimmed, runs of spaces collapsed and repeated headers
	// joined with commas, on the client and on the server.
	r, err := http.NewRequest(http.MethodPut, testEndpoint+"/bucket/key?acl&versionId=1+2", strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Add("X-Amz-Meta-Note", "  a   b  c ")
	r.Header.Add("X-Amz-Meta-Note", "second")
	r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	if err := signer(true).SignHTTP(context.Background(), creds(testSecret), r, UnsignedPayload, "s3", testRegion, testNow()); err != nil {
		t.Fatal(err)
	}
	sr, body := onWire(t, r)
	res, err := newTestVerifier(true).Verify(context.Background(), sr, body)
	if err != nil {
		t.Fatal(err)
	}
	if res.PayloadHash != UnsignedPayload {
		t.Errorf("PayloadHash = %q", res.PayloadHash)
	}
}

func TestVerifyStreamingPayload(t *testing.T) {
	r, err := http.NewRequest(http.MethodPut, testEndpoint+"/bucket/key", strings.NewReader("chunked"))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
	r.Header.Set("X-Amz-Decoded-Content-Length", "7")
	if err := signer(true).SignHTTP(context.Background(), creds(testSecret), r, StreamingPayload, "s3", testRegion, testNow()); err != nil {
		t.Fatal(err)
	}
	sr, _ := onWire(t, r)
	res, err := newTestVerifier(true).Verify(context.Background(), sr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.PayloadHash != StreamingPayload || len(res.SigningKey) != sha256.Size {
		t.Errorf("PayloadHash %q, SigningKey %x", res.PayloadHash, res.SigningKey)
	}
}

// TestVerifyAWSDocExample checks the GET ListUsers example of the AWS
// "Signature Version 4 signing process" documentation, independently of
// the SDK.
func TestVerifyAWSDocExample(t *testing.T) {
	r, err := http.NewRequest(http.MethodGet, "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", formType)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "+
		"SignedHeaders=content-type;host;x-amz-date, "+
		"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
	v := &Verifier{
		Lookup: func(context.Context, string) (string, error) { return testSecret, nil },
		Now:    func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) },
	}
	res, err := v.Verify(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(res.SigningKey); got != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Errorf("SigningKey = %s", got)
	}
}

// TestVerifyDateHeader signs by hand with the Date header instead of
// X-Amz-Date, which the SDKs never do.
func TestVerifyDateHeader(t *testing.T) {
	canonical := "GET\n/\nAction=DescribeRegions&Version=2016-11-15\n" +
		"date:Sat, 14 Mar 2026 12:00:00 GMT\nhost:kumo.example:8443\n\n" +
		"date;host\n" + hashHex(nil)
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n20260314T120000Z\n20260314/kumo-1/ec2/aws4_request\n" + hex.EncodeToString(sum[:])
	mac := hmac.New(sha256.New, SigningKey(testSecret, "20260314", testRegion, "ec2"))
	mac.Write([]byte(toSign))
	r, err := http.NewRequest(http.MethodGet, testEndpoint+"/?Version=2016-11-15&Action=DescribeRegions", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Date", "Sat, 14 Mar 2026 12:00:00 GMT")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAKID+"/20260314/kumo-1/ec2/aws4_request,SignedHeaders=date;host,Signature="+hex.EncodeToString(mac.Sum(nil)))
	sr, body := onWire(t, r)
	if _, err := newTestVerifier(false).Verify(context.Background(), sr, body); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyPresigned(t *testing.T) {
	tests := []struct {
		name, target, service, payloadHash string
		s3                                 bool
	}{
		{"s3", "http://kumo.example:8443/bucket/dir/object.txt?versionId=3", "s3", UnsignedPayload, true},
		{"query service", testEndpoint + "/?Action=GetCallerIdentity&Version=2011-06-15", "sts", hashHex(nil), false},
		{"query service unsigned payload", testEndpoint + "/?Action=DescribeRegions&Version=2016-11-15", "ec2", UnsignedPayload, false},
		{"s3 body hash", "http://kumo.example:8443/bucket/object", "s3", hashHex(nil), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signedAt := testNow().Add(-time.Hour)
			r := presignedGet(t, tt.s3, tt.target, tt.service, tt.payloadHash, 3600, signedAt)
			res, err := newTestVerifier(tt.s3).Verify(context.Background(), r, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Presigned || res.PayloadHash != tt.payloadHash || res.Service != tt.service || res.Date != "20260314" {
				t.Errorf("result = %+v", res)
			}
			expired := presignedGet(t, tt.s3, tt.target, tt.service, tt.payloadHash, 3599, signedAt)
			_, err = newTestVerifier(tt.s3).Verify(context.Background(), expired, nil)
			wantErr(t, err, ErrExpired)
		})
	}
}

func TestVerifyPresignedNotYetValid(t *testing.T) {
	r := presignedGet(t, true, "http://kumo.example/bucket/key", "s3", UnsignedPayload, 60, testNow().Add(16*time.Minute))
	_, err := newTestVerifier(true).Verify(context.Background(), r, nil)
	wantErr(t, err, ErrExpired)
}

func TestVerifyPresignedTampered(t *testing.T) {
	r := presignedGet(t, true, "http://kumo.example/bucket/key", "s3", UnsignedPayload, 600, testNow())
	r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=600", "X-Amz-Expires=6000", 1)
	r.RequestURI = r.URL.RequestURI()
	_, err := newTestVerifier(true).Verify(context.Background(), r, nil)
	wantErr(t, err, ErrSignatureMismatch)
}

func TestVerifyPathEscaping(t *testing.T) {
	// The wire path as the S3 SDK escapes a key with a space, unicode,
	// '+' and '='.
	const escaped = "/bucket/dir/my%20file%2Bv%3D1%C3%BCn%C3%AFc%C3%B6de~.txt"
	tests := []struct {
		name, path             string
		signS3, verifyS3, want bool
	}{
		{"s3 escaped", escaped, true, true, true},
		{"s3 raw reserved", "/bucket/a+b=c;d,e@f:g$h!i'j(k)*l", true, true, true},
		{"s3 signed, non-s3 verifier", escaped, true, false, false},
		{"non-s3 double escaping", escaped, false, false, true},
		{"non-s3 signed, s3 verifier", escaped, false, true, false},
		{"non-s3 dot segments", "/a/./b//c/../d", false, false, true},
		{"s3 dot segments", "/bucket/./b//c/../d", true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodGet, testEndpoint+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.URL.EscapedPath(); got != tt.path {
				t.Fatalf("client path = %q", got)
			}
			if err := signer(tt.signS3).SignHTTP(context.Background(), creds(testSecret), r, hashHex(nil), "s3", testRegion, testNow()); err != nil {
				t.Fatal(err)
			}
			sr, body := onWire(t, r)
			_, err = newTestVerifier(tt.verifyS3).Verify(context.Background(), sr, body)
			if tt.want && err != nil {
				t.Fatal(err)
			}
			if !tt.want {
				wantErr(t, err, ErrSignatureMismatch)
			}
		})
	}
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"/":            "/",
		"/a/b":         "/a/b",
		"//a//b//":     "/a/b/",
		"/a/./b/../c":  "/a/c",
		"/../..":       "/",
		"/a/b/..":      "/a",
		"/a/.b/c.":     "/a/.b/c.",
		"/a/%2E%2E/b/": "/a/%2E%2E/b/",
	} {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	const body = "Action=DescribeInstances&Version=2016-11-15"
	ctx := context.Background()
	t.Run("wrong secret", func(t *testing.T) {
		r, b := onWire(t, signForm(t, "ec2", body, "not-the-secret", testNow()))
		_, err := newTestVerifier(false).Verify(ctx, r, b)
		wantErr(t, err, ErrSignatureMismatch)
	})
	t.Run("unknown key", func(t *testing.T) {
		r := formPost(t, body)
		c := creds(testSecret)
		c.AccessKeyID = "AKIDUNKNOWN"
		if err := signer(false).SignHTTP(ctx, c, r, hashHex([]byte(body)), "ec2", testRegion, testNow()); err != nil {
			t.Fatal(err)
		}
		sr, b := onWire(t, r)
		_, err := newTestVerifier(false).Verify(ctx, sr, b)
		wantErr(t, err, ErrUnknownAccessKey)
	})
	t.Run("tampered body", func(t *testing.T) {
		r, _ := onWire(t, signForm(t, "ec2", body, testSecret, testNow()))
		_, err := newTestVerifier(false).Verify(ctx, r, []byte(body+"&DryRun=true"))
		wantErr(t, err, ErrSignatureMismatch)
	})
	t.Run("tampered header", func(t *testing.T) {
		r, b := onWire(t, signForm(t, "ec2", body, testSecret, testNow()))
		r.Header.Set("Content-Type", "text/plain")
		_, err := newTestVerifier(false).Verify(ctx, r, b)
		wantErr(t, err, ErrSignatureMismatch)
	})
	t.Run("tampered host", func(t *testing.T) {
		r, b := onWire(t, signForm(t, "ec2", body, testSecret, testNow()))
		r.Host = "kumo.example"
		_, err := newTestVerifier(false).Verify(ctx, r, b)
		wantErr(t, err, ErrSignatureMismatch)
	})
	t.Run("tampered query", func(t *testing.T) {
		r, b := onWire(t, signForm(t, "ec2", body, testSecret, testNow()))
		r.URL.RawQuery = "Action=TerminateInstances"
		r.RequestURI = r.URL.RequestURI()
		_, err := newTestVerifier(false).Verify(ctx, r, b)
		wantErr(t, err, ErrSignatureMismatch)
	})
	t.Run("tampered method", func(t *testing.T) {
		r, b := onWire(t, signForm(t, "ec2", body, testSecret, testNow()))
		r.Method = http.MethodPut
		_, err := newTestVerifier(false).Verify(ctx, r, b)
		wantErr(t, err, ErrSignatureMismatch)
	})
	t.Run("body does not match x-amz-content-sha256", func(t *testing.T) {
		r := formPost(t, body)
		r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte(body)))
		if err := signer(false).SignHTTP(ctx, creds(testSecret), r, hashHex([]byte(body)), "ec2", testRegion, testNow()); err != nil {
			t.Fatal(err)
		}
		sr, _ := onWire(t, r)
		_, err := newTestVerifier(false).Verify(ctx, sr, []byte("Action=TerminateInstances&Versio"))
		wantErr(t, err, ErrPayloadHashMismatch)
	})
	t.Run("missing auth", func(t *testing.T) {
		r, b := onWire(t, formPost(t, body))
		_, err := newTestVerifier(false).Verify(ctx, r, b)
		wantErr(t, err, ErrMissingAuth)
	})
	t.Run("nil request", func(t *testing.T) {
		_, err := newTestVerifier(false).Verify(ctx, nil, nil)
		wantErr(t, err, ErrMissingAuth)
	})
	t.Run("no lookup", func(t *testing.T) {
		r, b := onWire(t, signForm(t, "ec2", body, testSecret, testNow()))
		if _, err := (&Verifier{Now: testNow}).Verify(ctx, r, b); err == nil {
			t.Fatal("verified without Lookup")
		}
	})
}

func TestVerifyClockSkew(t *testing.T) {
	const body = "Action=GetCallerIdentity&Version=2011-06-15"
	for _, tt := range []struct {
		offset time.Duration
		ok     bool
	}{
		{-16 * time.Minute, false},
		{16 * time.Minute, false},
		{-14 * time.Minute, true},
		{14 * time.Minute, true},
	} {
		t.Run(tt.offset.String(), func(t *testing.T) {
			r, b := onWire(t, signForm(t, "sts", body, testSecret, testNow().Add(tt.offset)))
			_, err := newTestVerifier(false).Verify(context.Background(), r, b)
			if tt.ok && err != nil {
				t.Fatal(err)
			}
			if !tt.ok {
				wantErr(t, err, ErrExpired)
			}
		})
	}
}

func TestVerifyMaxSkewOption(t *testing.T) {
	r, b := onWire(t, signForm(t, "sts", "Action=GetCallerIdentity", testSecret, testNow().Add(-2*time.Minute)))
	v := newTestVerifier(false)
	v.MaxSkew = time.Minute
	_, err := v.Verify(context.Background(), r, b)
	wantErr(t, err, ErrExpired)
}
