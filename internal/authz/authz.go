// Package authz decides whether an authenticated caller may make an API
// request: it maps the operation to its IAM actions and resource ARNs
// (internal/policy/actions), fills the request's context keys, gathers the
// caller's identity policies (internal/iam) and evaluates them with the
// policy engine (internal/policy), answering a denial the way AWS does.
package authz

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/kumo-cloud/kumo/internal/iam"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/policy"
	"github.com/kumo-cloud/kumo/internal/policy/actions"
	"github.com/kumo-cloud/kumo/internal/secrets"
	"github.com/kumo-cloud/kumo/internal/store"
)

// PolicySource gathers the identity policies of a caller.
type PolicySource interface {
	PoliciesFor(ctx context.Context, p identity.Principal) (iam.PrincipalPolicies, error)
	PoliciesForRoleName(ctx context.Context, accountID, roleName string) (iam.PrincipalPolicies, error)
}

// Authorizer authorizes requests. It is safe for concurrent use.
type Authorizer struct {
	Table    *actions.Table
	Policies PolicySource
	DB       *store.DB    // resource and principal tags
	Box      *secrets.Box // seals EC2's encoded authorization messages
	Region   string
	Now      func() time.Time // time.Now when nil

	// parsed caches compiled policies by document text: a document is
	// parsed once, not once per request.
	parsed sync.Map
}

// New returns an Authorizer over the embedded authorization table.
func New(policies PolicySource, db *store.DB, box *secrets.Box, region string) (*Authorizer, error) {
	t, err := actions.Load()
	if err != nil {
		return nil, fmt.Errorf("authorization table: %w", err)
	}
	return &Authorizer{Table: t, Policies: policies, DB: db, Box: box, Region: region}, nil
}

// Call is one authenticated request.
type Call struct {
	Principal identity.Principal
	Service   string // "ec2", "iam", "sts"
	Operation string // "StartInstances"
	Params    url.Values
	SourceIP  string
	Secure    bool // TLS
}

// unauthorized are operations AWS never authorizes: anyone with valid
// credentials may call them.
var unauthorized = map[string]bool{
	"sts/GetCallerIdentity": true,
	"sts/GetSessionToken":   true,
}

// delegated are operations whose decision needs a resource policy the
// service holds (a role's trust policy): their handler calls Check.
var delegated = map[string]bool{
	"sts/AssumeRole":                true,
	"sts/AssumeRoleWithWebIdentity": true,
	"sts/AssumeRoleWithSAML":        true,
}

// ErrNoMapping: an operation has no entry in the authorization table.
var ErrNoMapping = errors.New("operation has no authorization mapping")

// Authorize returns nil when the call is allowed, a *Denied when a policy
// denies it, or another error when the decision could not be made.
func (a *Authorizer) Authorize(ctx context.Context, c Call) error {
	key := c.Service + "/" + c.Operation
	if unauthorized[key] || delegated[key] || c.Principal.IsRoot() {
		return nil // the root user has full access to its own account
	}
	acts := a.Table.ForOperation(c.Service, c.Operation)
	if acts == nil {
		return fmt.Errorf("authorize %s: %w", key, ErrNoMapping)
	}
	set, err := a.policySet(ctx, c.Principal)
	if err != nil {
		return fmt.Errorf("authorize %s: %w", key, err)
	}
	base, err := a.baseContext(ctx, c)
	if err != nil {
		return fmt.Errorf("authorize %s: %w", key, err)
	}
	targets, err := a.targets(ctx, c, acts)
	if err != nil {
		return fmt.Errorf("authorize %s: %w", key, err)
	}
	pr := Principal(c.Principal)
	for _, t := range targets {
		cx := base.Clone()
		for k, v := range t.keys {
			cx.Set(k, v...)
		}
		req := policy.Request{Principal: pr, Action: t.action, Resource: t.resource, ResourceAccount: c.Principal.AccountID, Context: cx}
		if d := policy.Evaluate(req, set); !d.Allowed() {
			return &Denied{Service: c.Service, Request: req, Decision: d, box: a.Box}
		}
	}
	return nil
}

// Check evaluates one request with the caller's identity policies and the
// given resource policies: for handlers whose decision needs a policy
// they hold (STS AssumeRole with the role's trust policy, requireResource
// true). It returns the decision.
func (a *Authorizer) Check(ctx context.Context, p identity.Principal, action, resource, resourceAccount string, resourcePolicies []*policy.Policy, requireResource bool, extra map[string][]string) (policy.Decision, policy.Request, error) {
	var set policy.PolicySet
	if !p.IsRoot() {
		var err error
		if set, err = a.policySet(ctx, p); err != nil {
			return policy.Decision{}, policy.Request{}, err
		}
	}
	set.Resource, set.RequireResource = resourcePolicies, requireResource
	cx, err := a.baseContext(ctx, Call{Principal: p})
	if err != nil {
		return policy.Decision{}, policy.Request{}, err
	}
	for k, v := range extra {
		cx.Set(k, v...)
	}
	req := policy.Request{Principal: Principal(p), Action: action, Resource: resource, ResourceAccount: resourceAccount, Context: cx}
	return policy.Evaluate(req, set), req, nil
}

