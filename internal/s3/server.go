package s3

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/kumo-cloud/kumo/internal/authz"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/metrics"
	"github.com/kumo-cloud/kumo/internal/ratelog"
	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Config is what the S3 API needs.
type Config struct {
	DB       *store.DB         // the bucket registry (owners, ACLs, policies)
	Identity *identity.Service // the same access keys as the EC2 API
	Backend  backend.Backend   // where object bytes live
	Region   string            // reported by GetBucketLocation
	Logger   *slog.Logger
	Metrics  *metrics.Registry // optional
	Now      func() time.Time  // clock for signature checks; time.Now when nil
	// BodyIdleTimeout ends a request whose body stops arriving for this
	// long with 400 RequestTimeout, as S3 does after about 20 s
	// (DefaultBodyIdleTimeout when zero).
	BodyIdleTimeout time.Duration
	// Authorizer gives callers' identity policies; nil: callers are
	// decided by bucket policies and ACLs alone (tests of S3 alone).
	Authorizer *authz.Authorizer
}

// DefaultBodyIdleTimeout is how long a request body may send nothing.
const DefaultBodyIdleTimeout = 20 * time.Second

// Server serves the S3 API over HTTP (it is an http.Handler) and gives
// the controller in-process access to objects (System, OpenObject).
type Server struct {
	db       *store.DB
	identity *identity.Service
	backend  backend.Backend
	region   string
	logger   *slog.Logger
	metrics  *metrics.Registry
	now      func() time.Time
	idle     time.Duration
	logLimit ratelog.Limiter // bounds the lines of repeated server failures
	authz    *authz.Authorizer
	// condLocks serializes conditional writes per key (see writeLocks).
	condLocks writeLocks
}

// NewServer checks cfg and makes sure the system bucket exists.
func NewServer(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Identity == nil || cfg.Backend == nil {
		return nil, errors.New("s3: Config needs DB, Identity and Backend")
	}
	s := &Server{db: cfg.DB, identity: cfg.Identity, backend: cfg.Backend, region: cfg.Region,
		logger: cfg.Logger, metrics: cfg.Metrics, now: cfg.Now, idle: cfg.BodyIdleTimeout, authz: cfg.Authorizer}
	if s.idle <= 0 {
		s.idle = DefaultBodyIdleTimeout
	}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.backend.CreateBucket(ctx, SystemBucket); err != nil {
		return nil, fmt.Errorf("s3: create the system bucket: %w", err)
	}
	return s, nil
}

// request is one S3 request on its way through the server.
type request struct {
	r      *http.Request
	w      *responseWriter
	id     string
	route  route
	auth   authResult
	small  []byte  // the body of bodySmall operations
	access *access // the caller's view of the bucket, for bucket and object operations
}

func (q *request) caller() Caller { return q.auth.caller }

// meta is what the request's context keys come from: the client's
// address, TLS, and for ListBucket the s3:prefix, s3:delimiter and
// s3:max-keys keys from the query.
func (q *request) meta() requestMeta {
	host, _, err := net.SplitHostPort(q.r.RemoteAddr)
	if err != nil {
		host = q.r.RemoteAddr
	}
	m := requestMeta{sourceIP: host, secure: q.r.TLS != nil, keys: map[string][]string{}}
	query := q.r.URL.Query()
	for _, k := range []string{"prefix", "delimiter", "max-keys"} {
		if query.Has(k) {
			m.keys["s3:"+k] = []string{query.Get(k)}
		}
	}
	if v := q.r.Header.Get("X-Amz-Acl"); v != "" {
		m.keys["s3:x-amz-acl"] = []string{v}
	}
	return m
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q := &request{r: r, w: &responseWriter{ResponseWriter: w, status: http.StatusOK}, id: ids.RequestID()}
	w.Header().Set("x-amz-request-id", q.id)
	w.Header().Set("x-amz-id-2", q.id)
	w.Header().Set("Server", "Kumo")
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = newIdleBody(r.Body, w, s.idle)
	}
	var err error
	defer func() {
		p := recover()
		if p == http.ErrAbortHandler {
			s.finish(q, errAborted, time.Since(start))
			panic(p)
		}
		if p != nil {
			err = &Error{Code: ErrInternal, Cause: fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
			s.writeError(q, err)
		}
		s.finish(q, err, time.Since(start))
	}()
	if err = s.handle(q); err != nil {
		s.writeError(q, err)
	}
}

