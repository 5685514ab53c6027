package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// PrincipalKind says what kind of caller makes a request.
type PrincipalKind int

const (
	Anonymous     PrincipalKind = iota // unsigned request (S3)
	Root                               // the account's root user
	User                               // an IAM user
	AssumedRole                        // a role session (AssumeRole, instance profile, login)
	FederatedUser                      // a GetFederationToken session
	Service                            // an AWS service principal (ec2.amazonaws.com)
	WebIdentity                        // an OIDC identity (AssumeRoleWithWebIdentity)
)

// Principal is the caller of a request.
type Principal struct {
	Kind    PrincipalKind
	Account string // 12-digit account id; "" for Anonymous, Service, WebIdentity
	// ARN is the caller's own ARN: arn:aws:iam::111122223333:user/alice,
	// arn:aws:sts::111122223333:assumed-role/Dev/alice,
	// arn:aws:iam::111122223333:root.
	ARN string
	// RoleARN is the role of an AssumedRole session
	// (arn:aws:iam::111122223333:role/Dev): a resource policy naming the
	// role names its sessions.
	RoleARN string
	// Service is a Service principal's name; Federated the identity
	// provider of a WebIdentity principal.
	Service   string
	Federated string
	// UserID is the caller's unique id as aws:userid gives it: the
	// account id for root, AIDA... for a user, AROA...:session for a
	// role session. Optional; SetPrincipal uses it.
	UserID string
}

// principalTypes are aws:PrincipalType's values.
var principalTypes = map[PrincipalKind]string{Root: "Account", User: "User", AssumedRole: "AssumedRole",
	FederatedUser: "FederatedUser", Anonymous: "Anonymous"}

// SetPrincipal sets the global context keys AWS derives from the caller:
// aws:PrincipalArn (a role session's role ARN, as AWS gives it),
// aws:PrincipalAccount, aws:PrincipalType, aws:username (IAM users
// only), aws:userid (when known) and aws:PrincipalIsAWSService. It
// returns c.
func (c *Context) SetPrincipal(p Principal) *Context {
	if t, ok := principalTypes[p.Kind]; ok {
		c.Set("aws:PrincipalType", t)
	}
	switch p.Kind {
	case Service:
		c.Set("aws:PrincipalIsAWSService", "true")
		c.Set("aws:PrincipalServiceName", p.Service)
		return c
	case Anonymous, WebIdentity:
		return c
	}
	c.Set("aws:PrincipalIsAWSService", "false")
	c.Set("aws:PrincipalAccount", p.Account)
	arn := p.ARN
	if p.Kind == AssumedRole && p.RoleARN != "" {
		arn = p.RoleARN
	}
	if arn != "" {
		c.Set("aws:PrincipalArn", arn)
	}
	if p.Kind == User {
		if _, name, ok := strings.Cut(p.ARN, ":user/"); ok {
			c.Set("aws:username", name[strings.LastIndexByte(name, '/')+1:])
		}
	}
	if p.UserID != "" {
		c.Set("aws:userid", p.UserID)
	}
	return c
}

// RootARN is an account's root principal ARN.
func RootARN(account string) string { return "arn:aws:iam::" + account + ":root" }

// ids are the principal's names a Principal element can list: its own
// ARN, its role's ARN, its account.
func (p Principal) awsIDs() []string {
	switch p.Kind {
	case Root:
		return []string{RootARN(p.Account)}
	case User, FederatedUser:
		return []string{p.ARN, RootARN(p.Account)}
	case AssumedRole:
		return []string{p.ARN, p.RoleARN, RootARN(p.Account)}
	}
	return nil
}

func parsePrincipalElement(m map[string]json.RawMessage, kind Kind, st *Statement) error {
	raw, not, ok, err := pick(m, "Principal", "NotPrincipal")
	if err != nil {
		return err
	}
	if kind == Identity {
		if ok {
			return malformed(msgHasPrincipal)
		}
		return nil
	}
	if !ok {
		return malformed(msgNoPrincipal)
	}
	p, err := parsePrincipals(raw)
	if err != nil {
		return err
	}
	st.Principals, st.NotPrincipals = p, not
	return nil
}

