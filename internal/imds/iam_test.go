package imds

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func getPath(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

// TestIAMCredentials: iam/info and iam/security-credentials/<role> hold
// the documents botocore's InstanceMetadataFetcher parses, with the
// fields and formats it needs.
func TestIAMCredentials(t *testing.T) {
	in := fullInstance()
	exp := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	in.IAM = &IAM{InstanceProfileARN: "arn:aws:iam::123456789012:instance-profile/web", InstanceProfileID: "AIPAEXAMPLEEXAMPLE123",
		RoleName: "web-role", Credentials: IAMCredentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", Token: "tok",
			Expiration: exp, LastUpdated: exp.Add(-time.Hour)}}
	s := newServer(fixed(in), nil)
	if code, body := getPath(t, s, "/latest/meta-data/iam/"); code != 200 || body != "info\nsecurity-credentials/" {
		t.Errorf("iam/ = %d %q", code, body)
	}
	if code, body := getPath(t, s, "/latest/meta-data/iam/security-credentials/"); code != 200 || body != "web-role" {
		t.Errorf("security-credentials/ = %d %q", code, body)
	}
	code, body := getPath(t, s, "/latest/meta-data/iam/security-credentials/web-role")
	var c map[string]string
	if err := json.Unmarshal([]byte(body), &c); code != 200 || err != nil {
		t.Fatalf("credentials = %d %q (%v)", code, body, err)
	}
	want := map[string]string{"Code": "Success", "LastUpdated": "2026-11-25T12:00:00Z", "Type": "AWS-HMAC", "AccessKeyId": "ASIAEXAMPLE",
		"SecretAccessKey": "secret", "Token": "tok", "Expiration": "2026-11-25T13:00:00Z"}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("credentials[%s] = %q, want %q", k, c[k], v)
		}
	}
	code, body = getPath(t, s, "/latest/meta-data/iam/info")
	var info map[string]string
	if err := json.Unmarshal([]byte(body), &info); code != 200 || err != nil || info["Code"] != "Success" ||
		info["InstanceProfileArn"] != in.IAM.InstanceProfileARN || info["InstanceProfileId"] != in.IAM.InstanceProfileID || info["LastUpdated"] != "2026-11-25T12:00:00Z" {
		t.Errorf("info = %d %q", code, body)
	}
	if code, _ := getPath(t, s, "/latest/meta-data/iam/security-credentials/other-role"); code != 404 {
		t.Errorf("another role's credentials = %d, want 404", code)
	}

	// Credentials not fetched yet: the role is not listed.
	in.IAM.Credentials = IAMCredentials{}
	if code, body := getPath(t, s, "/latest/meta-data/iam/security-credentials/"); code != 200 || body != "" {
		t.Errorf("security-credentials/ before the first fetch = %d %q", code, body)
	}
	// No profile: no iam/.
	in.IAM = nil
	if code, _ := getPath(t, s, "/latest/meta-data/iam/info"); code != 404 {
		t.Errorf("iam/info without a profile = %d, want 404", code)
	}
}
