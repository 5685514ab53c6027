package s3

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/store"
)

// dispatch runs a bucket or object operation once the bucket is loaded.
func (s *Server) dispatch(q *request, spec opSpec) error {
	h := s.handler(q.route.op)
	if h == nil {
		return fmt.Errorf("no handler for %s", q.route.op)
	}
	// Operations that authorize per key or through the object's ACL do
	// their own checks; the rest are checked here, before anything runs.
	switch q.route.op {
	case opDeleteObjects, opGetObject, opHeadObject, opCopyObject, opUploadPartCopy:
	default:
		if err := q.access.check(spec.action, q.route.key); err != nil {
			return err
		}
	}
	return h(q)
}

// handler returns the function serving a bucket or object operation.
func (s *Server) handler(o op) func(*request) error {
	switch o {
	case opHeadBucket:
		return s.headBucket
	case opDeleteBucket:
		return s.deleteBucket
	case opGetBucketLocation:
		return s.getBucketLocation
	case opGetBucketVersioning:
		return s.getBucketVersioning
	case opGetBucketPolicy:
		return s.getBucketPolicy
	case opPutBucketPolicy:
		return s.putBucketPolicy
	case opDeleteBucketPolicy:
		return s.deleteBucketPolicy
	case opGetBucketACL:
		return s.getBucketACL
	case opPutBucketACL:
		return s.putBucketACL
	case opListObjects:
		return s.listObjects
	case opListObjectsV2:
		return s.listObjectsV2
	case opListMultipartUploads:
		return s.listMultipartUploads
	case opDeleteObjects:
		return s.deleteObjects
	}
	return s.objectHandler(o)
}

func (s *Server) objectHandler(o op) func(*request) error {
	switch o {
	case opPutObject:
		return s.putObject
	case opCopyObject:
		return s.copyObject
	case opGetObject, opHeadObject:
		return s.getObject
	case opDeleteObject:
		return s.deleteObject
	case opGetObjectACL:
		return s.getObjectACL
	case opPutObjectACL:
		return s.putObjectACL
	case opCreateMultipartUpload:
		return s.createMultipartUpload
	case opUploadPart:
		return s.uploadPart
	case opUploadPartCopy:
		return s.uploadPartCopy
	case opCompleteMultipartUpload:
		return s.completeMultipartUpload
	case opAbortMultipartUpload:
		return s.abortMultipartUpload
	case opListParts:
		return s.listParts
	}
	return s.configHandler(o)
}

// lookupBucket loads a bucket's registry row.
func (s *Server) lookupBucket(ctx context.Context, name string) (store.Bucket, error) {
	var b store.Bucket
	err := s.db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		b, err = tx.GetBucket(ctx, name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return b, apiError(ErrNoSuchBucket, "The specified bucket does not exist: %s.", name)
	}
	if err != nil {
		return b, fmt.Errorf("look up bucket %s: %w", name, err)
	}
	return b, nil
}

func accountOwner(accountID string) owner { return owner{ID: accountID, DisplayName: accountID} }

func (s *Server) listBuckets(q *request) error {
	c := q.caller()
	if c.Anonymous {
		return apiError(ErrAccessDenied, "Listing buckets needs a signed request.")
	}
	if err := s.checkIdentity(q.r.Context(), c, q.meta(), "s3:ListAllMyBuckets", "*"); err != nil {
		return err
	}
	var buckets []store.Bucket
	err := s.db.View(q.r.Context(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		buckets, err = tx.ListBuckets(ctx, c.AccountID)
		return err
	})
	if err != nil {
		return fmt.Errorf("list buckets of %s: %w", c.AccountID, err)
	}
	out := listAllMyBucketsResult{Owner: accountOwner(c.AccountID)}
	for _, b := range buckets {
		out.Buckets = append(out.Buckets, bucketResult{Name: b.Name, CreationDate: xmlTime(b.CreatedAt)})
	}
	return writeXML(q.w, http.StatusOK, out)
}

