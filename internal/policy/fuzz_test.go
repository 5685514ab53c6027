package policy

import "testing"

// FuzzParse: no document makes Parse panic, and whatever it accepts can
// be evaluated without panicking.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"iam:*","NotResource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"a*"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}]}`,
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${*}${?}${$}${aws:x, 'd''q'}","Condition":{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"NumericLessThan":{"s3:max-keys":1e3}}}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"a:b":true}}}}`,
		`{`, `[]`, `null`, `{"Statement":[]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	ctx := ctxOf("aws:username=alice", "aws:sourceip=10.1.2.3", "aws:tagkeys=a|b", "aws:currenttime=2019-06-01T00:00:00Z", "s3:max-keys=5")
	f.Fuzz(func(t *testing.T, doc []byte) {
		for _, kind := range []Kind{Identity, Resource, Trust} {
			p, err := Parse(doc, kind)
			if err != nil {
				if p != nil {
					t.Fatal("policy and error")
				}
				continue
			}
			set := PolicySet{Identity: []*Policy{p}}
			if kind != Identity {
				set = PolicySet{Resource: []*Policy{p}}
			}
			for _, pr := range []Principal{alice, bob, devA, anon, rootA, ec2Svc} {
				Evaluate(Request{Principal: pr, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/alice/x", Context: ctx}, set)
			}
		}
	})
}
