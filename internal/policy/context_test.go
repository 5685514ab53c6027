package policy

import (
	"slices"
	"testing"
)

// TestSetPrincipal checks the global keys derived from each kind of
// caller (AWS's "global condition context keys" page).
func TestSetPrincipal(t *testing.T) {
	carolID := carol
	carolID.UserID = "AIDAEXAMPLECAROL"
	session := devA
	session.UserID = "AROAEXAMPLE:alice"
	cases := []struct {
		p    Principal
		want map[string]string // key -> value; "" = absent
	}{
		{carolID, map[string]string{"aws:PrincipalType": "User", "aws:username": "carol", "aws:userid": "AIDAEXAMPLECAROL",
			"aws:PrincipalArn": carol.ARN, "aws:PrincipalAccount": acctA, "aws:PrincipalIsAWSService": "false"}},
		{session, map[string]string{"aws:PrincipalType": "AssumedRole", "aws:username": "", "aws:userid": "AROAEXAMPLE:alice",
			"aws:PrincipalArn": roleDev, "aws:PrincipalAccount": acctA}},
		{rootA, map[string]string{"aws:PrincipalType": "Account", "aws:PrincipalArn": rootA.ARN, "aws:username": ""}},
		{fedA, map[string]string{"aws:PrincipalType": "FederatedUser", "aws:PrincipalArn": fedA.ARN}},
		{anon, map[string]string{"aws:PrincipalType": "Anonymous", "aws:PrincipalArn": "", "aws:PrincipalAccount": ""}},
		{ec2Svc, map[string]string{"aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": "ec2.amazonaws.com", "aws:PrincipalArn": ""}},
	}
	for _, c := range cases {
		ctx := NewContext().SetPrincipal(c.p)
		for k, want := range c.want {
			got, ok := ctx.Get(k)
			switch {
			case want == "" && ok:
				t.Errorf("%s: %s = %v, want absent", c.p.ARN, k, got)
			case want != "" && !slices.Equal(got, []string{want}):
				t.Errorf("%s: %s = %v, want %s", c.p.ARN, k, got, want)
			}
		}
	}
}

// TestContext checks key case, empty sets, Add, Delete, Clone and nil.
func TestContext(t *testing.T) {
	c := NewContext().Set("AWS:SourceIp", "10.0.0.1").Set("aws:TagKeys")
	if v, ok := c.Get("aws:sourceip"); !ok || v[0] != "10.0.0.1" {
		t.Fatal("keys are not case-insensitive")
	}
	if v, ok := c.Get("aws:tagkeys"); !ok || len(v) != 0 {
		t.Fatal("an empty set is not present")
	}
	c.Add("aws:TagKeys", "a").Add("aws:tagkeys", "b")
	d := c.Clone()
	c.Delete("aws:tagkeys")
	if _, ok := c.Get("aws:TagKeys"); ok {
		t.Fatal("Delete left the key")
	}
	if v, _ := d.Get("aws:TagKeys"); !slices.Equal(v, []string{"a", "b"}) {
		t.Fatalf("clone has %v", v)
	}
	var zero Context
	zero.Set("a:b", "c")
	var none *Context
	if _, ok := none.Get("a:b"); ok {
		t.Fatal("nil context has a key")
	}
	// A nil context evaluates like an empty one.
	p := mustParse(t, Identity, doc(stmt("Allow", "*", "arn:aws:s3:::b/${aws:username}/*", cond(`{"StringNotEquals":{"aws:username":"x"}}`))))
	d2 := Evaluate(Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/alice/x"}, PolicySet{Identity: []*Policy{p}})
	if describe(d2) != "implicit identity-based" {
		t.Fatalf("nil context: %s", describe(d2))
	}
}

// TestPrincipalKeysInPolicies evaluates documented uses of the derived
// keys: deny everyone but one role (ArnNotEquals aws:PrincipalArn), allow
// only IAM users' own folders.
func TestPrincipalKeysInPolicies(t *testing.T) {
	bucketPolicy := mustParse(t, Resource, doc(
		stmt("Allow", "s3:*", bucket+"/*", principal(`{"AWS":"111122223333"}`)),
		stmt("Deny", "s3:*", bucket+"/*", principal(`"*"`), cond(`{"ArnNotEquals":{"aws:PrincipalArn":"`+roleDev+`"}}`))))
	home := mustParse(t, Identity, doc(stmt("Allow", "s3:*", bucket+"/home/${aws:username}/*")))
	cases := []struct {
		p    Principal
		res  string
		want string
	}{
		{devA, objectARN, "allow I0.0"},
		{alice, objectARN, "deny R0.1"},
		{rootA, objectARN, "deny R0.1"},
		{carol, bucket + "/home/carol/x", "deny R0.1"},
	}
	for _, c := range cases {
		ctx := NewContext().SetPrincipal(c.p)
		d := Evaluate(Request{Principal: c.p, Action: "s3:GetObject", Resource: c.res, Context: ctx},
			PolicySet{Identity: []*Policy{mustParse(t, Identity, allowS3)}, Resource: []*Policy{bucketPolicy}})
		if got := describe(d); got != c.want {
			t.Errorf("%s on %s: %s, want %s", c.p.ARN, c.res, got, c.want)
		}
	}
	ctx := NewContext().SetPrincipal(carol)
	d := Evaluate(Request{Principal: carol, Action: "s3:GetObject", Resource: bucket + "/home/carol/x", Context: ctx}, PolicySet{Identity: []*Policy{home}})
	if describe(d) != "allow I0.0" {
		t.Errorf("carol's home: %s", describe(d))
	}
	d = Evaluate(Request{Principal: devA, Action: "s3:GetObject", Resource: bucket + "/home/alice/x", Context: NewContext().SetPrincipal(devA)}, PolicySet{Identity: []*Policy{home}})
	if describe(d) != "implicit identity-based" {
		t.Errorf("a role session has no aws:username: %s", describe(d))
	}
}
