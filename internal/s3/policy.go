package s3

import (
	"errors"
	"fmt"
	"strings"

	iampolicy "github.com/kumo-cloud/kumo/internal/policy"
)

// MaxPolicySize is S3's limit on a bucket policy.
const MaxPolicySize = 20 << 10

func malformedPolicy(format string, args ...any) *Error {
	return apiError(ErrMalformedPolicy, format, args...)
}

// parsePolicy parses a bucket policy with the IAM policy engine (the
// whole language: conditions, Not* elements, variables) and checks S3's
// own rules: S3 actions only, and resources inside this bucket.
func parsePolicy(bucket string, text []byte) (*iampolicy.Policy, *Error) {
	if len(text) > MaxPolicySize {
		return nil, malformedPolicy("Policies must be smaller than %d bytes.", MaxPolicySize)
	}
	p, err := iampolicy.Parse(text, iampolicy.Resource)
	var me *iampolicy.MalformedError
	if errors.As(err, &me) {
		return nil, malformedPolicy("%s", me.Message)
	}
	if err != nil {
		return nil, malformedPolicy("%s", err)
	}
	for _, st := range p.Statements {
		for _, a := range st.Actions {
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") {
				return nil, malformedPolicy("Policy has invalid action")
			}
		}
		for _, r := range st.Resources {
			if !resourceInBucket(bucket, r) {
				return nil, malformedPolicy("Policy has invalid resource")
			}
		}
	}
	p.Name = "bucket-policy/" + bucket
	return p, nil
}

// resourceInBucket: a bucket policy may name only its bucket and its
// objects (wildcards after the bucket name).
func resourceInBucket(bucket, r string) bool {
	rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
	if !ok {
		return false
	}
	name, _, _ := strings.Cut(rest, "/")
	return name == bucket
}

func bucketARN(bucket string) string      { return "arn:aws:s3:::" + bucket }
func objectARN(bucket, key string) string { return fmt.Sprintf("arn:aws:s3:::%s/%s", bucket, key) }
