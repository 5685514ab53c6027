// Package apiserver is the HTTP front of the AWS Query-protocol services
// (EC2, IAM, STS): it gives every request an id, verifies its SigV4
// signature, resolves the caller, routes by the credential scope's service
// name, runs the action through the generated codec and logs and counts
// the result.
package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/authz"
	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/metrics"
	"github.com/kumo-cloud/kumo/internal/ratelog"
	"github.com/kumo-cloud/kumo/internal/sigv4"
	"github.com/kumo-cloud/kumo/internal/store"
)

// MaxBodyBytes bounds a request body; EC2's largest parameters (user data,
// 16 KiB) fit many times over.
const MaxBodyBytes = 1 << 20

// Service is one AWS service behind the endpoint.
type Service struct {
	Model *awsapi.ServiceModel
	Impl  any
}

// Server serves the Query-protocol APIs.
type Server struct {
	Identity *identity.Service
	// Services by SigV4 scope name: "ec2", "iam", "sts".
	Services map[string]Service
	Logger   *slog.Logger
	Metrics  *metrics.Registry
	// Now is the clock for signature skew checks (time.Now when nil).
	Now func() time.Time
	// Region is the region requests must be signed for (IAM and STS may
	// also be signed for us-east-1, where AWS's SDKs sign global services).
	Region string
	// Authorizer decides every authenticated request with the caller's
	// policies; nil lets every caller do everything (tests of the
	// protocol alone).
	Authorizer *authz.Authorizer
	// LogLimit bounds the log lines of failures that repeat (a database
	// outage fails every request alike); the zero value passes one line
	// per class per second.
	LogLimit ratelog.Limiter
}

// result is what one request ended with, for the log line and metrics.
type result struct {
	service, action, code string
	principal             identity.Principal
	authenticated         bool
	status                int
	err                   error
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := ids.RequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	res := &result{service: scopeService(r), status: http.StatusOK, code: "OK"}
	defer func() {
		if p := recover(); p != nil {
			res.err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			s.writeError(w, reqID, res, awsapi.ErrInternal())
		}
		s.finish(r.Context(), reqID, res, time.Since(start))
	}()
	body, err := s.handle(r, reqID, res)
	if err != nil {
		s.writeError(w, reqID, res, err)
		return
	}
	writeBody(w, http.StatusOK, body)
}

// writeBody sends a complete XML answer with its length.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// handle authenticates, routes and invokes; it returns the response body.
func (s *Server) handle(r *http.Request, reqID string, res *result) ([]byte, error) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, awsapi.NewError("MethodNotAllowed", http.StatusMethodNotAllowed, "The %s method is not allowed; the Query API takes GET and POST.", r.Method)
	}
	body, params, err := readRequest(r)
	if err != nil {
		return nil, err
	}
	res.action = params.Get("Action")
	if unsignedSTS(r, params) {
		// AWS takes these unsigned: the token in the request is the
		// credential. The action sees no principal.
		res.service = "sts"
		svc, ok := s.Services["sts"]
		if !ok {
			return nil, awsapi.NewError("InvalidAction", http.StatusBadRequest, "The service 'sts' is not served on this endpoint.")
		}
		res.authenticated = true
		return awsapi.Invoke(WithLogger(r.Context(), s.Logger.With("request_id", reqID)), svc.Model, svc.Impl, params, reqID)
	}
	principal, scope, err := s.authenticate(r, body, res.service)
	if err != nil {
		return nil, err
	}
	res.principal, res.authenticated = principal, true
	res.service = scope
	svc, ok := s.Services[scope]
	if !ok {
		return nil, awsapi.NewError("InvalidAction", http.StatusBadRequest, "The service '%s' is not served on this endpoint.", scope)
	}
	ctx := identity.WithPrincipal(r.Context(), principal)
	ctx = WithLogger(ctx, s.Logger.With("request_id", reqID, "account", principal.AccountID))
	if err := s.authorize(ctx, r, svc, scope, principal, params); err != nil {
		return nil, err
	}
	return awsapi.Invoke(ctx, svc.Model, svc.Impl, params, reqID)
}

