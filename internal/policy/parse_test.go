package policy

import (
	"errors"
	"testing"
)

// TestParse checks the documents IAM accepts and the message it refuses
// the others with.
func TestParse(t *testing.T) {
	const v = `"Version":"2012-10-17",`
	cases := []struct {
		name string
		kind Kind
		doc  string
		want string // "" = accepted
	}{
		{"statement object", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}}`, ""},
		{"statement list", Identity, `{` + v + `"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b/*"]}]}`, ""},
		{"old version", Identity, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, ""},
		{"no version", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, ""},
		{"Id", Identity, `{` + v + `"Id":"x","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, ""},
		{"not-action not-resource", Identity, `{` + v + `"Statement":{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::*:user/*"}}`, ""},
		{"condition forms", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10},"ForAnyValue:StringLike":{"aws:TagKeys":["a*","b"]},"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}}}`, ""},
		{"bad json", Identity, `{"Version":`, msgSyntax},
		{"not an object", Identity, `[1]`, msgSyntax},
		{"empty", Identity, ``, msgSyntax},
		{"unknown top element", Identity, `{` + v + `"Statment":[]}`, msgSyntax},
		{"bad version", Identity, `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, msgLegacy},
		{"version not string", Identity, `{"Version":2012,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, msgSyntax},
		{"no statement", Identity, `{` + `"Version":"2012-10-17"}`, msgNoStatement},
		{"null statement", Identity, `{` + v + `"Statement":null}`, msgNoStatement},
		{"empty statement list", Identity, `{` + v + `"Statement":[]}`, msgNoStatement},
		{"statement a string", Identity, `{` + v + `"Statement":"x"}`, msgSyntax},
		{"unknown statement element", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Foo":1}}`, msgSyntax},
		{"no effect", Identity, `{` + v + `"Statement":{"Action":"*","Resource":"*"}}`, msgNoEffect},
		{"bad effect", Identity, `{` + v + `"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, msgSyntax},
		{"no action", Identity, `{` + v + `"Statement":{"Effect":"Allow","Resource":"*"}}`, msgNoActions},
		{"empty action list", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, msgNoActions},
		{"action and notaction", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}}`, "Statement cannot contain both Action and NotAction."},
		{"action without vendor", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, msgVendor},
		{"action two colons", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:Get:Object","Resource":"*"}}`, msgOneColon},
		{"vendor wildcard", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"s*:GetObject","Resource":"*"}}`, msgVendorWildcard},
		{"action number", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":3,"Resource":"*"}}`, msgSyntax},
		{"no resource", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*"}}`, msgNoResources},
		{"resource not arn", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"mybucket"}}`, `Resource mybucket must be in ARN format or "*".`},
		{"resource short arn", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3"}}`, `Resource arn:aws:s3 must be in ARN format or "*".`},
		{"resource and notresource", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}`, "Statement cannot contain both Resource and NotResource."},
		{"identity with principal", Identity, `{` + v + `"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, msgHasPrincipal},
		{"identity with notprincipal", Identity, `{` + v + `"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}}`, msgHasPrincipal},
		{"duplicate sid", Identity, `{` + v + `"Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}`, msgSidUnique},
		{"sid with space in IAM", Identity, `{` + v + `"Statement":{"Sid":"my sid","Effect":"Allow","Action":"*","Resource":"*"}}`, msgSidAlnum},
		{"sid with space in bucket policy", Resource, `{` + v + `"Statement":{"Sid":"my sid","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, ""},
		{"bad condition operator", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}}`, "Invalid Condition type : StringEqualz."},
		{"bad set qualifier", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"aws:TagKeys":"a"}}}}`, "Invalid Condition type : ForSomeValues:StringEquals."},
		{"condition key without vendor", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"username":"a"}}}}`, msgVendor},
		{"condition value object", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}}`, msgSyntax},
		{"condition not object", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":["x"]}}`, msgSyntax},
		{"resource policy no principal", Resource, `{` + v + `"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, msgNoPrincipal},
		{"principal star", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, ""},
		{"principal AWS star", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, ""},
		{"principal account id", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, ""},
		{"principal list", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:role/Dev","arn:aws:sts::111122223333:assumed-role/Dev/s1","arn:aws:sts::111122223333:federated-user/f"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, ""},
		{"principal service", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}}`, ""},
		{"principal federated", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity"}}`, ""},
		{"principal canonical", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, ""},
		{"principal string not star", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":"111122223333","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, `Invalid principal in policy: "111122223333"`},
		{"principal wildcard arn", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/*"`},
		{"principal bad account", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, `Invalid principal in policy: "AWS":"12345"`},
		{"principal unknown type", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"Users":"alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, `Invalid principal in policy: "Users":"alice"`},
		{"principal empty object", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, msgNoPrincipal},
		{"principal not arn of principal", Resource, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:s3:::b"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, `Invalid principal in policy: "AWS":"arn:aws:s3:::b"`},
		{"principal and notprincipal", Resource, `{` + v + `"Statement":{"Effect":"Deny","Principal":"*","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}}`, "Statement cannot contain both Principal and NotPrincipal."},
		{"trust without principal", Trust, `{` + v + `"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, msgNoPrincipal},
		{"trust with resource", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Resource":"*"}}`, "Has prohibited field Resource"},
		{"trust with notresource", Trust, `{` + v + `"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","NotResource":"*"}}`, "Has prohibited field NotResource"},
		{"Null without IfExists suffix stripping", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}}`, ""},
		{"every operator", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
			"StringEquals":{"a:b":"x"},"StringNotEquals":{"a:b":"x"},"StringEqualsIgnoreCase":{"a:b":"x"},"StringNotEqualsIgnoreCase":{"a:b":"x"},
			"StringLike":{"a:b":"x"},"StringNotLike":{"a:b":"x"},"NumericEquals":{"a:b":"1"},"NumericNotEquals":{"a:b":"1"},
			"NumericLessThan":{"a:b":"1"},"NumericLessThanEquals":{"a:b":"1"},"NumericGreaterThan":{"a:b":"1"},"NumericGreaterThanEquals":{"a:b":"1"},
			"DateEquals":{"a:b":"2020-01-01"},"DateNotEquals":{"a:b":"2020-01-01"},"DateLessThan":{"a:b":"2020-01-01"},"DateLessThanEquals":{"a:b":"2020-01-01"},
			"DateGreaterThan":{"a:b":"2020-01-01"},"DateGreaterThanEquals":{"a:b":"2020-01-01"},"Bool":{"a:b":"true"},"BinaryEquals":{"a:b":"QmluYXJ5"},
			"IpAddress":{"a:b":"10.0.0.0/8"},"NotIpAddress":{"a:b":"10.0.0.0/8"},"ArnEquals":{"a:b":"arn:aws:s3:::b"},"ArnLike":{"a:b":"arn:aws:s3:::b"},
			"ArnNotEquals":{"a:b":"arn:aws:s3:::b"},"ArnNotLike":{"a:b":"arn:aws:s3:::b"},"Null":{"a:b":"true"},"StringEqualsIfExists":{"a:b":"x"},
			"ForAllValues:StringEquals":{"a:b":"x"},"ForAnyValue:StringLikeIfExists":{"a:b":"x"}}}}`, ""},
		{"NullIfExists is not an operator", Identity, `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"a:b":"true"}}}}`, "Invalid Condition type : NullIfExists."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc), c.kind)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want MalformedError %q", err, c.want)
			}
			if me.Message != c.want {
				t.Fatalf("message = %q, want %q", me.Message, c.want)
			}
		})
	}
}

// TestParseKeepsElements checks what a parsed statement reports.
func TestParseKeepsElements(t *testing.T) {
	p := mustParse(t, Resource, `{"Version":"2012-10-17","Id":"P1","Statement":[{"Sid":"S1","Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},
		"NotAction":"s3:Get*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}}]}`)
	st := p.Statements[0]
	if p.ID != "P1" || p.Version != Version2012 || st.Sid != "S1" || st.Effect != Deny || !st.NotPrincipals || !st.NotActions ||
		!st.NotResources || len(st.Resources) != 2 || st.Principals.AWS[0] != "arn:aws:iam::111122223333:root" ||
		st.Conditions[0].Values[0] != "false" || st.Conditions[0].Operator != "Bool" {
		t.Fatalf("parsed %+v", p)
	}
}
