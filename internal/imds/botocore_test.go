package imds

import (
	"encoding/json"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"
)

// botocoreFetch is botocore's own reader of instance role credentials
// (what the AWS CLI and boto3 use on EC2), pointed at base.
const botocoreFetch = `
import json, sys
from botocore.utils import InstanceMetadataFetcher
f = InstanceMetadataFetcher(timeout=2, num_attempts=1, base_url=sys.argv[1])
print(json.dumps(f.retrieve_iam_role_credentials()))
`

// TestBotocoreReadsCredentials: botocore's InstanceMetadataFetcher
// (IMDSv2 token, iam/security-credentials/ listing, the role's document)
// gets the role credentials from the metadata service.
func TestBotocoreReadsCredentials(t *testing.T) {
	if err := exec.Command("python3", "-c", "import botocore.utils").Run(); err != nil {
		t.Skip("python3 with botocore is not installed")
	}
	in := fullInstance()
	exp := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	in.IAM = &IAM{InstanceProfileARN: "arn:aws:iam::123456789012:instance-profile/web", InstanceProfileID: "AIPAEXAMPLEEXAMPLE123",
		RoleName: "web-role", Credentials: IAMCredentials{AccessKeyID: "ASIAEXAMPLEEXAMPLE12", SecretAccessKey: "secret/key+x", Token: "KUMO1token==",
			Expiration: exp, LastUpdated: time.Now().UTC()}}
	ts := httptest.NewServer(newServer(fixed(in), nil))
	defer ts.Close()
	out, err := exec.CommandContext(t.Context(), "python3", "-c", botocoreFetch, ts.URL+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("botocore: %v\n%s", err, out)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("botocore printed %q: %v", out, err)
	}
	want := map[string]string{"role_name": "web-role", "access_key": "ASIAEXAMPLEEXAMPLE12", "secret_key": "secret/key+x",
		"token": "KUMO1token==", "expiry_time": exp.Format(imdsTime)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("botocore %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}
