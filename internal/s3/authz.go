package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/store"
)

// access is one caller's standing on one bucket. The rules, in order:
//
//  1. A Deny statement in the bucket policy that matches denies (except
//     that the owner may always manage the policy itself).
//  2. The bucket owner's account (any of its users) is allowed.
//  3. An Allow statement that matches allows.
//  4. The bucket's canned ACL allows what it grants (public-read lists,
//     public-read-write also writes).
//  5. For object reads, the object's canned ACL allows what it grants.
//  6. Everything else is AccessDenied: for other accounts and for
//     unsigned requests alike.
//
// Nothing else is consulted: no header, query parameter or source
// address grants access.
type access struct {
	caller Caller
	bucket store.Bucket
	policy *policy
}

func newAccess(c Caller, b store.Bucket) (*access, error) {
	a := &access{caller: c, bucket: b}
	if b.Policy != "" {
		p, err := parsePolicy(b.Name, []byte(b.Policy))
		if err != nil {
			return nil, fmt.Errorf("stored policy of bucket %s: %w", b.Name, err)
		}
		a.policy = p
	}
	return a, nil
}

// isOwner reports whether the caller's account owns the bucket.
func (a *access) isOwner() bool {
	return !a.caller.Anonymous && a.caller.AccountID == a.bucket.AccountID
}

// allows applies rules 1-4 to a bucket action (key "") or object action.
func (a *access) allows(action, key string) bool {
	resource := bucketARN(a.bucket.Name)
	if key != "" {
		resource = objectARN(a.bucket.Name, key)
	}
	allowed, denied := a.policy.decide(a.caller, action, resource)
	switch {
	case denied:
		return a.isOwner() && isPolicyAction(action)
	case a.isOwner(), allowed:
		return true
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
// (rule 5). A missing object is NoSuchKey only for callers who may list
// the bucket; others learn nothing and get AccessDenied, as from S3.
func (a *access) checkRead(ctx context.Context, be backend.Backend, key string) error {
	if a.allows("s3:GetObject", key) {
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
