// Package imds is the EC2 instance metadata service (169.254.169.254) as an
// http.Handler: IMDSv1 and IMDSv2, the meta-data/, user-data and
// dynamic/instance-identity/ trees that cloud-init's EC2 datasource crawls.
//
// The node agent serves it on each guest's tap, one listener per tap with
// http.Server.ConnContext = ConnContext(tap), and its Lookup resolves the
// instance from TapFrom(r.Context()), never from the source address alone,
// so a guest cannot read another's metadata. IMDSv2 tokens are stateless
// (HMAC over instance id and expiry): they survive an agent restart that
// keeps TokenKey and are refused on any other instance.
//
// Every version AWS published up to 2021-03-23, and latest, serve the same
// tree. Directory listings are built from what can be read, so a crawl of
// every listed name (as cloud-init does) never meets a 404; user-data and
// unknown paths are the only 404s.
package imds

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// Header names of IMDSv2.
const (
	HeaderToken    = "X-Aws-Ec2-Metadata-Token"
	HeaderTokenTTL = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
)

const tokenPath = "/latest/api/token"

// Server answers metadata requests. TokenKey is the HMAC key of IMDSv2
// tokens (at least 16 bytes, see NewTokenKey); Now defaults to time.Now.
type Server struct {
	Lookup   Lookup
	Now      func() time.Time
	TokenKey []byte
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case isTokenPath(r.URL.Path) && r.Method == http.MethodPut:
		s.serveToken(w, r)
	case isTokenPath(r.URL.Path):
		methodNotAllowed(w, "PUT")
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		s.serveGet(w, r)
	default:
		methodNotAllowed(w, "GET, HEAD")
	}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// instance resolves the request's instance, or answers the error itself.
func (s *Server) instance(w http.ResponseWriter, r *http.Request) *Instance {
	if s.Lookup == nil {
		errorStatus(w, r, http.StatusInternalServerError)
		return nil
	}
	in, err := s.Lookup(r)
	switch {
	case errors.Is(err, ErrUnknownInstance) || (err == nil && in == nil):
		errorStatus(w, r, http.StatusNotFound)
		return nil
	case err != nil:
		errorStatus(w, r, http.StatusInternalServerError)
		return nil
	}
	return in
}

// serveGet answers GET and HEAD after the IMDSv1/IMDSv2 checks.
func (s *Server) serveGet(w http.ResponseWriter, r *http.Request) {
	in := s.instance(w, r)
	if in == nil {
		return
	}
	if !s.authorized(r, in) {
		errorStatus(w, r, http.StatusUnauthorized)
		return
	}
	if r.URL.Path == "/" {
		text(w, r, []byte(versionList))
		return
	}
	s.serveTree(w, r, in)
}

// authorized: a token header must hold a valid token for this instance;
// without one, IMDSv1 is allowed unless the instance requires tokens.
func (s *Server) authorized(r *http.Request, in *Instance) bool {
	toks, ok := r.Header[HeaderToken]
	if !ok {
		return !in.HTTPTokensRequired
	}
	return len(toks) == 1 && validToken(s.TokenKey, in.ID, toks[0], s.now())
}

func (s *Server) serveTree(w http.ResponseWriter, r *http.Request, in *Instance) {
	segs, ok := splitPath(r.URL.Path)
	if !ok || !knownVersion(segs[0]) {
		errorStatus(w, r, http.StatusNotFound)
		return
	}
	n := versionRoot(in).walk(segs[1:])
	switch {
	case n == nil:
		errorStatus(w, r, http.StatusNotFound)
	case n.isDir:
		text(w, r, n.listing())
	case len(segs) == 2 && segs[1] == "user-data":
		raw(w, r, n.leaf)
	default:
		text(w, r, n.leaf)
	}
}

// splitPath turns "/v/a/b" or "/v/a/b/" into [v a b]. Empty segments
// ("//", a bare "/") make the path unknown.
func splitPath(p string) ([]string, bool) {
	p, ok := strings.CutPrefix(p, "/")
	if !ok {
		return nil, false
	}
	p = strings.TrimSuffix(p, "/")
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "" {
			return nil, false
		}
	}
	return segs, true
}

func isTokenPath(p string) bool { return strings.TrimSuffix(p, "/") == tokenPath }
