package policy

import (
	"fmt"
	"strings"
)

// Request is what a caller asks to do: one action on one resource. An
// action that touches several resources (RunInstances: the instance, its
// subnet, its image...) is one Request per resource.
type Request struct {
	Principal Principal
	Action    string // "ec2:RunInstances"; compared case-insensitively
	// Resource is the ARN authorized against, or "*" for actions with no
	// resource type (Describe*).
	Resource string
	// ResourceAccount owns the resource; "" means the principal's own
	// account. A different account makes the request cross-account.
	ResourceAccount string
	Context         *Context
}

// PolicySet is every policy that applies to a request.
type PolicySet struct {
	// Identity holds the principal's identity-based policies: its
	// inline and attached policies and those of its groups (a role
	// session: its role's).
	Identity []*Policy
	// Resource holds the resource's policy (an S3 bucket policy, a
	// role's trust policy).
	Resource []*Policy
	// Boundary is the principal's permissions boundary, nil if none.
	Boundary *Policy
	// Session holds a session's session policies, empty if none.
	Session []*Policy
	// RequireResource says the resource policy must allow by itself
	// naming the principal or its account: AWS's rule for role trust
	// policies, which identity policies alone never satisfy.
	RequireResource bool
}

// Outcome is an evaluation's result.
type Outcome int

const (
	ImplicitDeny Outcome = iota // nothing allows
	Allowed
	ExplicitDeny // a Deny statement applies
)

