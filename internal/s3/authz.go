package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/authz"
	iampolicy "github.com/kumo-cloud/kumo/internal/policy"
	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/store"
)

// access is one caller's standing on one bucket, decided by the IAM
// policy engine as AWS decides S3 requests:
//
//  1. A Deny in the bucket policy or in the caller's identity policies
//     denies (except that the owner account's root may always manage
//     the bucket policy).
//  2. In the owner's account, the root user may do anything; its users
//     and role sessions need an Allow in their identity policies or in
//     the bucket policy.
//  3. From another account, both the bucket policy and the caller's
//     identity policies must allow (another account's root needs only
//     the bucket policy).
//  4. Failing that, the bucket's canned ACL allows what it grants
//     (public-read lists, public-read-write also writes); for object
//     reads, the object's canned ACL too.
//  5. Everything else is AccessDenied.
type access struct {
	caller Caller
	bucket store.Bucket
	policy *iampolicy.Policy
	// set is the caller's identity side; cx the request's context keys.
	set iampolicy.PolicySet
	cx  *iampolicy.Context
}

// allowAll stands for the identity side when the server has no
// authorizer (unit tests): the bucket policy and ACLs alone decide.
var allowAll = func() *iampolicy.Policy {
	p, err := iampolicy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`), iampolicy.Identity)
	if err != nil {
		panic(err)
	}
	return p
}()

// newAccess loads what deciding the caller's requests on b takes.
// keys are request-specific context keys (s3:prefix for ListBucket).
func (s *Server) newAccess(ctx context.Context, c Caller, b store.Bucket, meta requestMeta) (*access, error) {
	a := &access{caller: c, bucket: b, cx: iampolicy.NewContext()}
	if b.Policy != "" {
		p, err := parsePolicy(b.Name, []byte(b.Policy))
		if err != nil {
			return nil, fmt.Errorf("stored policy of bucket %s: %w", b.Name, err)
		}
		a.policy = p
	}
	if err := s.identitySide(ctx, c, meta, &a.set, &a.cx); err != nil {
		return nil, err
	}
	for k, v := range meta.keys {
		a.cx.Set(k, v...)
	}
	return a, nil
}

// requestMeta is what the context keys of a request come from.
type requestMeta struct {
	sourceIP string
	secure   bool
	keys     map[string][]string
}

// identitySide loads the caller's identity policies and global keys.
func (s *Server) identitySide(ctx context.Context, c Caller, meta requestMeta, set *iampolicy.PolicySet, cx **iampolicy.Context) error {
	if c.Anonymous {
		*cx = iampolicy.NewContext()
		if meta.sourceIP != "" {
			(*cx).Set("aws:SourceIp", meta.sourceIP)
		}
		return nil
	}
	if s.authz == nil {
		set.Identity = []*iampolicy.Policy{allowAll}
		*cx = iampolicy.NewContext()
		return nil
	}
	var err error
	*set, *cx, err = s.authz.IdentitySide(ctx, c.Principal, meta.sourceIP, meta.secure)
	return err
}

// principal is the caller as the engine sees it.
func (c Caller) principal() iampolicy.Principal {
	if c.Anonymous {
		return iampolicy.Principal{Kind: iampolicy.Anonymous}
	}
	return authz.Principal(c.Principal)
}

// decide evaluates a bucket action (key "") or object action.
func (a *access) decide(action, key string) iampolicy.Decision {
	resource := bucketARN(a.bucket.Name)
	if key != "" {
		resource = objectARN(a.bucket.Name, key)
	}
	set := a.set
	if a.policy != nil {
		set.Resource = []*iampolicy.Policy{a.policy}
	}
	return iampolicy.Evaluate(iampolicy.Request{Principal: a.caller.principal(), Action: action, Resource: resource,
		ResourceAccount: a.bucket.AccountID, Context: a.cx}, set)
}

// allows applies rules 1-4 (bucket ACLs) to an action.
func (a *access) allows(action, key string) bool {
	d := a.decide(action, key)
	switch d.Outcome {
	case iampolicy.Allowed:
		return true
	case iampolicy.ExplicitDeny:
		return false
	}
	return bucketACLAllows(a.bucket.ACL, a.caller, action)
}

// check returns AccessDenied unless the caller may do action.
func (a *access) check(action, key string) error {
	if a.allows(action, key) {
		return nil
	}
	return apiError(ErrAccessDenied, "")
}

// checkRead authorizes reading an object, also by the object's own ACL
// (rule 4). A missing object is NoSuchKey only for callers who may list
// the bucket; others learn nothing and get AccessDenied, as from S3.
func (a *access) checkRead(ctx context.Context, be backend.Backend, key string) error {
	d := a.decide("s3:GetObject", key)
	switch {
	case d.Allowed():
		return nil
	case d.Outcome == iampolicy.ExplicitDeny:
		return apiError(ErrAccessDenied, "")
	case bucketACLAllows(a.bucket.ACL, a.caller, "s3:GetObject"):
		return nil
	}
	obj, err := be.HeadObject(ctx, a.bucket.Name, key)
	switch {
	case errors.Is(err, backend.ErrNoSuchKey):
		return apiError(ErrAccessDenied, "")
	case err != nil:
		return err
	case objectACLAllows(obj.ACL, a.caller, "s3:GetObject"):
		return nil
	}
	return apiError(ErrAccessDenied, "")
}

// hideMissing turns NoSuchKey into AccessDenied for callers who may not
// list the bucket.
func (a *access) hideMissing(err error) error {
	if errors.Is(err, backend.ErrNoSuchKey) && !a.allows("s3:ListBucket", "") {
		return apiError(ErrAccessDenied, "")
	}
	return err
}

// checkIdentity authorizes an action on no bucket (ListBuckets,
// CreateBucket) with the caller's identity policies alone.
func (s *Server) checkIdentity(ctx context.Context, c Caller, meta requestMeta, action, resource string) error {
	if c.Anonymous {
		return apiError(ErrAccessDenied, "")
	}
	var set iampolicy.PolicySet
	var cx *iampolicy.Context
	if err := s.identitySide(ctx, c, meta, &set, &cx); err != nil {
		return err
	}
	d := iampolicy.Evaluate(iampolicy.Request{Principal: c.principal(), Action: action, Resource: resource,
		ResourceAccount: c.AccountID, Context: cx}, set)
	if !d.Allowed() {
		return apiError(ErrAccessDenied, "")
	}
	return nil
}