func (s *Server) createBucket(q *request) error {
	c, name := q.caller(), q.route.bucket
	if c.Anonymous {
		return apiError(ErrAccessDenied, "Creating a bucket needs a signed request.")
	}
	if err := checkBucketName(name); err != nil {
		return err
	}
	if err := s.checkIdentity(q.r.Context(), c, q.meta(), "s3:CreateBucket", bucketARN(name)); err != nil {
		return err
	}
	if err := refuseGrantHeadersIn(q.r.Header); err != nil {
		return err
	}
	acl, aerr := parseCannedACL(q.r.Header.Get("X-Amz-Acl"), false)
	if aerr != nil {
		return aerr
	}
	if len(q.small) > 0 {
		var cfg createBucketConfiguration
		if err := xml.Unmarshal(q.small, &cfg); err != nil {
			return apiError(ErrMalformedXML, "")
		}
	}
	if err := s.registerBucket(q.r.Context(), c, name, acl); err != nil {
		return err
	}
	q.w.Header().Set("Location", "/"+name)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// registerBucket claims the name in the registry, then makes the bucket in
// the backend, releasing the name if that fails.
func (s *Server) registerBucket(ctx context.Context, c Caller, name, acl string) error {
	if name == SystemBucket {
		return apiError(ErrBucketAlreadyExists, "")
	}
	b := store.Bucket{Name: name, AccountID: c.AccountID, ACL: acl, CreatedAt: time.Now().UTC()}
	err := s.db.Update(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.InsertBucket(ctx, b) })
	if errors.Is(err, store.ErrConflict) {
		existing, lerr := s.lookupBucket(ctx, name)
		if lerr == nil && existing.AccountID == c.AccountID {
			// Heal a bucket whose backend side went missing, then say so.
			if berr := s.backend.CreateBucket(ctx, name); berr != nil {
				return berr
			}
			return apiError(ErrBucketAlreadyOwnedByYou, "")
		}
		return apiError(ErrBucketAlreadyExists, "")
	}
	if err != nil {
		return fmt.Errorf("register bucket %s: %w", name, err)
	}
	if err := s.backend.CreateBucket(ctx, name); err != nil {
		_ = s.db.Update(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteBucket(ctx, name) })
		return fmt.Errorf("create bucket %s in the backend: %w", name, err)
	}
	return nil
}

func (s *Server) headBucket(q *request) error {
	q.w.Header().Set("x-amz-bucket-region", s.region)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// deleteBucket empties nothing: the backend refuses a bucket with objects
// (BucketNotEmpty); the registry row goes once the backend bucket is gone.
func (s *Server) deleteBucket(q *request) error {
	ctx, name := q.r.Context(), q.route.bucket
	if err := s.backend.DeleteBucket(ctx, name); err != nil && !errors.Is(err, backend.ErrNoSuchBucket) {
		return err
	}
	err := s.db.Update(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteBucket(ctx, name) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("unregister bucket %s: %w", name, err)
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getBucketLocation(q *request) error {
	return writeXML(q.w, http.StatusOK, locationConstraint{Region: s.region})
}

func (s *Server) getBucketVersioning(q *request) error {
	return writeXML(q.w, http.StatusOK, versioningConfiguration{})
}

func (s *Server) getBucketPolicy(q *request) error {
	p := q.access.bucket.Policy
	if p == "" {
		return apiError(ErrNoSuchBucketPolicy, "")
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.Header().Set("Content-Length", strconv.Itoa(len(p)))
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write([]byte(p))
	return nil
}

func (s *Server) putBucketPolicy(q *request) error {
	if _, err := parsePolicy(q.route.bucket, q.small); err != nil {
		return err
	}
	return s.setBucket(q, func(ctx context.Context, tx *store.Tx) error {
		return tx.SetBucketPolicy(ctx, q.route.bucket, string(q.small))
	})
}

func (s *Server) deleteBucketPolicy(q *request) error {
	return s.setBucket(q, func(ctx context.Context, tx *store.Tx) error {
		return tx.SetBucketPolicy(ctx, q.route.bucket, "")
	})
}

func (s *Server) putBucketACL(q *request) error {
	acl, err := parseACLRequest(q, false)
	if err != nil {
		return err
	}
	return s.setBucket(q, func(ctx context.Context, tx *store.Tx) error {
		return tx.SetBucketACL(ctx, q.route.bucket, acl)
	})
}

// setBucket updates the registry row and answers 204 (200 for ACLs).
func (s *Server) setBucket(q *request, fn func(ctx context.Context, tx *store.Tx) error) error {
	if err := s.db.Update(q.r.Context(), fn); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return apiError(ErrNoSuchBucket, "")
		}
		return fmt.Errorf("update bucket %s: %w", q.route.bucket, err)
	}
	status := http.StatusNoContent
	if q.route.op == opPutBucketACL {
		status = http.StatusOK
	}
	q.w.WriteHeader(status)
	return nil
}

func (s *Server) getBucketACL(q *request) error {
	return writeXML(q.w, http.StatusOK, aclPolicy(q.access.bucket.ACL, accountOwner(q.access.bucket.AccountID)))
}

// parseACLRequest reads a Put*Acl request: a canned x-amz-acl only.
func parseACLRequest(q *request, object bool) (string, error) {
	if err := refuseGrantHeadersIn(q.r.Header); err != nil {
		return "", err
	}
	if len(q.small) > 0 {
		return "", apiError(ErrNotImplemented, "Kumo supports canned ACLs (the x-amz-acl header) only, not AccessControlPolicy documents.")
	}
	v := q.r.Header.Get("X-Amz-Acl")
	if v == "" {
		return "", apiError(ErrInvalidRequest, "Put an ACL with the x-amz-acl header.")
	}
	acl, err := parseCannedACL(v, object)
	if err != nil {
		return "", err
	}
	return acl, nil
}
