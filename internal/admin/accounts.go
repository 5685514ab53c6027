package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kumo-cloud/kumo/internal/store"
)

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	var req struct{ Name string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "body must be JSON like {\"Name\":\"team-a\"}")
		return
	}
	acct, key, err := s.Identity.CreateAccount(r.Context(), req.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.InfoContext(r.Context(), "account created", "account", acct.ID, "name", acct.Name)
	writeJSON(w, http.StatusCreated, CreatedAccount{AccountId: acct.ID, Name: acct.Name, AccessKeyId: key.ID, SecretAccessKey: key.Secret})
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	var list []store.Account
	err := s.DB.View(r.Context(), func(ctx context.Context, tx *store.Tx) (err error) {
		list, err = tx.ListAccounts(ctx)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]Account, 0, len(list))
	for _, a := range list {
		out = append(out, Account{AccountId: a.ID, Name: a.Name, CreatedAt: a.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

// resolveAccount accepts an account id or name.
func (s *Server) resolveAccount(ctx context.Context, idOrName string) (store.Account, error) {
	var a store.Account
	err := s.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		a, err = tx.FindAccount(ctx, idOrName)
		return err
	})
	if err != nil {
		return a, fmt.Errorf("account %s: %w", idOrName, err)
	}
	return a, nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	a, err := s.resolveAccount(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	user := r.URL.Query().Get("user")
	if user != "" {
		err = s.DB.View(r.Context(), func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.GetUser(ctx, a.ID, user)
			return err
		})
		if err != nil {
			s.fail(w, r, fmt.Errorf("user %s: %w", user, err))
			return
		}
	}
	key, err := s.Identity.CreateAccessKey(r.Context(), a.ID, user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, AccessKey{AccountId: a.ID, UserName: user, AccessKeyId: key.ID, SecretAccessKey: key.Secret, Status: key.Status, CreateDate: key.CreatedAt})
}

// resetKeys revokes every key of the root (or ?user=) and returns one new key.
func (s *Server) resetKeys(w http.ResponseWriter, r *http.Request) {
	a, err := s.resolveAccount(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	user := r.URL.Query().Get("user")
	key, err := s.Identity.ResetAccessKeys(r.Context(), a.ID, user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, AccessKey{AccountId: a.ID, UserName: user, AccessKeyId: key.ID, SecretAccessKey: key.Secret, Status: key.Status, CreateDate: key.CreatedAt})
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	a, err := s.resolveAccount(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	user := r.URL.Query().Get("user")
	var keys []store.AccessKey
	err = s.DB.View(r.Context(), func(ctx context.Context, tx *store.Tx) (err error) {
		keys, err = tx.ListAccessKeys(ctx, a.ID, user)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]AccessKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, AccessKey{AccountId: a.ID, UserName: k.UserName, AccessKeyId: k.ID, Status: k.Status, CreateDate: k.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	a, err := s.resolveAccount(r.Context(), r.PathValue("account"))
	if err == nil {
		err = s.DB.Update(r.Context(), func(ctx context.Context, tx *store.Tx) error {
			return tx.DeleteAccessKey(ctx, a.ID, r.URL.Query().Get("user"), r.PathValue("key"))
		})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
