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

// Authorizer authorizes requests. It is safe for concurrent use.
type Authorizer struct {
	Table  *actions.Table
	DB     *store.DB    // identity policies, resource and principal tags
	Box    *secrets.Box // seals EC2's encoded authorization messages
	Region string
	Now    func() time.Time // time.Now when nil

	// parsed caches compiled policies by document text: a document is
	// parsed once, not once per request.
	parsed sync.Map
}

// New returns an Authorizer over the embedded authorization table.
func New(db *store.DB, box *secrets.Box, region string) (*Authorizer, error) {
	t, err := actions.Load()
	if err != nil {
		return nil, fmt.Errorf("authorization table: %w", err)
	}
	return &Authorizer{Table: t, DB: db, Box: box, Region: region}, nil
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
	// One read transaction gathers the policies, tags and attributes.
	var set policy.PolicySet
	var base *policy.Context
	var targets []target
	err := a.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		if set, err = a.policySet(ctx, tx, c.Principal); err != nil {
			return err
		}
		if base, err = a.baseContext(ctx, tx, c); err != nil {
			return err
		}
		targets, err = a.targets(ctx, tx, c, acts)
		return err
	})
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
	set, cx, err := a.IdentitySide(ctx, p, "", false)
	if err != nil {
		return policy.Decision{}, policy.Request{}, err
	}
	set.Resource, set.RequireResource = resourcePolicies, requireResource
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
func (a *Authorizer) policySet(ctx context.Context, tx *store.Tx, p identity.Principal) (policy.PolicySet, error) {
	if p.IsRoot() {
		return policy.PolicySet{}, nil // root has no policies; the engine lets it act in its account
	}
	var pp iam.PrincipalPolicies
	var err error
	if p.IsRoleSession() {
		pp, err = iam.PoliciesForRole(ctx, tx, p.AccountID, p.RoleName)
	} else {
		pp, err = iam.PoliciesForUser(ctx, tx, p.AccountID, p.UserName)
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
func (a *Authorizer) baseContext(ctx context.Context, tx *store.Tx, c Call) (*policy.Context, error) {
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
	tags, err := a.principalTags(ctx, tx, c.Principal)
	if err != nil {
		return nil, err
	}
	for k, v := range tags {
		cx.Set("aws:PrincipalTag/"+k, v)
	}
	return cx, nil
}

// principalTags are a role session's session tags, or a user's tags.
func (a *Authorizer) principalTags(ctx context.Context, tx *store.Tx, p identity.Principal) (map[string]string, error) {
	if p.IsRoleSession() || p.IsRoot() || p.UserID == "" {
		return p.SessionTags, nil
	}
	return tx.TagsOf(ctx, p.AccountID, p.UserID)
}

// IdentitySide returns, in one read, the caller's identity side
// (identity policies, permissions boundary, session policy: empty for the
// root user, whom the engine lets act in its own account) and the global
// context keys of its request, for services that evaluate with a resource
// policy of their own (S3 bucket policies, STS trust policies).
func (a *Authorizer) IdentitySide(ctx context.Context, p identity.Principal, sourceIP string, secure bool) (policy.PolicySet, *policy.Context, error) {
	var set policy.PolicySet
	var cx *policy.Context
	err := a.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		if set, err = a.policySet(ctx, tx, p); err != nil {
			return err
		}
		cx, err = a.baseContext(ctx, tx, Call{Principal: p, SourceIP: sourceIP, Secure: secure})
		return err
	})
	if err != nil {
		return set, nil, fmt.Errorf("identity policies of %s: %w", p.ARN(), err)
	}
	return set, cx, nil
}
