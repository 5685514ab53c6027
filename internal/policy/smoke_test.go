package policy

import "testing"

func TestSmoke(t *testing.T) {
	p := mustParse(t, Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},
	{"Effect":"Allow","Action":"ec2:StopInstances","Resource":"arn:aws:ec2:*:*:instance/*","Condition":{"StringEquals":{"ec2:ResourceTag/team":"blue"}}}]}`)
	d := Evaluate(Request{Principal: alice, Action: "EC2:describeinstances", Resource: "*"}, PolicySet{Identity: []*Policy{p}})
	if describe(d) != "allow I0.0" {
		t.Fatal(describe(d))
	}
	d = Evaluate(Request{Principal: alice, Action: "ec2:StopInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
		Context: ctxOf("ec2:resourcetag/Team=blue")}, PolicySet{Identity: []*Policy{p}})
	if describe(d) != "allow I0.1" {
		t.Fatal(describe(d))
	}
	d = Evaluate(Request{Principal: alice, Action: "ec2:StopInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
		Context: ctxOf("ec2:resourcetag/Team=red")}, PolicySet{Identity: []*Policy{p}})
	if describe(d) != "implicit identity-based" {
		t.Fatal(describe(d))
	}
}
