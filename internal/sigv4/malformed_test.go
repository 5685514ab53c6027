package sigv4

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

const (
	goodCred    = "Credential=" + testAKID + "/20260314/kumo-1/ec2/aws4_request"
	goodSigned  = "SignedHeaders=host;x-amz-date"
	goodSig     = "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	goodAmzDate = "20260314T120000Z"
)

func TestVerifyMalformedHeader(t *testing.T) {
	tests := []struct {
		name, auth, amzDate, contentSHA, query, want string
	}{
		{"algorithm only", "AWS4-HMAC-SHA256", goodAmzDate, "", "",
			"Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires 'Signature' parameter"},
		{"no credential", "AWS4-HMAC-SHA256 " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			"Authorization header requires 'Credential' parameter"},
		{"no signed headers", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodSig, goodAmzDate, "", "",
			"Authorization header requires 'SignedHeaders' parameter"},
		{"no signature", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodSigned, goodAmzDate, "", "",
			"Authorization header requires 'Signature' parameter"},
		{"sigv2", "AWS " + testAKID + ":frJIUN8DYpKDtOLCwo//yllqDzg=", goodAmzDate, "", "",
			`unsupported Authorization algorithm "AWS"`},
		{"sigv4a", "AWS4-ECDSA-P256-SHA256 " + goodCred + ", " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			"only AWS4-HMAC-SHA256 is supported"},
		{"lower-case algorithm", "aws4-hmac-sha256 " + goodCred + ", " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			"unsupported Authorization algorithm"},
		{"parameter without value", "AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders, " + goodSig, goodAmzDate, "", "",
			`parameter "SignedHeaders" is not of the form key=value`},
		{"duplicate parameter", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodCred + ", " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			`duplicate parameter "Credential"`},
		{"unknown parameter", "AWS4-HMAC-SHA256 " + goodCred + ", Foo=bar, " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			`unknown parameter "Foo"`},
		{"short scope", "AWS4-HMAC-SHA256 Credential=" + testAKID + "/20260314/kumo-1/aws4_request, " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			"should have 4 '/'-separated parts"},
		{"no scope", "AWS4-HMAC-SHA256 Credential=" + testAKID + ", " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			"should be of the form <access key id>/<date>/<region>/<service>/aws4_request"},
		{"empty access key", "AWS4-HMAC-SHA256 Credential=/20260314/kumo-1/ec2/aws4_request, " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			"should be of the form"},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=" + testAKID + "/20260314/kumo-1/ec2/aws5_request, " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			"should end in aws4_request"},
		{"bad scope date", "AWS4-HMAC-SHA256 Credential=" + testAKID + "/2026-03-14/kumo-1/ec2/aws4_request, " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			"should be in yyyyMMdd format"},
		{"empty region", "AWS4-HMAC-SHA256 Credential=" + testAKID + "/20260314//ec2/aws4_request, " + goodSigned + ", " + goodSig, goodAmzDate, "", "",
			"empty region or service"},
		{"scope date not request date", goodAuth(), "20260315T000100Z", "", "",
			"credential scope date 20260314 does not match the request date 20260315"},
		{"bad x-amz-date", goodAuth(), "2026-03-14T12:00:00Z", "", "",
			`X-Amz-Date "2026-03-14T12:00:00Z" must be in ISO 8601 basic format`},
		{"short x-amz-date", goodAuth(), "20260314T12000Z", "", "",
			"must be in ISO 8601 basic format"},
		{"no date", goodAuth(), "", "", "",
			"requires existence of either a 'X-Amz-Date' or a 'Date' header"},
		{"host not signed", "AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders=x-amz-date, " + goodSig, goodAmzDate, "", "",
			"'Host' must be a signed header"},
		{"upper-case signed header", "AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders=Host;x-amz-date, " + goodSig, goodAmzDate, "", "",
			"must be lower-case"},
		{"unsorted signed headers", "AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders=x-amz-date;host, " + goodSig, goodAmzDate, "", "",
			"must be sorted"},
		{"empty signed header", "AWS4-HMAC-SHA256 " + goodCred + ", SignedHeaders=host;;x-amz-date, " + goodSig, goodAmzDate, "", "",
			"empty header name"},
		{"short signature", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodSigned + ", Signature=abcdef", goodAmzDate, "", "",
			"signature must be 64 hexadecimal characters"},
		{"non-hex signature", "AWS4-HMAC-SHA256 " + goodCred + ", " + goodSigned + ", Signature=" + strings.Repeat("zz", 32), goodAmzDate, "", "",
			"signature must be hexadecimal"},
		{"bad content sha", goodAuth(), goodAmzDate, "not-a-hash", "",
			"x-amz-content-sha256 must be UNSIGNED-PAYLOAD"},
		{"header and query auth", goodAuth(), goodAmzDate, "", "X-Amz-Algorithm=AWS4-HMAC-SHA256",
			"only one auth mechanism allowed"},
		{"bad query escape", goodAuth(), goodAmzDate, "", "Action=%zz",
			"not properly escaped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := malformedRequest(t, tt.query)
			r.Header.Set("Authorization", tt.auth)
			if tt.amzDate != "" {
				r.Header.Set("X-Amz-Date", tt.amzDate)
			}
			if tt.contentSHA != "" {
				r.Header.Set("X-Amz-Content-Sha256", tt.contentSHA)
			}
			_, err := newTestVerifier(false).Verify(context.Background(), r, nil)
			wantErr(t, err, ErrMalformed)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func goodAuth() string {
	return "AWS4-HMAC-SHA256 " + goodCred + ", " + goodSigned + ", " + goodSig
}

func malformedRequest(t *testing.T, query string) *http.Request {
	t.Helper()
	target := testEndpoint + "/"
	if query != "" {
		target += "?" + query
	}
	r, err := http.NewRequest(http.MethodGet, "http://placeholder/", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.URL.RawQuery = query
	r.Host = strings.TrimPrefix(testEndpoint, "http://")
	r.RequestURI = strings.TrimPrefix(target, testEndpoint)
	return r
}

func TestVerifyMalformedPresigned(t *testing.T) {
	const (
		alg  = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
		cred = "X-Amz-Credential=" + testAKID + "%2F20260314%2Fkumo-1%2Fs3%2Faws4_request"
		date = "X-Amz-Date=20260314T120000Z"
		exp  = "X-Amz-Expires=60"
		sh   = "X-Amz-SignedHeaders=host"
		sig  = "X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	)
	join := func(parts ...string) string { return strings.Join(parts, "&") }
	tests := []struct{ name, query, want string }{
		{"no algorithm", join(cred, date, exp, sh, sig), `X-Amz-Algorithm "" is not supported`},
		{"bad algorithm", join("X-Amz-Algorithm=AWS4-HMAC-SHA1", cred, date, exp, sh, sig), "only AWS4-HMAC-SHA256 is supported"},
		{"no credential", join(alg, date, exp, sh, sig), "query-string authentication requires 'Credential' parameter"},
		{"no signed headers", join(alg, cred, date, exp, sig), "requires 'SignedHeaders' parameter"},
		{"no signature", join(alg, cred, date, exp, sh), "requires 'Signature' parameter"},
		{"no date", join(alg, cred, exp, sh, sig), "requires the X-Amz-Date parameter"},
		{"bad date", join(alg, cred, "X-Amz-Date=20260314", exp, sh, sig), "must be in ISO 8601 basic format"},
		{"no expires", join(alg, cred, date, sh, sig), "requires the X-Amz-Expires parameter"},
		{"expires over a week", join(alg, cred, date, "X-Amz-Expires=604801", sh, sig), "must be less than a week"},
		{"negative expires", join(alg, cred, date, "X-Amz-Expires=-1", sh, sig), "should be a number of seconds"},
		{"non-numeric expires", join(alg, cred, date, "X-Amz-Expires=1h", sh, sig), "should be a number of seconds"},
		{"host not signed", join(alg, cred, date, exp, "X-Amz-SignedHeaders=x-amz-date", sig), "'Host' must be a signed header"},
		{"sigv2 query", "AWSAccessKeyId=" + testAKID + "&Signature=abc&SignatureVersion=2", "signature version 2 is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newTestVerifier(true).Verify(context.Background(), malformedRequest(t, tt.query), nil)
			wantErr(t, err, ErrMalformed)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}
