package sigv4

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"
)

const fuzzBody = "Action=GetCallerIdentity&Version=2011-06-15"

// FuzzVerify checks that Verify never panics, whatever the header values,
// query and path, and that only the seed's real signature verifies.
func FuzzVerify(f *testing.F) {
	seed := signForm(f, "sts", fuzzBody, testSecret, testNow())
	f.Add(seed.Header.Get("Authorization"), seed.Header.Get("X-Amz-Date"), "", "", "/", seed.Header.Get("Content-Type"))
	f.Add(goodAuth(), goodAmzDate, UnsignedPayload, "a=b&c", "/x/../y", "")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=;,Signature=", "", "zz", "%", "//", "")
	f.Add("", "", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k%2F20260314%2Fr%2Fs%2Faws4_request&X-Amz-Date=20260314T120000Z&X-Amz-Expires=9&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "/b/k", "")
	lookup := func(context.Context, string) (string, error) { return testSecret, nil }
	verifiers := []*Verifier{
		{Lookup: lookup, Now: testNow},
		{Lookup: lookup, Now: testNow, S3: true},
	}
	f.Fuzz(func(t *testing.T, auth, amzDate, contentSHA, rawQuery, path, contentType string) {
		r := fuzzRequest(auth, amzDate, contentSHA, rawQuery, path, contentType)
		for _, v := range verifiers {
			res, err := v.Verify(context.Background(), r, []byte(fuzzBody))
			if err == nil && (res == nil || res.Signature == "" || res.Time.Sub(testNow()).Abs() > 15*time.Minute) {
				t.Fatalf("verified with result %+v", res)
			}
		}
	})
}

// TestFuzzHarness checks that the first seed of FuzzVerify verifies, so the
// fuzzer starts from a request that reaches the end of Verify.
func TestFuzzHarness(t *testing.T) {
	seed := signForm(t, "sts", fuzzBody, testSecret, testNow())
	r := fuzzRequest(seed.Header.Get("Authorization"), seed.Header.Get("X-Amz-Date"), "", "", "/", seed.Header.Get("Content-Type"))
	if _, err := newTestVerifier(false).Verify(context.Background(), r, []byte(fuzzBody)); err != nil {
		t.Fatal(err)
	}
}

func fuzzRequest(auth, amzDate, contentSHA, rawQuery, path, contentType string) *http.Request {
	r := &http.Request{
		Method:        http.MethodPost,
		URL:           &url.URL{Path: path, RawQuery: rawQuery},
		Host:          "kumo.example:8443",
		Header:        http.Header{},
		RequestURI:    path + "?" + rawQuery,
		ContentLength: int64(len(fuzzBody)),
	}
	setIf(r.Header, "Authorization", auth)
	setIf(r.Header, "X-Amz-Date", amzDate)
	setIf(r.Header, "X-Amz-Content-Sha256", contentSHA)
	setIf(r.Header, "Content-Type", contentType)
	return r
}

func setIf(h http.Header, key, value string) {
	if value != "" {
		h[key] = []string{value}
	}
}
