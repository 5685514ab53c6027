package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
)

// BucketPurger removes a bucket's objects and uploads from object storage
// (the S3 server's PurgeBucket).
type BucketPurger interface {
	PurgeBucket(ctx context.Context, name string) error
}

// DefaultForceWait is how long a forced account deletion waits for nodes
// to stop the account's instances.
const DefaultForceWait = 3 * time.Minute

// errStillStopping: a forced deletion ran out of time waiting for nodes.
var errStillStopping = errors.New("instances still stopping")

// deleteAccount deletes an account that holds nothing, or with
// ?force=true everything it owns (see forceDelete).
func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.resolveAccount(r.Context(), r.PathValue("account"))
	if err == nil {
		if r.URL.Query().Get("force") == "true" {
			err = s.forceDelete(r.Context(), a)
		} else {
			err = s.DB.Update(r.Context(), func(ctx context.Context, tx *store.Tx) error { return tx.DeleteAccount(ctx, a.ID) })
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Logger.InfoContext(r.Context(), "account deleted", "account", a.ID, "name", a.Name)
	w.WriteHeader(http.StatusNoContent)
}

// forceDelete revokes every key of the account at once (nothing signed by
// it is accepted from then on), terminates its instances and waits for
// their nodes to stop them, removes its buckets' objects, and deletes
// every row it owns. A deletion that runs out of time waiting for nodes
// can be repeated: the keys stay revoked.
func (s *Server) forceDelete(ctx context.Context, a store.Account) error {
	var live []string
	var h store.Holdings
	err := s.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.RevokeAccountKeys(ctx, a.ID); err != nil {
			return err
		}
		var err error
		if live, err = tx.ListAccountLiveInstances(ctx, a.ID); err != nil {
			return err
		}
		h, err = tx.AccountHoldings(ctx, a.ID)
		return err
	})
	if err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "deleting account with everything it owns: keys revoked", "account", a.ID, "name", a.Name, "holds", h.String())
	if h.Instances > 0 {
		if err := s.stopInstances(ctx, a, live); err != nil {
			return err
		}
	}
	buckets, err := s.purgeBuckets(ctx, a)
	if err != nil {
		return err
	}
	return s.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if n, err := tx.ListBuckets(ctx, a.ID); err != nil || len(n) != buckets {
			return errors.Join(err, fmt.Errorf("account %s made buckets while being deleted", a.Name))
		}
		return tx.PurgeAccount(ctx, a.ID)
	})
}

// stopInstances terminates the account's live instances and waits until
// no node still runs one of them.
func (s *Server) stopInstances(ctx context.Context, a store.Account, live []string) error {
	if s.Terminate == nil {
		return &store.HeldError{Account: a.Name, Holdings: store.Holdings{Instances: len(live)}}
	}
	if len(live) > 0 {
		if err := s.Terminate(ctx, a.ID, live); err != nil {
			return fmt.Errorf("terminate the instances of account %s: %w", a.Name, err)
		}
	}
	wait := s.ForceWait
	if wait <= 0 {
		wait = DefaultForceWait
	}
	deadline := time.Now().Add(wait)
	for {
		var h store.Holdings
		err := s.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
			h, err = tx.AccountHoldings(ctx, a.ID)
			return err
		})
		if err != nil || h.Instances == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("account %s: %d instances are still being stopped by their nodes after %v; its keys are revoked; run the deletion again: %w",
				a.Name, h.Instances, wait, errStillStopping)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// purgeBuckets removes the objects of every bucket of the account and
// returns how many buckets there were.
func (s *Server) purgeBuckets(ctx context.Context, a store.Account) (int, error) {
	var buckets []store.Bucket
	err := s.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		buckets, err = tx.ListBuckets(ctx, a.ID)
		return err
	})
	if err != nil || len(buckets) == 0 {
		return 0, err
	}
	if s.Buckets == nil {
		return 0, &store.HeldError{Account: a.Name, Holdings: store.Holdings{Buckets: len(buckets)}}
	}
	for _, b := range buckets {
		if err := s.Buckets.PurgeBucket(ctx, b.Name); err != nil {
			return 0, err
		}
	}
	return len(buckets), nil
}
