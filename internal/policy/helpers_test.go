package policy

import (
	"fmt"
	"strings"
	"testing"
)

const (
	acctA = "111122223333"
	acctB = "444455556666"
)

var (
	alice = Principal{Kind: User, Account: acctA, ARN: "arn:aws:iam::111122223333:user/alice"}
	carol = Principal{Kind: User, Account: acctA, ARN: "arn:aws:iam::111122223333:user/division_abc/subdivision_xyz/carol"}
	bob   = Principal{Kind: User, Account: acctB, ARN: "arn:aws:iam::444455556666:user/bob"}
	rootA = Principal{Kind: Root, Account: acctA, ARN: "arn:aws:iam::111122223333:root"}
	rootB = Principal{Kind: Root, Account: acctB, ARN: "arn:aws:iam::444455556666:root"}
	devA  = Principal{Kind: AssumedRole, Account: acctA, ARN: "arn:aws:sts::111122223333:assumed-role/Dev/alice",
		RoleARN: "arn:aws:iam::111122223333:role/Dev"}
	devB = Principal{Kind: AssumedRole, Account: acctB, ARN: "arn:aws:sts::444455556666:assumed-role/Dev/bob",
		RoleARN: "arn:aws:iam::444455556666:role/Dev"}
	fedA   = Principal{Kind: FederatedUser, Account: acctA, ARN: "arn:aws:sts::111122223333:federated-user/fred"}
	anon   = Principal{Kind: Anonymous}
	ec2Svc = Principal{Kind: Service, Service: "ec2.amazonaws.com"}
	oidc   = Principal{Kind: WebIdentity, Federated: "arn:aws:iam::111122223333:oidc-provider/login.example.com"}
)

// mustParse parses a document of the kind, failing the test on error.
func mustParse(t testing.TB, kind Kind, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc), kind)
	if err != nil {
		t.Fatalf("parse %s: %v", doc, err)
	}
	return p
}

// ctxOf builds a context from "key=v1|v2" strings; "key=" is a present
// key with an empty set, `key=""` a key whose one value is "".
func ctxOf(kv ...string) *Context {
	c := NewContext()
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		switch v {
		case "":
			c.Set(k)
			continue
		case `""`:
			c.Set(k, "")
			continue
		}
		c.Set(k, strings.Split(v, "|")...)
	}
	return c
}

// describe renders a decision as the tables write it: "allow I0.1"
// (identity policy 0, statement 1), "deny R0.0", "implicit identity",
// "root".
func describe(d Decision) string {
	switch {
	case d.RootAccess:
		return "root"
	case d.Outcome == ImplicitDeny:
		return "implicit " + strings.Fields(d.Missing.String())[0]
	}
	verb := "allow"
	if d.Outcome == ExplicitDeny {
		verb = "deny"
	}
	return verb + " " + ref(d.By)
}

func ref(m *Match) string {
	if m == nil {
		return "?"
	}
	letter := map[PolicyType]string{IdentityPolicy: "I", ResourcePolicy: "R", BoundaryPolicy: "B", SessionPolicy: "S"}[m.Type]
	return fmt.Sprintf("%s%d.%d", letter, m.Index, m.Statement)
}
