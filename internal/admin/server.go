package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/nodeserver"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Server is the admin HTTP API.
type Server struct {
	Token    string
	Identity *identity.Service
	DB       *store.DB
	Metrics  http.Handler
	Logger   *slog.Logger
	// Images registers public images; nil refuses their registration.
	Images *Registry
	// Nodes administers hypervisor nodes; nil refuses node requests.
	Nodes *nodeserver.Server
	// Terminate terminates instances of an account (the EC2 service's
	// TerminateInstances), for account deletion with force; nil refuses
	// to force-delete an account with live instances.
	Terminate func(ctx context.Context, accountID string, instanceIDs []string) error
	// Buckets removes buckets' objects, for account deletion with force;
	// nil refuses to force-delete an account with buckets.
	Buckets BucketPurger
	// ForceWait bounds how long a forced account deletion waits for nodes
	// to stop its instances (DefaultForceWait when zero).
	ForceWait time.Duration
}

// Account is an account as the admin API shows it.
type Account struct {
	AccountId string    `json:"AccountId"`
	Name      string    `json:"Name"`
	CreatedAt time.Time `json:"CreatedAt"`
}

// AccessKey is a key as the admin API shows it; the secret only on creation.
type AccessKey struct {
	AccountId       string    `json:"AccountId"`
	UserName        string    `json:"UserName,omitempty"`
	AccessKeyId     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey,omitempty"`
	Status          string    `json:"Status"`
	CreateDate      time.Time `json:"CreateDate"`
}

// CreatedAccount is the answer to account creation.
type CreatedAccount struct {
	AccountId       string `json:"AccountId"`
	Name            string `json:"Name"`
	AccessKeyId     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// apiError is the admin API's error body.
type apiError struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

// Handler routes the admin API; /metrics and /healthz need no token.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.Handle("POST /admin/v1/accounts", s.auth(s.createAccount))
	mux.Handle("GET /admin/v1/accounts", s.auth(s.listAccounts))
	mux.Handle("DELETE /admin/v1/accounts/{account}", s.auth(s.deleteAccount))
	mux.Handle("POST /admin/v1/accounts/{account}/keys", s.auth(s.createKey))
	mux.Handle("GET /admin/v1/accounts/{account}/keys", s.auth(s.listKeys))
	mux.Handle("POST /admin/v1/accounts/{account}/keys/reset", s.auth(s.resetKeys))
	mux.Handle("DELETE /admin/v1/accounts/{account}/keys/{key}", s.auth(s.deleteKey))
	mux.Handle("POST /admin/v1/images/kernel", s.auth(s.registerBootFile("kernel")))
	mux.Handle("POST /admin/v1/images/ramdisk", s.auth(s.registerBootFile("ramdisk")))
	mux.Handle("POST /admin/v1/images/machine", s.auth(s.registerMachine))
	s.nodeRoutes(mux)
	return mux
}

func (s *Server) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.Token)) != 1 {
			writeError(w, http.StatusUnauthorized, "AuthFailure", "a valid admin token is required (Authorization: Bearer …)")
			return
		}
		next(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.DB.Ping(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "DatabaseUnavailable", "the database does not answer")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{Code: code, Message: msg})
}

// fail maps domain errors to admin API errors in one place.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, identity.ErrInvalidName):
		writeError(w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
	case errors.Is(err, identity.ErrKeyLimit):
		writeError(w, http.StatusConflict, "LimitExceeded", fmt.Sprintf("an owner may have at most %d access keys", identity.MaxKeysPerOwner))
	case errors.As(err, new(*store.HeldError)):
		writeError(w, http.StatusConflict, "InUse", err.Error())
	case errors.Is(err, errStillStopping):
		writeError(w, http.StatusConflict, "InstancesStillStopping", err.Error())
	case store.IsUnavailable(err):
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the database does not answer; try again")
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "AlreadyExists", err.Error())
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "NotFound", err.Error())
	default:
		s.Logger.ErrorContext(r.Context(), "admin request failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "InternalError", "internal error; see the server log")
	}
}
