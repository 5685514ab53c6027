package policy

import "testing"

// TestMessage checks AWS's wording for each kind of denial.
func TestMessage(t *testing.T) {
	allow := mustParse(t, Identity, allowAll)
	deny := mustParse(t, Identity, denyAll)
	bucketDeny := mustParse(t, Resource, doc(stmt("Deny", "s3:*", bucket+"/*", principal(`"*"`))))
	stop := Request{Principal: alice, Action: "ec2:StopInstances", Resource: instA}
	cases := []struct {
		req  Request
		set  PolicySet
		want string
		eval string
	}{
		{stop, PolicySet{}, "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ec2:StopInstances on resource: " + instA +
			" because no identity-based policy allows the ec2:StopInstances action", "implicitDeny"},
		{stop, PolicySet{Identity: []*Policy{allow, deny}}, "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ec2:StopInstances on resource: " + instA +
			" with an explicit deny in an identity-based policy", "explicitDeny"},
		{stop, PolicySet{Identity: []*Policy{allow}, Boundary: mustParse(t, Identity, allowS3)}, "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ec2:StopInstances on resource: " + instA +
			" because no permissions boundary allows the ec2:StopInstances action", "implicitDeny"},
		{stop, PolicySet{Identity: []*Policy{allow}, Session: []*Policy{mustParse(t, Identity, allowS3)}}, "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ec2:StopInstances on resource: " + instA +
			" because no session policy allows the ec2:StopInstances action", "implicitDeny"},
		{Request{Principal: anon, Action: "s3:GetObject", Resource: objectARN, ResourceAccount: acctA}, PolicySet{Resource: []*Policy{bucketDeny}},
			"User: anonymous is not authorized to perform: s3:GetObject on resource: " + objectARN + " with an explicit deny in a resource-based policy", "explicitDeny"},
		{Request{Principal: bob, Action: "s3:GetObject", Resource: objectARN, ResourceAccount: acctA}, PolicySet{Identity: []*Policy{allow}},
			"User: arn:aws:iam::444455556666:user/bob is not authorized to perform: s3:GetObject on resource: " + objectARN + " because no resource-based policy allows the s3:GetObject action", "implicitDeny"},
		{stop, PolicySet{Identity: []*Policy{allow}}, "", "allowed"},
	}
	for i, c := range cases {
		d := Evaluate(c.req, c.set)
		if got := Message(c.req, d); got != c.want {
			t.Errorf("%d: message %q, want %q", i, got, c.want)
		}
		if got := d.Outcome.EvalDecision(); got != c.eval {
			t.Errorf("%d: EvalDecision %q, want %q", i, got, c.eval)
		}
	}
}