func parsePrincipals(raw json.RawMessage) (*Principals, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s != "*" {
			return nil, malformed(msgInvalidPrincipal, string(raw))
		}
		return &Principals{Any: true}, nil
	}
	top, err := object(raw)
	if err != nil {
		return nil, err
	}
	if len(top) == 0 {
		return nil, malformed(msgNoPrincipal)
	}
	p := &Principals{}
	for k, v := range top {
		list, err := stringList(v)
		if err != nil {
			return nil, err
		}
		for _, id := range list {
			if err := p.add(k, id); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

func (p *Principals) add(kind, id string) error {
	bad := malformed(msgInvalidPrincipal, fmt.Sprintf("%q:%q", kind, id))
	if id == "" {
		return bad
	}
	switch kind {
	case "AWS":
		if id == "*" {
			p.Any = true
			return nil
		}
		norm, ok := normalizeAWSPrincipal(id)
		if !ok {
			return bad
		}
		p.AWS = append(p.AWS, norm)
	case "Service":
		p.Service = append(p.Service, id)
	case "Federated":
		p.Federated = append(p.Federated, id)
	case "CanonicalUser":
		p.Canonical = append(p.Canonical, id)
	default:
		return bad
	}
	return nil
}

// normalizeAWSPrincipal turns an account id into its root ARN and checks
// that an ARN names a principal IAM knows, with no wildcard.
func normalizeAWSPrincipal(id string) (string, bool) {
	if isAccountID(id) {
		return RootARN(id), true
	}
	if strings.ContainsAny(id, "*?") {
		return "", false
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[3] != "" || !isAccountID(parts[4]) {
		return "", false
	}
	res := parts[5]
	switch parts[2] {
	case "iam":
		if res == "root" || strings.HasPrefix(res, "user/") || strings.HasPrefix(res, "role/") {
			return id, len(res) > 5 || res == "root"
		}
	case "sts":
		if strings.HasPrefix(res, "assumed-role/") && strings.Count(res, "/") >= 2 {
			return id, true
		}
		if strings.HasPrefix(res, "federated-user/") && len(res) > len("federated-user/") {
			return id, true
		}
	}
	return "", false
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// matches reports whether the element lists the principal: any of its
// names for Principal. For NotPrincipal the caller inverts excludes.
func (ps *Principals) matches(p Principal) bool {
	if ps.Any {
		return true
	}
	switch p.Kind {
	case Service:
		return contains(ps.Service, p.Service)
	case WebIdentity:
		return contains(ps.Federated, p.Federated)
	}
	for _, id := range p.awsIDs() {
		if contains(ps.AWS, id) {
			return true
		}
	}
	return false
}

// excludes reports whether a NotPrincipal element leaves the principal
// out: every name the principal goes by is listed (AWS: to exclude a
// role session, list the session, its role and its account).
func (ps *Principals) excludes(p Principal) bool {
	if ps.Any {
		return true
	}
	switch p.Kind {
	case Service:
		return contains(ps.Service, p.Service)
	case WebIdentity:
		return contains(ps.Federated, p.Federated)
	case Anonymous:
		return false
	}
	for _, id := range p.awsIDs() {
		if !contains(ps.AWS, id) {
			return false
		}
	}
	return true
}

// grantKind says how a matching Principal element named the caller; AWS
// lets a same-account resource policy grant differently for each.
type grantKind int

const (
	grantNone    grantKind = iota
	grantAccount           // the caller's account: a delegation to it
	grantRole              // the role of a role session, by its role ARN
	grantDirect            // the caller itself, "*", or NotPrincipal
)

// grant says how a statement's principal element names p.
func (st *Statement) grant(p Principal) grantKind {
	ps := st.Principals
	switch {
	case ps == nil:
		return grantDirect
	case st.NotPrincipals:
		if ps.excludes(p) {
			return grantNone
		}
		return grantDirect
	case ps.Any:
		return grantDirect
	case !ps.matches(p):
		return grantNone
	}
	switch p.Kind {
	case Root, Service, WebIdentity:
		return grantDirect
	case AssumedRole:
		if contains(ps.AWS, p.ARN) {
			return grantDirect
		}
		if contains(ps.AWS, p.RoleARN) {
			return grantRole
		}
	default:
		if contains(ps.AWS, p.ARN) {
			return grantDirect
		}
	}
	return grantAccount
}
