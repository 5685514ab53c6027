package s3

import (
	"testing"

	"github.com/kumo-cloud/kumo/internal/identity"
)

func caller(account, user string) Caller {
	return Caller{Principal: identity.Principal{AccountID: account, UserName: user}}
}

// TestPolicyDecisions: a bucket policy evaluated by the IAM engine for
// callers of other accounts (whose identity side allows everything here:
// the server has no authorizer).
func TestPolicyDecisions(t *testing.T) {
	const doc = `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":["111111111111","arn:aws:iam::222222222222:user/alice"]},"Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"},
		{"Effect":"Allow","Principal":"*","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::b"],"Condition":{"StringLike":{"s3:prefix":"public/*"}}},
		{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:*","Resource":"arn:aws:s3:::b/secret/*"}]}`
	anon := Caller{Anonymous: true}
	for _, tc := range []struct {
		who         Caller
		action, key string
		prefix      string
		want        bool
	}{
		{caller("111111111111", ""), "s3:GetObject", "k", "", true},
		{caller("111111111111", "bob"), "s3:GetObject", "k", "", true},
		{caller("111111111111", ""), "s3:GetObject", "secret/k", "", false},
		{caller("111111111111", "bob"), "s3:GetObject", "secret/k", "", false}, // the account's deny covers its users
		{caller("111111111111", ""), "s3:PutObject", "k", "", false},
		{caller("222222222222", "alice"), "s3:GetObject", "k", "", true},
		{caller("222222222222", "mallory"), "s3:GetObject", "k", "", false},
		{caller("222222222222", ""), "s3:GetObject", "k", "", false},
		{anon, "s3:ListBucket", "", "public/", true},
		{anon, "s3:ListBucket", "", "private/", false},
		{anon, "s3:ListBucket", "", "", false},
		{anon, "s3:GetObject", "k", "", false},
		{caller("333333333333", ""), "S3:LISTBUCKET", "", "public/x", true},
	} {
		meta := requestMeta{keys: map[string][]string{}}
		if tc.prefix != "" {
			meta.keys["s3:prefix"] = []string{tc.prefix}
		}
		a, err := (&Server{}).newAccess(t.Context(), tc.who, storeBucket("b", "999999999999", "private", doc), meta)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.allows(tc.action, tc.key); got != tc.want {
			t.Errorf("%+v %s %q (prefix %q): allowed %v, want %v", tc.who, tc.action, tc.key, tc.prefix, got, tc.want)
		}
	}
}

// TestAccessRules walks access's rules: owner, Deny over owner (except
// policy management), policy Allow, bucket ACL grants.
func TestAccessRules(t *testing.T) {
	owner, other, anon := caller("111111111111", ""), caller("222222222222", ""), Caller{Anonymous: true}
	bucket := func(acl, policy string) *access {
		a, err := (&Server{}).newAccess(t.Context(), owner, storeBucket("b", "111111111111", acl, policy), requestMeta{})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	deny := `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`
	for _, tc := range []struct {
		name        string
		a           *access
		who         Caller
		action, key string
		want        bool
	}{
		{"owner", bucket("private", ""), owner, "s3:PutObject", "k", true},
		{"other account", bucket("private", ""), other, "s3:GetObject", "k", false},
		{"anonymous", bucket("private", ""), anon, "s3:ListBucket", "", false},
		{"public-read lists", bucket("public-read", ""), anon, "s3:ListBucket", "", true},
		{"public-read does not write", bucket("public-read", ""), anon, "s3:PutObject", "k", false},
		{"public-read bucket does not read objects", bucket("public-read", ""), other, "s3:GetObject", "k", false},
		{"public-read-write writes", bucket("public-read-write", ""), other, "s3:PutObject", "k", true},
		{"authenticated-read: signed", bucket("authenticated-read", ""), other, "s3:ListBucket", "", true},
		{"authenticated-read: anonymous", bucket("authenticated-read", ""), anon, "s3:ListBucket", "", false},
		{"deny beats owner", bucket("private", deny), owner, "s3:GetObject", "k", false},
		{"owner may still fix the policy", bucket("private", deny), owner, "s3:DeleteBucketPolicy", "", true},
		{"others may not", bucket("private", deny), other, "s3:DeleteBucketPolicy", "", false},
		{"deny beats ACL", bucket("public-read", deny), anon, "s3:ListBucket", "", false},
	} {
		tc.a.caller = tc.who
		if got := tc.a.allows(tc.action, tc.key); got != tc.want {
			t.Errorf("%s: allows(%s, %q) = %v", tc.name, tc.action, tc.key, got)
		}
	}
}
