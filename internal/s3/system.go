package s3

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// System is the controller's own object storage: objects in SystemBucket,
// reached in-process without HTTP or signatures, on whichever backend the
// S3 API uses (so an external S3 holds snapshots too). The snapshot store
// keeps its chunks and manifests here; System's methods are those of
// snapshot.Objects. Nothing in the S3 API reaches these objects: the
// bucket is in no account's registry and its name is reserved.
type System struct {
	be backend.Backend
	// NotFound, if set, is wrapped (besides backend.ErrNoSuchKey) by the
	// error for a missing key, so callers can keep their own sentinel
	// (snapshot.ErrNotFound).
	NotFound error
}

// System returns the controller's object store.
func (s *Server) System() System { return System{be: s.backend} }

func (sys System) notFound(key string, err error) error {
	if errors.Is(err, backend.ErrNoSuchKey) && sys.NotFound != nil {
		return fmt.Errorf("system object %s: %w: %w", key, sys.NotFound, err)
	}
	return err
}

// Put stores exactly size bytes from r under key, atomically.
func (sys System) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	_, err := sys.be.PutObject(ctx, SystemBucket, key, r, size, backend.Meta{})
	return err
}

// Get opens an object.
func (sys System) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rd, err := sys.be.GetObject(ctx, SystemBucket, key, nil)
	if err != nil {
		return nil, sys.notFound(key, err)
	}
	return rd, nil
}

// GetRange opens the part of an object rng selects.
func (sys System) GetRange(ctx context.Context, key string, rng backend.ByteRange) (*backend.Reader, error) {
	rd, err := sys.be.GetObject(ctx, SystemBucket, key, &rng)
	return rd, sys.notFound(key, err)
}

// Exists reports whether key is stored.
func (sys System) Exists(ctx context.Context, key string) (bool, error) {
	_, err := sys.be.HeadObject(ctx, SystemBucket, key)
	switch {
	case errors.Is(err, backend.ErrNoSuchKey):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// Delete removes an object; a missing key is not an error.
func (sys System) Delete(ctx context.Context, key string) error {
	return sys.be.DeleteObject(ctx, SystemBucket, key)
}

// List returns every key that starts with prefix, sorted.
func (sys System) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	q := backend.ListQuery{Prefix: prefix, MaxKeys: 1000}
	for {
		page, err := sys.be.ListObjects(ctx, SystemBucket, q)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		if !page.Truncated {
			return keys, nil
		}
		q.After = page.Next
	}
}

// Source opens users' objects for the controller, as an account, with
// exactly the checks an S3 GetObject by that account gets: ImportImage
// reads the disk image a user names this way. Its Open is that of
// imageimport.Source; Denied and Missing, if set, are wrapped by its
// errors for objects the account may not read and objects (or buckets)
// that do not exist.
type Source struct {
	Server          *Server
	Denied, Missing error
}

// Open opens bucket/key for account and returns it with its size.
func (src Source) Open(ctx context.Context, account, bucket, key string) (io.ReadCloser, int64, error) {
	rd, err := src.Server.OpenObject(ctx, identity.Principal{AccountID: account}, bucket, key)
	if err == nil {
		return rd, rd.Size, nil
	}
	what := fmt.Sprintf("s3://%s/%s", bucket, key)
	switch ErrorCodeOf(err) {
	case "AccessDenied":
		if src.Denied != nil {
			return nil, 0, fmt.Errorf("%s: %w: %w", what, src.Denied, err)
		}
	case "NoSuchKey", "NoSuchBucket", "InvalidArgument", "KeyTooLongError":
		if src.Missing != nil {
			return nil, 0, fmt.Errorf("%s: %w: %w", what, src.Missing, err)
		}
	}
	return nil, 0, fmt.Errorf("%s: %w", what, err)
}

// OpenObject opens a user's object on behalf of principal, with exactly
// the checks an S3 GetObject by that principal gets. Errors are *Error
// values with S3's codes (NoSuchBucket, NoSuchKey, AccessDenied);
// ErrorCodeOf reads them.
func (s *Server) OpenObject(ctx context.Context, p identity.Principal, bucket, key string) (*backend.Reader, error) {
	b, err := s.lookupBucket(ctx, bucket)
	if err != nil {
		return nil, err
	}
	a, err := s.newAccess(ctx, Caller{Principal: p}, b, requestMeta{})
	if err != nil {
		return nil, err
	}
	if aerr := checkKey(key); aerr != nil {
		return nil, aerr
	}
	if err := a.checkRead(ctx, s.backend, key); err != nil {
		return nil, err
	}
	rd, err := s.backend.GetObject(ctx, bucket, key, nil)
	if err != nil {
		return nil, toAPIError(a.hideMissing(err))
	}
	return rd, nil
}

// ErrorCodeOf returns the S3 error code an error maps to ("NoSuchKey",
// "AccessDenied", ..., "InternalError"), for callers that report S3
// failures in their own API.
func ErrorCodeOf(err error) string { return toAPIError(err).Name() }