func (o Outcome) String() string {
	switch o {
	case Allowed:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// PolicyType names the kinds of policies AWS evaluates.
type PolicyType int

const (
	NoPolicy PolicyType = iota
	IdentityPolicy
	ResourcePolicy
	BoundaryPolicy
	SessionPolicy
)

var policyTypeNames = [...]string{"", "identity-based policy", "resource-based policy", "permissions boundary", "session policy"}

func (t PolicyType) String() string { return policyTypeNames[t] }

// Match names the statement a decision rests on.
type Match struct {
	Type      PolicyType
	Policy    string // the policy's Name
	Index     int    // the policy's index in its PolicySet list
	Statement int    // the statement's index in the policy
	Sid       string
}

func (m Match) String() string {
	return fmt.Sprintf("%s %q statement %d (Sid %q)", m.Type, m.Policy, m.Statement, m.Sid)
}

// Decision is the answer to a request.
type Decision struct {
	Outcome Outcome
	// By is the statement that decided: the Deny that applied, or the
	// Allow that granted (for a request both an identity and a resource
	// policy had to allow, the resource policy's is in Also). Nil for an
	// implicit deny and for the root user's own access.
	By   *Match
	Also *Match
	// Missing names, for an implicit deny, the kind of policy that had no
	// Allow: what AWS's denial message reports ("because no
	// identity-based policy allows the ec2:StopInstances action").
	Missing PolicyType
	// RootAccess is true when the account root user was allowed as such.
	RootAccess bool
}

// Allowed reports whether the request is allowed.
func (d Decision) Allowed() bool { return d.Outcome == Allowed }

// prepared is a request in the form statements match against.
type prepared struct {
	req    *Request
	action string // lower case
	parts  [6]string
	isARN  bool
}

// rootPolicyActions are the S3 actions the bucket owner's root user may
// always take, whatever the bucket policy denies (S3's safeguard against
// a policy that locks everyone out).
var rootPolicyActions = []string{"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"}

// Evaluate decides a request by AWS's policy evaluation logic: an
// applicable Deny anywhere denies; otherwise the request is allowed when
// the policies that must allow it do (see docs/authorization.md);
// otherwise it is implicitly denied.
func Evaluate(req Request, set PolicySet) Decision {
	pr := prepared{req: &req, action: strings.ToLower(req.Action)}
	pr.parts, pr.isARN = arnParts(req.Resource)
	p := req.Principal
	sameAccount := p.Account != "" && (req.ResourceAccount == "" || req.ResourceAccount == p.Account)
	rootSelf := p.Kind == Root && sameAccount

	sc := scan{pr: &pr}
	if d, denied := sc.run(set); denied {
		if rootSelf && contains(rootPolicyActions, pr.action) {
			return Decision{Outcome: Allowed, RootAccess: true}
		}
		return d
	}
	switch {
	case set.RequireResource && sc.grant == grantNone:
		// Checked before the root user's full access: even root needs
		// the trust policy (AWS does not let root assume roles at all;
		// that refusal belongs to STS).
		return implicit(ResourcePolicy)
	case rootSelf:
		return Decision{Outcome: Allowed, RootAccess: true}
	}
	if p.Kind == Anonymous || p.Kind == Service || p.Kind == WebIdentity || p.Account == "" {
		if sc.grant != grantNone {
			return Decision{Outcome: Allowed, By: sc.resourceAllow}
		}
		return implicit(ResourcePolicy)
	}
	if !sameAccount {
		return crossAccount(&sc, p)
	}
	return sameAccountDecision(&sc)
}

func implicit(t PolicyType) Decision { return Decision{Outcome: ImplicitDeny, Missing: t} }

// crossAccount: the resource policy must allow and (unless the caller is
// the other account's root, which has every permission at home) so must
// the caller's own policies.
func crossAccount(sc *scan, p Principal) Decision {
	if sc.grant == grantNone {
		return implicit(ResourcePolicy)
	}
	if p.Kind == Root {
		return Decision{Outcome: Allowed, By: sc.resourceAllow}
	}
	if missing := sc.identityMissing(); missing != NoPolicy {
		return implicit(missing)
	}
	return Decision{Outcome: Allowed, By: sc.identityAllow, Also: sc.resourceAllow}
}

// sameAccountDecision: either the identity side or the resource policy
// may allow. A resource policy naming a user, a role session or "*"
// allows by itself; naming a role, it is still bounded by the session's
// boundary and session policies; naming the account, it only delegates
// to the identity side.
func sameAccountDecision(sc *scan) Decision {
	switch sc.grant {
	case grantDirect:
		return Decision{Outcome: Allowed, By: sc.resourceAllow}
	case grantRole:
		if sc.boundaryOK() && sc.sessionOK() {
			return Decision{Outcome: Allowed, By: sc.resourceAllow}
		}
	}
	if missing := sc.identityMissing(); missing != NoPolicy {
		return implicit(missing)
	}
	return Decision{Outcome: Allowed, By: sc.identityAllow}
}

// scan walks every statement once, stopping at the first Deny that
// applies and remembering the first Allow of each policy type.
type scan struct {
	pr                           *prepared
	identityAllow, resourceAllow *Match
	boundaryAllow, sessionAllow  *Match
	grant                        grantKind
	hasBoundary, hasSessions     bool
}

func (sc *scan) run(set PolicySet) (Decision, bool) {
	sc.hasBoundary, sc.hasSessions = set.Boundary != nil, len(set.Session) > 0
	lists := []struct {
		t  PolicyType
		ps []*Policy
	}{{ResourcePolicy, set.Resource}, {IdentityPolicy, set.Identity}, {SessionPolicy, set.Session}}
	if set.Boundary != nil {
		lists = append(lists, struct {
			t  PolicyType
			ps []*Policy
		}{BoundaryPolicy, []*Policy{set.Boundary}})
	}
	for _, l := range lists {
		for i, pol := range l.ps {
			if pol == nil {
				continue
			}
			if m := sc.policy(l.t, i, pol); m != nil {
				return Decision{Outcome: ExplicitDeny, By: m}, true
			}
		}
	}
	return Decision{}, false
}

// policy scans one policy; it returns the Deny statement that applies.
func (sc *scan) policy(t PolicyType, index int, pol *Policy) *Match {
	ctx := sc.pr.req.Context
	for si := range pol.Statements {
		st := &pol.Statements[si]
		g := grantDirect
		if t == ResourcePolicy {
			g = st.grant(sc.pr.req.Principal)
			if g == grantNone {
				continue
			}
		}
		if !st.matchesAction(sc.pr.action) || !st.matchesResource(sc.pr, ctx) || !st.conditionsHold(ctx) {
			continue
		}
		m := &Match{Type: t, Policy: pol.Name, Index: index, Statement: si, Sid: st.Sid}
		if st.Effect == Deny {
			return m
		}
		sc.noteAllow(t, g, m)
	}
	return nil
}

func (sc *scan) noteAllow(t PolicyType, g grantKind, m *Match) {
	switch t {
	case IdentityPolicy:
		if sc.identityAllow == nil {
			sc.identityAllow = m
		}
	case ResourcePolicy:
		if g > sc.grant {
			sc.grant, sc.resourceAllow = g, m
		}
	case BoundaryPolicy:
		if sc.boundaryAllow == nil {
			sc.boundaryAllow = m
		}
	case SessionPolicy:
		if sc.sessionAllow == nil {
			sc.sessionAllow = m
		}
	}
}

func (sc *scan) boundaryOK() bool { return !sc.hasBoundary || sc.boundaryAllow != nil }
func (sc *scan) sessionOK() bool  { return !sc.hasSessions || sc.sessionAllow != nil }

// identityMissing names the first policy type on the identity side that
// does not allow: identity policies, then the boundary, then sessions.
func (sc *scan) identityMissing() PolicyType {
	switch {
	case sc.identityAllow == nil:
		return IdentityPolicy
	case !sc.boundaryOK():
		return BoundaryPolicy
	case !sc.sessionOK():
		return SessionPolicy
	}
	return NoPolicy
}

func (st *Statement) matchesAction(action string) bool {
	found := false
	for i := range st.actions {
		if st.actions[i].match(action) {
			found = true
			break
		}
	}
	return found != st.NotActions
}

func (st *Statement) matchesResource(pr *prepared, ctx *Context) bool {
	if len(st.resources) == 0 {
		return true
	}
	found, resolved := false, false
	for i := range st.resources {
		m, ok := st.resources[i].match(pr.req.Resource, pr.parts, pr.isARN, ctx)
		resolved = resolved || ok
		if m {
			found = true
			break
		}
	}
	// Entries whose variables have no value drop out; a statement left
	// with none does not apply (AWS: the statement is invalid).
	return resolved && found != st.NotResources
}

func (st *Statement) conditionsHold(ctx *Context) bool {
	for i := range st.Conditions {
		if !st.Conditions[i].holds(ctx) {
			return false
		}
	}
	return true
}