// unsignedSTS reports a request AWS's STS answers without a signature:
// AssumeRoleWithWebIdentity with no Authorization header and no
// presigned query.
func unsignedSTS(r *http.Request, params url.Values) bool {
	if params.Get("Action") != "AssumeRoleWithWebIdentity" || r.Header.Get("Authorization") != "" {
		return false
	}
	q := r.URL.Query()
	return !q.Has("X-Amz-Credential") && !q.Has("X-Amz-Signature")
}

// authorize runs the caller's policies over the request. Actions the
// service does not have or Kumo does not implement are left to Invoke.
func (s *Server) authorize(ctx context.Context, r *http.Request, svc Service, service string, p identity.Principal, params url.Values) error {
	op := params.Get("Action")
	if o := svc.Model.Operations[op]; s.Authorizer == nil || o == nil || !o.Implemented {
		return nil // Invoke answers InvalidAction or UnsupportedOperation
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	err = s.Authorizer.Authorize(ctx, authz.Call{Principal: p, Service: service, Operation: op, Params: params, SourceIP: host, Secure: r.TLS != nil})
	var denied *authz.Denied
	if errors.As(err, &denied) {
		return denied.APIError()
	}
	if err != nil {
		return fmt.Errorf("authorize %s:%s: %w", service, op, err)
	}
	return nil
}

// readRequest reads the bounded body and merges query and form parameters.
func readRequest(r *http.Request) ([]byte, url.Values, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, nil, awsapi.NewError("IncompleteBody", http.StatusBadRequest, "The request body could not be read.")
	}
	if len(body) > MaxBodyBytes {
		return nil, nil, awsapi.NewError("RequestEntityTooLarge", http.StatusRequestEntityTooLarge, "The request body exceeds %d bytes.", MaxBodyBytes)
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, awsapi.NewError("MalformedQueryString", http.StatusBadRequest, "The query string is malformed.")
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, awsapi.NewError("MalformedQueryString", http.StatusBadRequest, "The form-encoded request body is malformed.")
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	return body, params, nil
}

// authenticate verifies the signature and returns the caller and the
// service named by the credential scope.
func (s *Server) authenticate(r *http.Request, body []byte, guess string) (identity.Principal, string, error) {
	creds := s.Identity.Credentials()
	v := sigv4.Verifier{Now: s.Now, Lookup: creds.Lookup, SessionToken: creds.SessionToken}
	res, err := v.Verify(r.Context(), r, body)
	principal := creds.Principal
	if err != nil {
		return principal, guess, authError(guess, err)
	}
	if !s.regionOK(res.Service, res.Region) {
		return principal, res.Service, wrongRegion(res.Service, res.Region)
	}
	return principal, res.Service, nil
}

func (s *Server) regionOK(service, region string) bool {
	if s.Region == "" || region == s.Region {
		return true
	}
	return (service == "iam" || service == "sts") && region == "us-east-1"
}

func wrongRegion(service, region string) error {
	msg := "Credential should be scoped to a valid region, not '%s'."
	if service == "ec2" {
		return awsapi.NewError("AuthFailure", http.StatusUnauthorized, msg, region)
	}
	return awsapi.NewError("SignatureDoesNotMatch", http.StatusForbidden, msg, region)
}

// authError maps signature failures to each protocol's codes.
func authError(service string, err error) error {
	ec2 := service == "ec2" || service == ""
	switch {
	case errors.Is(err, sigv4.ErrMissingAuth):
		return awsapi.NewError("MissingAuthenticationToken", http.StatusForbidden, "Request is missing Authentication Token")
	case errors.Is(err, sigv4.ErrExpired):
		return awsapi.NewError("RequestExpired", http.StatusBadRequest, "Request has expired: its time is more than 15 minutes from the server's, or its presigned URL has expired.")
	case errors.Is(err, sigv4.ErrMalformed):
		return awsapi.NewError("IncompleteSignature", http.StatusBadRequest, "The request signature does not conform to AWS standards: %s", err)
	case errors.Is(err, sigv4.ErrExpiredSessionToken):
		status := http.StatusForbidden
		if ec2 {
			status = http.StatusBadRequest
		}
		return awsapi.NewError("ExpiredToken", status, "The security token included in the request is expired")
	case (errors.Is(err, sigv4.ErrUnknownAccessKey) || errors.Is(err, sigv4.ErrInvalidSessionToken)) && ec2:
		return awsapi.NewError("AuthFailure", http.StatusUnauthorized, "AWS was not able to validate the provided access credentials")
	case errors.Is(err, sigv4.ErrUnknownAccessKey), errors.Is(err, sigv4.ErrInvalidSessionToken):
		return awsapi.NewError("InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid.")
	case errors.Is(err, sigv4.ErrSignatureMismatch), errors.Is(err, sigv4.ErrPayloadHashMismatch):
		if ec2 {
			return awsapi.NewError("AuthFailure", http.StatusUnauthorized, "AWS was not able to validate the provided access credentials")
		}
		return awsapi.NewError("SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return err // internal: the key lookup failed
}

// scopeService reads the service name from the credential scope without
// verifying anything, so errors before verification use the right envelope.
func scopeService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		if i := strings.Index(h, "Credential="); i >= 0 {
			cred, _, _ = strings.Cut(h[i+len("Credential="):], ",")
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) == 5 {
		return parts[3]
	}
	return "ec2"
}

func (s *Server) protocolOf(service string) (awsapi.Protocol, string) {
	if svc, ok := s.Services[service]; ok {
		return svc.Model.Protocol, svc.Model.XMLNamespace
	}
	return awsapi.ProtocolEC2, ""
}

func (s *Server) writeError(w http.ResponseWriter, reqID string, res *result, err error) {
	proto, ns := s.protocolOf(res.service)
	e := apiError(err)
	status, body := awsapi.EncodeError(proto, ns, reqID, e)
	res.status = status
	res.code = e.Code
	if status >= 500 {
		res.err = err
	}
	writeBody(w, status, body)
}

// apiError maps any error to the Query APIs' vocabulary, in one place: API
// errors pass through; a database that cannot answer for now is 503
// ServiceUnavailable (EC2's, IAM's and STS's code for a temporary failure
// of the server, which SDKs retry); anything else is InternalError.
func apiError(err error) *awsapi.Error {
	var e *awsapi.Error
	switch {
	case errors.As(err, &e) && e != nil:
		return e
	case store.IsUnavailable(err):
		return awsapi.NewError("ServiceUnavailable", http.StatusServiceUnavailable, "The request has failed due to a temporary failure of the server.")
	}
	return awsapi.ErrInternal()
}

// StatusClientClosed is the status logged for a request whose client went
// away before the answer (nginx's 499): not a server failure.
const StatusClientClosed = 499

// CodeClientClosed is the metrics code of such requests.
const CodeClientClosed = "ClientClosedRequest"

// finish writes the request's log line and metrics.
func (s *Server) finish(ctx context.Context, reqID string, res *result, d time.Duration) {
	if res.status >= 500 && ctx.Err() != nil {
		// The client disconnected, and what failed was waiting on it.
		res.status, res.code, res.err = StatusClientClosed, CodeClientClosed, nil
	}
	if s.Metrics != nil {
		service, action := s.labels(res)
		s.Metrics.ObserveRequest(service, action, res.code, d)
	}
	attrs := []any{"request_id", reqID, "service", clip(res.service), "action", clip(res.action), "account", res.principal.AccountID,
		"user", res.principal.UserName, "status", res.status, "code", res.code, "latency_ms", float64(d.Microseconds()) / 1000}
	if res.err == nil {
		s.Logger.InfoContext(ctx, "request", attrs...)
		return
	}
	// Server failures repeat (an outage fails every request the same
	// way): log a few per second per code, and how many were held back.
	ok, suppressed := s.LogLimit.Allow(res.code)
	if !ok {
		return
	}
	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed)
	}
	s.Logger.ErrorContext(ctx, "request failed", append(attrs, "err", res.err.Error())...)
}

// clip bounds what a client named (an action, a service) in a log line: a
// made-up action may be as long as the body.
func clip(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// labels are the metric labels of a request: the service only when this
// endpoint serves it, the action only when the request was authenticated
// and the service's model has it. Anything a client makes up is
// "unknown", so unsigned requests cannot grow the metrics without bound.
func (s *Server) labels(res *result) (service, action string) {
	svc, ok := s.Services[res.service]
	if !ok {
		return metrics.Unknown, metrics.Unknown
	}
	if !res.authenticated || svc.Model.Operations[res.action] == nil {
		return res.service, metrics.Unknown
	}
	return res.service, res.action
}

type loggerKey struct{}

// WithLogger stores a request-scoped logger in ctx.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the request-scoped logger, or slog's default.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
