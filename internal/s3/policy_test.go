package s3

import (
	"testing"

	"github.com/kumo-cloud/kumo/internal/identity"
)

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"s3:get*", "s3:getobject", true}, {"s3:get*", "s3:putobject", false},
		{"arn:aws:s3:::b/public/*", "arn:aws:s3:::b/public/x/y", true}, {"arn:aws:s3:::b/public/*", "arn:aws:s3:::b/publicx", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*a*b*", "xxaxxbxx", true}, {"*a*b", "xxaxxbxxc", false},
		{"arn:aws:s3:::b", "arn:aws:s3:::b/k", false}, {"", "", true}, {"", "x", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func caller(account, user string) Caller {
	return Caller{Principal: identity.Principal{AccountID: account, UserName: user}}
}

func TestPolicyDecisions(t *testing.T) {
	p, err := parsePolicy("b", []byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":["111111111111","arn:aws:iam::222222222222:user/team/alice"]},"Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"},
		{"Effect":"Allow","Principal":"*","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::b"]},
		{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:*","Resource":"arn:aws:s3:::b/secret/*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	anon := Caller{Anonymous: true}
	for _, tc := range []struct {
		who              Caller
		action, resource string
		allow, deny      bool
	}{
		{caller("111111111111", ""), "s3:GetObject", "arn:aws:s3:::b/k", true, false},
		{caller("111111111111", "bob"), "s3:GetObject", "arn:aws:s3:::b/k", true, false},
		{caller("111111111111", ""), "s3:GetObject", "arn:aws:s3:::b/secret/k", true, true},
		{caller("111111111111", ""), "s3:PutObject", "arn:aws:s3:::b/k", false, false},
		{caller("222222222222", "alice"), "s3:GetObject", "arn:aws:s3:::b/k", true, false},
		{caller("222222222222", "mallory"), "s3:GetObject", "arn:aws:s3:::b/k", false, false},
		{caller("222222222222", ""), "s3:GetObject", "arn:aws:s3:::b/k", false, false},
		{anon, "s3:ListBucket", "arn:aws:s3:::b", true, false},
		{anon, "s3:GetObject", "arn:aws:s3:::b/k", false, false},
		{caller("333333333333", ""), "S3:LISTBUCKET", "arn:aws:s3:::b", true, false},
	} {
		allow, deny := p.decide(tc.who, tc.action, tc.resource)
		if allow != tc.allow || deny != tc.deny {
			t.Errorf("%+v %s %s: allow %v deny %v, want %v %v", tc.who, tc.action, tc.resource, allow, deny, tc.allow, tc.deny)
		}
	}
}

// TestAccessRules walks access's rules: owner, Deny over owner (except
// policy management), policy Allow, bucket ACL grants.
func TestAccessRules(t *testing.T) {
	owner, other, anon := caller("111111111111", "alice"), caller("222222222222", ""), Caller{Anonymous: true}
	bucket := func(acl, policy string) *access {
		a, err := newAccess(owner, storeBucket("b", "111111111111", acl, policy))
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
