package s3

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// checkPutACL: setting a non-private ACL while writing needs
// s3:PutObjectAcl as well as s3:PutObject, and setting tags
// s3:PutObjectTagging.
func checkPutACL(a *access, meta backend.Meta, key string) error {
	if meta.ACL != aclPrivate {
		if err := a.check("s3:PutObjectAcl", key); err != nil {
			return err
		}
	}
	if len(meta.Tags) > 0 {
		return a.check("s3:PutObjectTagging", key)
	}
	return nil
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
	body, aerr := newBody(q.r, q.auth)
	if aerr != nil {
		return aerr
	}
	body.checksum = &backend.Checksum{}
	meta.Checksum = body.checksum
	var obj backend.Object
	err := s.conditionalWrite(q, func() error {
		var err error
		obj, err = s.backend.PutObject(q.r.Context(), q.route.bucket, q.route.key, body, body.size, meta)
		if body.err != nil {
			return body.err
		}
		return err
	})
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", quoted(obj.ETag))
	setChecksumHeaders(q.w.Header(), body.checksum)
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
	if strings.EqualFold(q.r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") && !rd.Ranged {
		setChecksumHeaders(h, rd.Checksum)
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
	if err := s.rewriteMeta(q, func(m *backend.Meta) { m.ACL = acl }); err != nil {
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
	if aerr := checkCopySourceConditions(q.r.Header, rd.Object); aerr != nil {
		rd.Close()
		return nil, src, aerr
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
		acl, tags := meta.ACL, meta.Tags
		meta = rd.Meta
		meta.ACL, meta.Tags = acl, tags
	case "REPLACE":
	default:
		return apiError(ErrInvalidArgument, "Unknown metadata directive.")
	}
	switch q.r.Header.Get("X-Amz-Tagging-Directive") {
	case "", "COPY":
		meta.Tags = rd.Tags
	case "REPLACE":
	default:
		return apiError(ErrInvalidArgument, "Unknown tagging directive.")
	}
	obj, err := s.backend.PutObject(q.r.Context(), q.route.bucket, q.route.key, rd, rd.Size, meta)
	if err != nil {
		return err
	}
	return writeXML(q.w, http.StatusOK, copyObjectResult{LastModified: xmlTime(obj.LastModified), ETag: quoted(obj.ETag)})
}
