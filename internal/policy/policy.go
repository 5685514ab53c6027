package policy

// Kind says where a policy document is attached; IAM checks documents of
// each kind differently.
type Kind int

const (
	// Identity policies (user, group and role policies, managed policies,
	// permissions boundaries, session policies) name no principal and
	// must name resources.
	Identity Kind = iota
	// Resource policies (S3 bucket policies) must name principals and
	// resources.
	Resource
	// Trust policies (a role's assume-role policy) must name principals
	// and must not name resources.
	Trust
)

// Versions of the policy language.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect of a statement.
type Effect int

const (
	Allow Effect = iota + 1
	Deny
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "?"
}

// Policy is a parsed, checked policy document, compiled for evaluation.
// It is immutable after Parse and safe to share between goroutines.
type Policy struct {
	// Name is the caller's name for the policy (an ARN, "inline:devs/x");
	// Parse leaves it empty. Decisions report it.
	Name       string
	Version    string // as written; "" when absent (IAM then uses 2008-10-17)
	ID         string
	Statements []Statement
	// variables is true for 2012-10-17 documents: only they substitute
	// ${...} policy variables, older ones take them literally.
	variables bool
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect Effect
	// Exactly one of Action / NotAction is set (NotActions true = the
	// list is NotAction). Patterns are kept as written.
	Actions    []string
	NotActions bool
	// Resources is empty for trust policies (any resource).
	Resources    []string
	NotResources bool
	// Principals is nil for identity policies.
	Principals    *Principals
	NotPrincipals bool
	Conditions    []Condition

	actions   []pattern // lower-cased action patterns
	resources []resourcePattern
}

// Principals is a Principal or NotPrincipal element.
type Principals struct {
	Any       bool     // "*" or {"AWS": "*"}
	AWS       []string // account ids, account root ARNs, user/role/assumed-role ARNs
	Service   []string // ec2.amazonaws.com
	Federated []string // OIDC or SAML provider names or ARNs
	Canonical []string // S3 canonical user ids
}