// handle routes, reads the small body, authenticates, loads the bucket
// and runs the operation.
func (s *Server) handle(q *request) error {
	rt, aerr := parseRoute(q.r)
	q.route = rt
	if aerr != nil {
		return aerr
	}
	spec := rt.op.spec()
	if spec.body == bodySmall {
		body, err := readSmall(q.r)
		if err != nil {
			return err
		}
		q.small = body
	}
	if q.auth, aerr = s.authenticate(q.r, q.small, spec.body == bodyStream); aerr != nil {
		return aerr
	}
	switch rt.op {
	case opListBuckets:
		return s.listBuckets(q)
	case opCreateBucket:
		return s.createBucket(q)
	}
	b, err := s.lookupBucket(q.r.Context(), rt.bucket)
	if err != nil {
		return err
	}
	if owner := q.r.Header.Get("X-Amz-Expected-Bucket-Owner"); owner != "" && owner != b.AccountID {
		return apiError(ErrAccessDenied, "The bucket is not owned by the expected account.")
	}
	if q.access, err = s.newAccess(q.r.Context(), q.caller(), b, q.meta()); err != nil {
		return err
	}
	if rt.key != "" {
		if aerr := checkKey(rt.key); aerr != nil {
			return aerr
		}
	}
	return s.dispatch(q, spec)
}

// readSmall reads an XML or JSON body whole, up to maxSmallBody.
func readSmall(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSmallBody+1))
	if err != nil {
		return nil, &Error{Code: ErrIncompleteBody, Cause: err}
	}
	if len(body) > maxSmallBody {
		return nil, apiError(ErrInvalidRequest, "The request body is larger than %d bytes.", maxSmallBody)
	}
	return body, nil
}

// responseWriter remembers the status and counts the bytes sent.
type responseWriter struct {
	http.ResponseWriter
	status  int
	written int64
	wrote   bool
	// writeErr is the first error writing to the client: it went away.
	writeErr error
}

func (w *responseWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	if err != nil && w.writeErr == nil {
		w.writeErr = err
	}
	return n, err
}

// ReadFrom lets io.Copy reach net/http's ReadFrom, which sends files
// with sendfile(2).
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	w.wrote = true
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	if !ok {
		n, err := io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
		w.written += n
		return n, err
	}
	n, err := rf.ReadFrom(src)
	w.written += n
	if isConnGone(err) && w.writeErr == nil {
		w.writeErr = err
	}
	return n, err
}

