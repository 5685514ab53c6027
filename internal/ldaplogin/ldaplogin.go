// Package ldaplogin serves POST /kumo/login on the API listener: a
// directory user's name and password in, temporary AWS credentials for
// the role their directory groups map to out. The directory is asked by
// ldapauth; the credentials are minted by an Issuer (STS).
package ldaplogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/ldapauth"
)

// Path is where the endpoint is served.
const Path = "/kumo/login"

// Credentials are temporary credentials for an assumed role. The fields
// match sts.Credentials, so the real one converts with Credentials(c).
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

// Issuer mints role session credentials; *sts.Service through IssuerFunc.
type Issuer interface {
	IssueRoleSession(ctx context.Context, accountID, roleName, sessionName string, duration time.Duration, tags map[string]string) (Credentials, error)
}

// IssuerFunc adapts a function to Issuer.
type IssuerFunc func(ctx context.Context, accountID, roleName, sessionName string, duration time.Duration, tags map[string]string) (Credentials, error)

// IssueRoleSession calls f.
func (f IssuerFunc) IssueRoleSession(ctx context.Context, accountID, roleName, sessionName string, duration time.Duration, tags map[string]string) (Credentials, error) {
	return f(ctx, accountID, roleName, sessionName, duration, tags)
}

// Request is the body of POST /kumo/login.
type Request struct {
	User     string `json:"user"`
	Password string `json:"password"`
	// Role picks one mapping when the user has several: the role ARN
	// (arn:aws:iam::123456789012:role/Developer).
	Role string `json:"role,omitempty"`
	// DurationSeconds asks for a shorter session than the configured cap.
	DurationSeconds int `json:"duration_seconds,omitempty"`
}

// Response is a successful login.
type Response struct {
	AccessKeyID     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	SessionToken    string    `json:"SessionToken"`
	Expiration      time.Time `json:"Expiration"`
	RoleArn         string    `json:"RoleArn"`
}

// Error is the body of a refusal. Roles lists the choices when Code is
// RoleChoiceRequired.
type Error struct {
	Code    string   `json:"Code"`
	Message string   `json:"Message"`
	Roles   []string `json:"Roles,omitempty"`
}

// Handler serves the login endpoint.
type Handler struct {
	Auth *ldapauth.Authenticator
	// Issuer nil answers 501: the server has no STS to mint credentials with.
	Issuer Issuer
	Logger *slog.Logger
}

// RoleArn is the ARN of a mapping's role.
func RoleArn(m ldapauth.Mapping) string { return "arn:aws:iam::" + m.AccountID + ":role/" + m.Role }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, Error{Code: "MethodNotAllowed", Message: "use POST with a JSON body"})
		return
	}
	var req Request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	if err := dec.Decode(&req); err != nil || req.User == "" {
		writeError(w, http.StatusBadRequest, Error{Code: "ValidationError", Message: "body must be JSON {\"user\": ..., \"password\": ..., \"role\": optional role ARN}"})
		return
	}
	if h.Issuer == nil {
		writeError(w, http.StatusNotImplemented, Error{Code: "Unsupported", Message: "this server has no STS to issue credentials with"})
		return
	}
	res, err := h.Auth.Login(r.Context(), req.User, req.Password, sourceAddr(r))
	switch {
	case errors.Is(err, ldapauth.ErrInvalidCredentials):
		writeError(w, http.StatusUnauthorized, Error{Code: "InvalidCredentials", Message: err.Error()})
		return
	case errors.Is(err, ldapauth.ErrThrottled):
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, Error{Code: "Throttling", Message: err.Error()})
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, Error{Code: "ServiceUnavailable", Message: "the directory could not be reached; try again later"})
		return
	}
	m, e := pick(res.Mappings, req.Role)
	if e != nil {
		status := http.StatusForbidden
		if e.Code == "RoleChoiceRequired" {
			status = http.StatusConflict
		}
		h.logger().InfoContext(r.Context(), "ldap login refused", "user", req.User, "code", e.Code, "role", req.Role)
		writeError(w, status, *e)
		return
	}
	h.issue(w, r, req, res, m)
}

func (h *Handler) issue(w http.ResponseWriter, r *http.Request, req Request, res ldapauth.Result, m ldapauth.Mapping) {
	d := h.Auth.MaxSession()
	if req.DurationSeconds > 0 {
		if req.DurationSeconds < 900 {
			writeError(w, http.StatusBadRequest, Error{Code: "ValidationError", Message: "duration_seconds must be at least 900"})
			return
		}
		d = min(d, time.Duration(req.DurationSeconds)*time.Second)
	}
	creds, err := h.Issuer.IssueRoleSession(r.Context(), m.AccountID, m.Role, SessionName(res.User), d, map[string]string{"LdapUser": res.User})
	if err != nil {
		h.logger().ErrorContext(r.Context(), "ldap login: issue role session", "user", res.User, "role", RoleArn(m), "err", err)
		var ae *awsapi.Error
		if errors.As(err, &ae) && ae.Status() < 500 { // e.g. a session longer than the role's MaxSessionDuration
			writeError(w, ae.Status(), Error{Code: ae.Code, Message: fmt.Sprintf("role %s: %s", RoleArn(m), ae.Message)})
			return
		}
		// Anything else (no such role, a database error) is the
		// operator's to read in the log, not the client's.
		writeError(w, http.StatusForbidden, Error{Code: "AccessDenied", Message: fmt.Sprintf("role %s could not be assumed; ask the operator to check the LDAP mapping", RoleArn(m))})
		return
	}
	h.logger().InfoContext(r.Context(), "ldap login: role session issued", "user", res.User, "role", RoleArn(m), "key", creds.AccessKeyID, "expires", creds.Expiration)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(Response{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
		SessionToken: creds.SessionToken, Expiration: creds.Expiration.UTC(), RoleArn: RoleArn(m)})
}

// pick chooses the mapping: the one asked for, or the only one.
func pick(ms []ldapauth.Mapping, role string) (ldapauth.Mapping, *Error) {
	if len(ms) == 0 {
		return ldapauth.Mapping{}, &Error{Code: "AccessDenied", Message: "none of your directory groups is mapped to a role"}
	}
	var arns []string
	for _, m := range ms {
		if role != "" && strings.EqualFold(RoleArn(m), role) {
			return m, nil
		}
		arns = append(arns, RoleArn(m))
	}
	if role != "" {
		return ldapauth.Mapping{}, &Error{Code: "AccessDenied", Message: fmt.Sprintf("your directory groups do not map to %s", role), Roles: arns}
	}
	if len(ms) == 1 {
		return ms[0], nil
	}
	return ldapauth.Mapping{}, &Error{Code: "RoleChoiceRequired", Message: "your groups map to several roles: pick one", Roles: arns}
}

var sessionNameBad = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName makes a RoleSessionName ([\w+=,.@-]{2,64}) from a user name.
func SessionName(user string) string {
	s := sessionNameBad.ReplaceAllString(user, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	for len(s) < 2 {
		s += "-"
	}
	return s
}

// sourceAddr is the TCP peer: a header could be forged to dodge the limit.
func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

func writeError(w http.ResponseWriter, status int, e Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}
