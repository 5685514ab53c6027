package s3

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// maxUserMetadata is S3's limit on the x-amz-meta-* headers of an object.
const maxUserMetadata = 2 << 10

const userMetaPrefix = "X-Amz-Meta-"

// metaFromHeaders reads what a PUT, copy or multipart start sets on an
// object: Content-Type, the stored headers, x-amz-meta-* and x-amz-acl.
func metaFromHeaders(h http.Header) (backend.Meta, *Error) {
	m := backend.Meta{ContentType: h.Get("Content-Type")}
	for _, name := range backend.StoredHeaders() {
		v := h.Get(name)
		if name == "Content-Encoding" {
			v = withoutAWSChunked(v)
		}
		if v != "" {
			if m.Headers == nil {
				m.Headers = map[string]string{}
			}
			m.Headers[name] = v
		}
	}
	size := 0
	for name, values := range h {
		canon := http.CanonicalHeaderKey(name)
		if !strings.HasPrefix(canon, userMetaPrefix) || len(values) == 0 {
			continue
		}
		if m.User == nil {
			m.User = map[string]string{}
		}
		key := strings.ToLower(canon[len(userMetaPrefix):])
		m.User[key] = strings.Join(values, ",")
		size += len(key) + len(m.User[key])
	}
	if size > maxUserMetadata {
		return m, apiError(ErrInvalidArgument, "Your metadata headers exceed the maximum allowed metadata size of %d bytes.", maxUserMetadata)
	}
	acl, err := parseCannedACL(h.Get("X-Amz-Acl"), true)
	if err != nil {
		return m, err
	}
	m.ACL = acl
	if m.Tags, err = parseTaggingHeader(h.Get("X-Amz-Tagging")); err != nil {
		return m, err
	}
	return m, refuseUnsupportedObjectHeaders(h)
}

// withoutAWSChunked drops the aws-chunked transfer coding from a
// Content-Encoding value: it describes the request, not the object.
func withoutAWSChunked(v string) string {
	var keep []string
	for _, c := range strings.Split(v, ",") {
		if c = strings.TrimSpace(c); c != "" && c != "aws-chunked" {
			keep = append(keep, c)
		}
	}
	return strings.Join(keep, ",")
}

// refuseUnsupportedObjectHeaders rejects headers that ask for features
// Kumo does not have, rather than storing an object without them.
func refuseUnsupportedObjectHeaders(h http.Header) *Error {
	for _, name := range []string{"X-Amz-Object-Lock-Mode", "X-Amz-Object-Lock-Retain-Until-Date",
		"X-Amz-Object-Lock-Legal-Hold", "X-Amz-Website-Redirect-Location", "X-Amz-Server-Side-Encryption-Customer-Algorithm"} {
		if h.Get(name) != "" {
			return apiError(ErrNotImplemented, "The %s header is not supported by Kumo's S3 API.", name)
		}
	}
	if sse := h.Get("X-Amz-Server-Side-Encryption"); sse != "" && sse != "AES256" {
		return apiError(ErrNotImplemented, "Server-side encryption %q is not supported by Kumo's S3 API.", sse)
	}
	if err := refuseGrantHeadersIn(h); err != nil {
		return err
	}
	return nil
}

func refuseGrantHeadersIn(h http.Header) *Error {
	for name := range h {
		if strings.HasPrefix(http.CanonicalHeaderKey(name), "X-Amz-Grant-") {
			return apiError(ErrNotImplemented, "The %s header is not supported; use a canned ACL (x-amz-acl).", name)
		}
	}
	return nil
}

// parseRange reads a Range header. Syntax S3 ignores (several ranges,
// other units, nonsense) selects the whole object, as HTTP says.
func parseRange(v string) *backend.ByteRange {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return nil
	}
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n <= 0 {
			return nil
		}
		return &backend.ByteRange{Suffix: n}
	}
	f, err := strconv.ParseInt(first, 10, 64)
	if err != nil || f < 0 {
		return nil
	}
	rng := &backend.ByteRange{First: f, Last: -1}
	if last != "" {
		l, err := strconv.ParseInt(last, 10, 64)
		if err != nil || l < f {
			return nil
		}
		rng.Last = l
	}
	return rng
}

// quoted puts an ETag in the quotes HTTP and S3 use.
func quoted(etag string) string { return `"` + etag + `"` }

// unquote strips an ETag's quotes (and a weak prefix).
func unquote(etag string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(etag), "W/"), `"`)
}

// etagMatches implements If-Match/If-None-Match lists ("*" matches any).
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		if v = strings.TrimSpace(v); v == "*" || unquote(v) == etag {
			return true
		}
	}
	return false
}

// checkConditions applies RFC 7232's order for reads: If-Match, then
// If-Unmodified-Since, If-None-Match, If-Modified-Since.
func checkConditions(h http.Header, obj backend.Object, read bool) *Error {
	mod := obj.LastModified.Truncate(time.Second)
	if v := h.Get("If-Match"); v != "" && !etagMatches(v, obj.ETag) {
		return apiError(ErrPreconditionFailed, "")
	}
	if t, err := http.ParseTime(h.Get("If-Unmodified-Since")); err == nil && h.Get("If-Match") == "" && mod.After(t) {
		return apiError(ErrPreconditionFailed, "")
	}
	if v := h.Get("If-None-Match"); v != "" && etagMatches(v, obj.ETag) {
		if read {
			return apiError(ErrNotModified, "")
		}
		return apiError(ErrPreconditionFailed, "")
	}
	if t, err := http.ParseTime(h.Get("If-Modified-Since")); err == nil && read && h.Get("If-None-Match") == "" && !mod.After(t) {
		return apiError(ErrNotModified, "")
	}
	return nil
}

// setObjectHeaders writes an object's metadata as response headers.
func setObjectHeaders(h http.Header, obj backend.Object) {
	ct := obj.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("ETag", quoted(obj.ETag))
	h.Set("Last-Modified", obj.LastModified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	for name, v := range obj.Headers {
		h.Set(name, v)
	}
	for name, v := range obj.User {
		h[userMetaPrefix+name] = []string{v}
	}
	setTaggingCount(h, obj)
}

// responseOverrides are GetObject's response-* query parameters, honoured
// for signed requests as in S3.
func applyResponseOverrides(h http.Header, q map[string][]string) {
	for param, header := range map[string]string{
		"response-content-type": "Content-Type", "response-content-language": "Content-Language",
		"response-expires": "Expires", "response-cache-control": "Cache-Control",
		"response-content-disposition": "Content-Disposition", "response-content-encoding": "Content-Encoding",
	} {
		if v := q[param]; len(v) > 0 && v[0] != "" {
			h.Set(header, v[0])
		}
	}
}