// writeXML sends a complete XML answer.
func writeXML(w *responseWriter, status int, v any) error {
	out, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	body := append([]byte(xml.Header), out...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

// errorResponse is S3's error envelope.
type errorResponse struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
}

// writeError answers with the mapped error; HEAD and 304 get the status
// alone. Nothing is sent when the response already started (a failure
// mid-download): the connection then just ends early.
func (s *Server) writeError(q *request, err error) {
	e := toAPIError(err)
	if q.w.wrote {
		return
	}
	q.w.status = e.Status()
	if q.r.Method == http.MethodHead || e.Code == ErrNotModified {
		q.w.Header().Set("x-amz-error-code", e.Name())
		q.w.WriteHeader(e.Status())
		return
	}
	_ = writeXML(q.w, e.Status(), errorResponse{Code: e.Name(), Message: e.message(),
		Resource: q.r.URL.EscapedPath(), RequestID: q.id})
}

// finish logs the request and counts it. A request whose client went
// away (it closed the connection mid-request or mid-download) is logged at
// INFO with status 499 and counted as ClientClosedRequest: it is not a
// server failure. Repeated server failures are logged a few per second.
func (s *Server) finish(q *request, err error, d time.Duration) {
	code := "OK"
	level := slog.LevelInfo
	attrs := []slog.Attr{slog.String("request_id", q.id), slog.String("op", string(q.route.op)),
		slog.String("account", q.auth.caller.AccountID), slog.String("user", q.auth.caller.UserName),
		slog.Bool("anonymous", q.auth.caller.Anonymous), slog.String("bucket", q.route.bucket)}
	status := q.w.status
	if err != nil {
		e := toAPIError(err)
		code = e.Name()
		switch {
		case e.Code != ErrRequestTimeout && q.clientGone(): // a read timeout cancels the context too
			status, code = StatusClientClosed, CodeClientClosed
			attrs = append(attrs, slog.String("err", err.Error()))
		case e.Code == ErrInternal || e.Code == ErrServiceUnavailable:
			level = slog.LevelError
			attrs = append(attrs, slog.String("err", err.Error()))
		}
	}
	attrs = append(attrs, slog.Int("status", status), slog.String("code", code),
		slog.Int64("bytes_out", q.w.written), slog.Float64("latency_ms", float64(d.Microseconds())/1000))
	if s.metrics != nil {
		s.metrics.ObserveRequest("s3", string(q.route.op), code, d)
	}
	if level == slog.LevelError {
		ok, suppressed := s.logLimit.Allow(code)
		if !ok {
			return
		}
		if suppressed > 0 {
			attrs = append(attrs, slog.Int("suppressed", suppressed))
		}
	}
	s.logger.LogAttrs(q.r.Context(), level, "s3 request", attrs...)
}

// StatusClientClosed is the status logged for a request whose client went
// away before the answer was complete (nginx's 499).
const StatusClientClosed = 499

// CodeClientClosed is the metrics code of such requests.
const CodeClientClosed = "ClientClosedRequest"

// errAborted ends a response that failed after its status was sent.
var errAborted = errors.New("aborted mid-response")

// clientGone reports whether the client disconnected: the request's
// context ended, or writing to it failed.
func (q *request) clientGone() bool {
	return q.r.Context().Err() != nil || q.w.writeErr != nil
}

// isConnGone reports whether err is the connection to the client closing.
func isConnGone(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// idleBody ends a request body that sends nothing for idle: before each
// read it moves the connection's read deadline idle into the future, and
// a read that times out becomes 400 RequestTimeout, as S3 answers a
// client that stops sending. Without it a stalled upload holds its
// connection and goroutine forever.
//
// The deadline is also set when the request starts, so that net/http's
// own reading of a body the handler left unread (before it answers) is
// bounded too.
type idleBody struct {
	r    io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func newIdleBody(r io.ReadCloser, w http.ResponseWriter, idle time.Duration) *idleBody {
	b := &idleBody{r: r, rc: http.NewResponseController(w), idle: idle}
	_ = b.rc.SetReadDeadline(time.Now().Add(idle)) // unsupported (HTTP/2): no timeout
	return b
}

func (b *idleBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	n, err := b.r.Read(p)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Close the body so net/http does not wait on it again before
		// sending the answer; the connection ends after it.
		_ = b.r.Close()
		return n, &Error{Code: ErrRequestTimeout, Cause: err}
	}
	// The body ended: no deadline may outlive it, or net/http's read that
	// watches for the client closing would time out and cancel a handler
	// still working (assembling a large multipart upload).
	_ = b.rc.SetReadDeadline(time.Time{})
	return n, err
}

func (b *idleBody) Close() error { return b.r.Close() }

// PurgeBucket removes every object and unfinished upload of a bucket and
// the bucket itself from the backend; the registry row is the caller's to
// delete (an account being deleted with --force). A bucket already gone is
// not an error.
func (s *Server) PurgeBucket(ctx context.Context, name string) error {
	for {
		page, err := s.backend.ListObjects(ctx, name, backend.ListQuery{MaxKeys: 1000})
		if errors.Is(err, backend.ErrNoSuchBucket) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("purge bucket %s: %w", name, err)
		}
		for _, o := range page.Objects {
			if err := s.backend.DeleteObject(ctx, name, o.Key); err != nil && !errors.Is(err, backend.ErrNoSuchKey) {
				return fmt.Errorf("purge bucket %s: %w", name, err)
			}
		}
		if !page.Truncated || len(page.Objects) == 0 {
			break
		}
	}
	uploads, err := s.backend.ListUploads(ctx, name, "")
	if err != nil {
		return fmt.Errorf("purge bucket %s: %w", name, err)
	}
	for _, u := range uploads {
		if err := s.backend.AbortUpload(ctx, name, u.Key, u.ID); err != nil && !errors.Is(err, backend.ErrNoSuchUpload) {
			return fmt.Errorf("purge bucket %s: %w", name, err)
		}
	}
	if err := s.backend.DeleteBucket(ctx, name); err != nil && !errors.Is(err, backend.ErrNoSuchBucket) {
		return fmt.Errorf("purge bucket %s: %w", name, err)
	}
	return nil
}
