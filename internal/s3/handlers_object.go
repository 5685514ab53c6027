package s3

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// checkPutACL: setting a non-private ACL while writing needs
// s3:PutObjectAcl as well as s3:PutObject.
func checkPutACL(a *access, meta backend.Meta, key string) error {
	if meta.ACL != aclPrivate {
		return a.check("s3:PutObjectAcl", key)
	}
	return nil
}

// checkWriteConditions applies If-Match / If-None-Match to a write: "*"
// in If-None-Match means only if no object exists.
func (s *Server) checkWriteConditions(q *request) error {
	if q.r.Header.Get("If-Match") == "" && q.r.Header.Get("If-None-Match") == "" {
		return nil
	}
	obj, err := s.backend.HeadObject(q.r.Context(), q.route.bucket, q.route.key)
	switch {
	case errors.Is(err, backend.ErrNoSuchKey):
		if q.r.Header.Get("If-Match") != "" {
			return apiError(ErrNoSuchKey, "")
		}
		return nil
	case err != nil:
		return err
	}
	return checkConditionsErr(checkConditions(q.r.Header, obj, false))
}

// checkConditionsErr avoids a typed nil in an error interface.
func checkConditionsErr(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

func (s *Server) putObject(q *request) error {
	meta, aerr := metaFromHeaders(q.r.Header)
	if aerr != nil {
		return aerr
	}
	if err := checkPutACL(q.access, meta, q.route.key); err != nil {
		return err
	}
	if err := s.checkWriteConditions(q); err != nil {
		return err
	}
	body, aerr := newBody(q.r, q.auth)
	if aerr != nil {
		return aerr
	}
	obj, err := s.backend.PutObject(q.r.Context(), q.route.bucket, q.route.key, body, body.size, meta)
	if body.err != nil {
		return body.err
	}
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", quoted(obj.ETag))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// getObject serves GetObject and HeadObject.
func (s *Server) getObject(q *request) error {
	ctx, bucket, key := q.r.Context(), q.route.bucket, q.route.key
	if q.route.query.Has("partNumber") {
		return apiError(ErrNotImplemented, "GetObject by partNumber is not supported; use a Range.")
	}
	if err := q.access.checkRead(ctx, s.backend, key); err != nil {
		return err
	}
	rng := parseRange(q.r.Header.Get("Range"))
	rd, err := s.backend.GetObject(ctx, bucket, key, rng)
	if err != nil {
		return q.access.hideMissing(err)
	}
	defer rd.Close()
	if aerr := checkConditions(q.r.Header, rd.Object, true); aerr != nil {
		if aerr.Code == ErrNotModified {
			q.w.Header().Set("ETag", quoted(rd.ETag))
		}
		return aerr
	}
	h := q.w.Header()
	setObjectHeaders(h, rd.Object)
	if !q.caller().Anonymous {
		applyResponseOverrides(h, q.route.query)
	}
	h.Set("Content-Length", strconv.FormatInt(rd.Length, 10))
	status := http.StatusOK
	if rd.Ranged {
		status = http.StatusPartialContent
		h.Set("Content-Range", "bytes "+strconv.FormatInt(rd.Offset, 10)+"-"+
			strconv.FormatInt(rd.Offset+rd.Length-1, 10)+"/"+strconv.FormatInt(rd.Size, 10))
	}
	q.w.WriteHeader(status)
	if q.r.Method == http.MethodHead {
		return nil
	}
	var src io.Reader = rd
	if rd.Direct != nil {
		src = rd.Direct
	}
	if _, err := io.Copy(q.w, src); err != nil {
		// The status is out; end the connection so the client sees a
		// short body rather than a complete one.
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (s *Server) deleteObject(q *request) error {
	if err := s.backend.DeleteObject(q.r.Context(), q.route.bucket, q.route.key); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getObjectACL(q *request) error {
	obj, err := s.backend.HeadObject(q.r.Context(), q.route.bucket, q.route.key)
	if err != nil {
		return err
	}
	return writeXML(q.w, http.StatusOK, aclPolicy(obj.ACL, accountOwner(q.access.bucket.AccountID)))
}

// putObjectACL rewrites the object with the new ACL: objects are
// immutable files, so the bytes are copied (cheap for the images and
// documents ACLs are set on; large objects are better shared by policy).
func (s *Server) putObjectACL(q *request) error {
	acl, err := parseACLRequest(q, true)
	if err != nil {
		return err
	}
	ctx := q.r.Context()
	rd, err := s.backend.GetObject(ctx, q.route.bucket, q.route.key, nil)
	if err != nil {
		return err
	}
	defer rd.Close()
	meta := rd.Meta
	meta.ACL = acl
	if _, err := s.backend.PutObject(ctx, q.route.bucket, q.route.key, rd, rd.Size, meta); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// copySource is the object named by X-Amz-Copy-Source.
type copySource struct {
	bucket, key string
}

// parseCopySource reads "bucket/key" or "/bucket/key", URL-encoded, with
// an optional "?versionId=null".
func parseCopySource(v string) (copySource, *Error) {
	path, version, _ := strings.Cut(v, "?")
	if version != "" && version != "versionId=null" {
		return copySource{}, apiError(ErrNotImplemented, "Object versions are not supported.")
	}
	path, err := url.PathUnescape(path)
	if err != nil {
		return copySource{}, apiError(ErrInvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return copySource{}, apiError(ErrInvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
	}
	if aerr := checkKey(key); aerr != nil {
		return copySource{}, aerr
	}
	return copySource{bucket: bucket, key: key}, nil
}

// openCopySource authorizes reading the source (as the caller, in its own
// bucket's rules) and opens it, or the range asked for.
func (s *Server) openCopySource(q *request, rng *backend.ByteRange) (*backend.Reader, copySource, error) {
	src, aerr := parseCopySource(q.r.Header.Get("X-Amz-Copy-Source"))
	if aerr != nil {
		return nil, src, aerr
	}
	ctx := q.r.Context()
	b, err := s.lookupBucket(ctx, src.bucket)
	if err != nil {
		return nil, src, err
	}
	a, err := s.newAccess(ctx, q.caller(), b, q.meta())
	if err != nil {
		return nil, src, err
	}
	if err := a.checkRead(ctx, s.backend, src.key); err != nil {
		return nil, src, err
	}
	rd, err := s.backend.GetObject(ctx, src.bucket, src.key, rng)
	if err != nil {
		return nil, src, a.hideMissing(err)
	}
	h := q.r.Header
	if v := h.Get("X-Amz-Copy-Source-If-Match"); v != "" && !etagMatches(v, rd.ETag) {
		rd.Close()
		return nil, src, apiError(ErrPreconditionFailed, "")
	}
	if v := h.Get("X-Amz-Copy-Source-If-None-Match"); v != "" && etagMatches(v, rd.ETag) {
		rd.Close()
		return nil, src, apiError(ErrPreconditionFailed, "")
	}
	return rd, src, nil
}

func (s *Server) copyObject(q *request) error {
	if err := q.access.check("s3:PutObject", q.route.key); err != nil {
		return err
	}
	meta, aerr := metaFromHeaders(q.r.Header)
	if aerr != nil {
		return aerr
	}
	if err := checkPutACL(q.access, meta, q.route.key); err != nil {
		return err
	}
	rd, src, err := s.openCopySource(q, nil)
	if err != nil {
		return err
	}
	defer rd.Close()
	switch q.r.Header.Get("X-Amz-Metadata-Directive") {
	case "", "COPY":
		if src.bucket == q.route.bucket && src.key == q.route.key {
			return apiError(ErrInvalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
		acl := meta.ACL
		meta = rd.Meta
		meta.ACL = acl
	case "REPLACE":
	default:
		return apiError(ErrInvalidArgument, "Unknown metadata directive.")
	}
	obj, err := s.backend.PutObject(q.r.Context(), q.route.bucket, q.route.key, rd, rd.Size, meta)
	if err != nil {
		return err
	}
	return writeXML(q.w, http.StatusOK, copyObjectResult{LastModified: xmlTime(obj.LastModified), ETag: quoted(obj.ETag)})
}
