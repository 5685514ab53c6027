package sigv4

import (
	"crypto/sha256"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// queryPair is one decoded query parameter.
type queryPair struct {
	key, value string
}

// parseQuery decodes a raw query string, keeping every pair in order. A '+'
// decodes to a space, as the AWS SDKs and url.Values treat it.
func parseQuery(raw string) ([]queryPair, error) {
	if raw == "" {
		return nil, nil
	}
	pairs := make([]queryPair, 0, strings.Count(raw, "&")+1)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, malformed("query parameter name %q is not properly escaped", truncate(k))
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, malformed("query parameter %q has a value that is not properly escaped", truncate(key))
		}
		pairs = append(pairs, queryPair{key: key, value: value})
	}
	return pairs, nil
}

// canonicalQuery returns the canonical query string: names and values
// RFC 3986 encoded, sorted by name then value. A presigned request's
// X-Amz-Signature is left out.
func canonicalQuery(pairs []queryPair, presigned bool) string {
	if len(pairs) == 0 {
		return ""
	}
	enc := make([]queryPair, 0, len(pairs))
	size := 0
	for _, p := range pairs {
		if presigned && p.key == paramSignature {
			continue
		}
		e := queryPair{key: escape(p.key, false), value: escape(p.value, false)}
		size += len(e.key) + len(e.value) + 2
		enc = append(enc, e)
	}
	slices.SortFunc(enc, func(a, b queryPair) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var sb strings.Builder
	sb.Grow(size)
	for i, p := range enc {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(p.key)
		sb.WriteByte('=')
		sb.WriteString(p.value)
	}
	return sb.String()
}

// unreserved reports whether c is an RFC 3986 unreserved character.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// escape percent-encodes (upper-case hex) every byte of s that is not
// unreserved, and not '/' when keepSlash is set.
func escape(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && !(keepSlash && s[i] == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}

// requestPath returns the URI path exactly as the client sent it.
func requestPath(r *http.Request) string {
	path := ""
	if strings.HasPrefix(r.RequestURI, "/") {
		path, _, _ = strings.Cut(r.RequestURI, "?")
	} else if r.URL != nil {
		path = r.URL.EscapedPath()
	}
	if path == "" {
		return "/"
	}
	return path
}

// canonicalPaths returns the canonical URI candidates for r. S3 signs the
// wire path verbatim. Other services escape it once more; the Go SDK signs
// the path as sent, while botocore first removes redundant segments, so both
// forms are candidates when they differ.
func canonicalPaths(r *http.Request, s3 bool) []string {
	path := requestPath(r)
	if s3 {
		return []string{path}
	}
	paths := []string{escape(path, true)}
	if norm := normalizePath(path); norm != path {
		paths = append(paths, escape(norm, true))
	}
	return paths
}

// normalizePath removes empty, "." and ".." segments (RFC 3986 section
// 5.2.4 plus AWS's collapsing of repeated slashes).
func normalizePath(path string) string {
	if !strings.Contains(path, "//") && !strings.Contains(path, "/.") {
		return path
	}
	var out []string
	for seg := range strings.SplitSeq(path, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	norm := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(path, "/") {
		norm += "/"
	}
	return norm
}

// appendCanonicalHeaders appends "name:value\n" for each signed header.
func appendCanonicalHeaders(buf []byte, r *http.Request, names []string) []byte {
	for _, name := range names {
		buf = append(buf, name...)
		buf = append(buf, ':')
		buf = appendHeaderValue(buf, r, name)
		buf = append(buf, '\n')
	}
	return buf
}

// appendHeaderValue appends the canonical value of header name: values
// trimmed, runs of spaces collapsed, multiple values joined by commas. The
// host header is r.Host, as the client sent it, port included.
func appendHeaderValue(buf []byte, r *http.Request, name string) []byte {
	if name == "host" {
		host := r.Host
		if host == "" && r.URL != nil {
			host = r.URL.Host
		}
		return appendTrimmed(buf, host)
	}
	values := lookupHeader(r.Header, name)
	if len(values) == 0 && name == "content-length" && r.ContentLength >= 0 {
		return strconv.AppendInt(buf, r.ContentLength, 10)
	}
	for i, v := range values {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendTrimmed(buf, v)
	}
	return buf
}

// lookupHeader returns the values of the lower-case header name.
func lookupHeader(h http.Header, name string) []string {
	if v, ok := h[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// appendTrimmed appends v without leading and trailing white space and with
// each run of spaces collapsed to one.
func appendTrimmed(buf []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		buf = append(buf, v[i])
	}
	return buf
}

// canonicalRequest holds the parts of the canonical request that do not
// depend on the path and payload hash candidates.
type canonicalRequest struct {
	method        string
	query         string
	headers       []byte // canonical headers, each line ending in '\n'
	signedHeaders string
	buf           []byte
}

func newCanonicalRequest(r *http.Request, a *auth, query []queryPair) *canonicalRequest {
	c := &canonicalRequest{
		method:        r.Method,
		query:         canonicalQuery(query, a.presigned),
		headers:       appendCanonicalHeaders(make([]byte, 0, 256), r, a.headerNames),
		signedHeaders: a.signedHeaders,
	}
	// Room for the canonical request with a long path and payload hash.
	c.buf = make([]byte, 0, len(c.method)+len(c.query)+len(c.headers)+len(c.signedHeaders)+256)
	return c
}

// hash returns the SHA-256 of the canonical request for one path and
// payload hash. The request is built in c.buf, which callers may reuse as
// scratch space once hash returns.
func (c *canonicalRequest) hash(path, payloadHash string) [sha256.Size]byte {
	b := c.buf[:0]
	b = append(b, c.method...)
	b = append(b, '\n')
	b = append(b, path...)
	b = append(b, '\n')
	b = append(b, c.query...)
	b = append(b, '\n')
	b = append(b, c.headers...)
	b = append(b, '\n')
	b = append(b, c.signedHeaders...)
	b = append(b, '\n')
	b = append(b, payloadHash...)
	c.buf = b
	return sha256.Sum256(b)
}
