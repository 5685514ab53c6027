package iam

import (
	"errors"
	"net/url"
	"testing"

	"github.com/kumo-cloud/kumo/internal/awsapi"
)

func TestCheckPolicyDocument(t *testing.T) {
	tests := []struct {
		name, doc string
		kind      docKind
		want      string // "" = accepted, else IAM's message
	}{
		{"allow all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, identityPolicy, ""},
		{"one statement object", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:s3:::b"}}`, identityPolicy, ""},
		{"old version", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, identityPolicy, ""},
		{"trust", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`, trustPolicy, ""},
		{"not json", `{`, identityPolicy, "Syntax errors in policy."},
		{"an array", `[]`, identityPolicy, "Syntax errors in policy."},
		{"null", `null`, identityPolicy, "Syntax errors in policy."},
		{"no version", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, identityPolicy, "Policy document must be version 2012-10-17 or greater."},
		{"bad version", `{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, identityPolicy, "Policy document must be version 2012-10-17 or greater."},
		{"no statement", `{"Version":"2012-10-17"}`, identityPolicy, "Syntax errors in policy."},
		{"empty statements", `{"Version":"2012-10-17","Statement":[]}`, identityPolicy, "Syntax errors in policy."},
		{"statement not an object", `{"Version":"2012-10-17","Statement":["x"]}`, identityPolicy, "Syntax errors in policy."},
		{"no effect", `{"Version":"2012-10-17","Statement":[{"Action":"*","Resource":"*"}]}`, identityPolicy, "Syntax errors in policy."},
		{"lower-case effect", `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`, identityPolicy, "Syntax errors in policy."},
		{"no action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`, identityPolicy, "Policy statement must contain actions."},
		{"action and notaction", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}]}`, identityPolicy, "Syntax errors in policy."},
		{"action a number", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":5,"Resource":"*"}]}`, identityPolicy, "Syntax errors in policy."},
		{"no resource", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]}`, identityPolicy, "Policy statement must contain resources."},
		{"principal in identity policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, identityPolicy, "Policy document should not specify a principal."},
		{"resource in trust policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`, trustPolicy, "Has prohibited field Resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPolicyDocument(tt.doc, tt.kind)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *awsapi.Error
			if !errors.As(err, &ae) || ae.Code != "MalformedPolicyDocument" || ae.Message != tt.want || ae.HTTPStatus != 400 {
				t.Fatalf("error = %v, want MalformedPolicyDocument %q", err, tt.want)
			}
		})
	}
}

func TestEncodeDocument(t *testing.T) {
	doc := "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Action\": \"s3:Get*\", \"Resource\": \"arn:aws:s3:::b/a+b~c\"}]}"
	enc := encodeDocument(doc)
	want := "%7B%22Version%22%3A%20%222012-10-17%22%2C%0A%20%22Statement%22%3A%20%5B%7B%22Action%22%3A%20%22s3%3AGet%2A%22%2C%20%22Resource%22%3A%20%22arn%3Aaws%3As3%3A%3A%3Ab%2Fa%2Bb~c%22%7D%5D%7D"
	if enc != want {
		t.Errorf("encodeDocument =\n%s\nwant\n%s", enc, want)
	}
	if back, err := url.QueryUnescape(enc); err != nil || back != doc {
		t.Errorf("QueryUnescape(encoded) = %q, %v", back, err)
	}
	if back, err := url.PathUnescape(enc); err != nil || back != doc {
		t.Errorf("PathUnescape(encoded) = %q, %v", back, err)
	}
	if n := policySize(doc); n != len(doc)-7 {
		t.Errorf("policySize = %d, want %d (six spaces and a newline not counted)", n, len(doc)-7)
	}
}