// Principal converts a caller to the engine's principal.
func Principal(p identity.Principal) policy.Principal {
	switch {
	case p.IsRoleSession():
		return policy.Principal{Kind: policy.AssumedRole, Account: p.AccountID, ARN: p.ARN(),
			RoleARN: "arn:aws:iam::" + p.AccountID + ":role/" + p.RoleName, UserID: p.UserID}
	case p.IsRoot():
		return policy.Principal{Kind: policy.Root, Account: p.AccountID, ARN: p.ARN(), UserID: p.AccountID}
	}
	return policy.Principal{Kind: policy.User, Account: p.AccountID, ARN: p.ARN(), UserID: p.UserID}
}

// policySet loads and compiles the caller's identity policies: a user's
// own and its groups', or a role session's role policies plus its session
// policy; with the permissions boundary.
func (a *Authorizer) policySet(ctx context.Context, p identity.Principal) (policy.PolicySet, error) {
	var pp iam.PrincipalPolicies
	var err error
	if p.IsRoleSession() {
		pp, err = a.Policies.PoliciesForRoleName(ctx, p.AccountID, p.RoleName)
	} else {
		pp, err = a.Policies.PoliciesFor(ctx, p)
	}
	if errors.Is(err, store.ErrNotFound) {
		return policy.PolicySet{}, nil // the user or role is gone: nothing allows
	}
	if err != nil {
		return policy.PolicySet{}, err
	}
	var set policy.PolicySet
	for _, d := range pp.Identity {
		pol, err := a.compile(d.Owner+"/"+d.Name, d.Document)
		if err != nil {
			return set, err
		}
		set.Identity = append(set.Identity, pol)
	}
	if pp.Boundary != nil {
		if set.Boundary, err = a.compile(pp.Boundary.Name, pp.Boundary.Document); err != nil {
			return set, err
		}
	}
	if p.SessionPolicy != "" {
		pol, err := a.compile("session-policy", p.SessionPolicy)
		if err != nil {
			return set, err
		}
		set.Session = []*policy.Policy{pol}
	}
	return set, nil
}

type cacheKey struct{ name, doc string }

// compile parses a stored document, once per (name, text).
func (a *Authorizer) compile(name, doc string) (*policy.Policy, error) {
	k := cacheKey{name, doc}
	if p, ok := a.parsed.Load(k); ok {
		return p.(*policy.Policy), nil
	}
	p, err := policy.Parse([]byte(doc), policy.Identity)
	if err != nil {
		return nil, fmt.Errorf("stored policy %s: %w", name, err)
	}
	p.Name = name
	a.parsed.Store(k, p)
	return p, nil
}

// baseContext sets the global keys every request carries.
func (a *Authorizer) baseContext(ctx context.Context, c Call) (*policy.Context, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	t := now().UTC()
	cx := policy.NewContext().SetPrincipal(Principal(c.Principal)).
		Set("aws:CurrentTime", t.Format(time.RFC3339)).
		Set("aws:EpochTime", strconv.FormatInt(t.Unix(), 10)).
		Set("aws:SecureTransport", strconv.FormatBool(c.Secure)).
		Set("aws:RequestedRegion", a.Region).
		Set("aws:MultiFactorAuthPresent", "false")
	if c.SourceIP != "" {
		cx.Set("aws:SourceIp", c.SourceIP)
	}
	if c.Service == "ec2" {
		cx.Set("ec2:Region", a.Region)
	}
	tags, err := a.principalTags(ctx, c.Principal)
	if err != nil {
		return nil, err
	}
	for k, v := range tags {
		cx.Set("aws:PrincipalTag/"+k, v)
	}
	return cx, nil
}

// principalTags are a role session's session tags, or a user's tags.
func (a *Authorizer) principalTags(ctx context.Context, p identity.Principal) (map[string]string, error) {
	if p.IsRoleSession() || p.IsRoot() {
		return p.SessionTags, nil
	}
	if a.DB == nil || p.UserID == "" {
		return nil, nil
	}
	var tags map[string]string
	err := a.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		tags, err = tx.TagsOf(ctx, p.AccountID, p.UserID)
		return err
	})
	return tags, err
}

// IdentityPolicies returns the caller's identity side (identity policies,
// permissions boundary, session policy) for services that evaluate with a
// resource policy of their own (S3 bucket policies). The root user's set
// is empty: the engine lets root act in its own account.
func (a *Authorizer) IdentityPolicies(ctx context.Context, p identity.Principal) (policy.PolicySet, error) {
	if p.IsRoot() {
		return policy.PolicySet{}, nil
	}
	return a.policySet(ctx, p)
}

// RequestContext returns the global context keys of a request by p.
func (a *Authorizer) RequestContext(ctx context.Context, p identity.Principal, sourceIP string, secure bool) (*policy.Context, error) {
	return a.baseContext(ctx, Call{Principal: p, SourceIP: sourceIP, Secure: secure})
}
