package node

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/kumo-cloud/kumo/internal/imds"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// Instance role credentials: fetched from the server when a guest asks
// the metadata service and the node has none for the instance's current
// profile, or when those it has end within credentialRefresh. AWS makes
// new credentials available at least five minutes before the old ones
// expire; with one-hour sessions and a fifteen-minute margin a guest
// that follows botocore's refresh (it refreshes in the last 15 minutes,
// and must within the last 10) always gets fresh ones.
const (
	credentialRefresh = 15 * time.Minute
	// credentialRetry bounds how often a profile without a role (or a
	// failing server) is asked again.
	credentialRetry = 30 * time.Second
	// failedRetry is sooner: a guest that found no credentials retries
	// within seconds (botocore waits 1 s per attempt).
	failedRetry     = 5 * time.Second
	credentialFetch = 5 * time.Second
)

type credentialEntry struct {
	profileARN string
	creds      nodeapi.InstanceCredentials
	fetched    time.Time
	// retryAfter: until then the entry stands as it is (a profile with
	// no role, or a failed fetch).
	retryAfter time.Time
}

// credentialCache holds each instance's latest role credentials in
// memory: after an agent restart it simply asks the server again.
type credentialCache struct {
	fetch nodeapi.CredentialsFetcher
	now   func() time.Time
	log   *slog.Logger

	mu sync.Mutex
	m  map[string]credentialEntry
}

func newCredentialCache(fetch nodeapi.CredentialsFetcher, now func() time.Time, log *slog.Logger) *credentialCache {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &credentialCache{fetch: fetch, now: now, log: log, m: map[string]credentialEntry{}}
}

// fresh reports whether e can be served at now without asking again.
func (e credentialEntry) fresh(profileARN string, now time.Time) bool {
	switch {
	case e.profileARN != profileARN:
		return false
	case now.Before(e.retryAfter):
		return true
	}
	return e.creds.AccessKeyID != "" && e.creds.Expiration.Sub(now) > credentialRefresh
}

// iam returns what the metadata service serves under iam/ for an
// instance with profileARN ("" : none, nil).
func (c *credentialCache) iam(ctx context.Context, instanceID, profileARN string) *imds.IAM {
	if profileARN == "" {
		return nil
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[instanceID]
	c.mu.Unlock()
	if !ok || !e.fresh(profileARN, now) {
		e = c.refresh(ctx, instanceID, profileARN, e, now)
	}
	out := &imds.IAM{InstanceProfileARN: profileARN, InstanceProfileID: e.creds.InstanceProfileID, RoleName: e.creds.RoleName}
	if e.profileARN == profileARN && e.creds.AccessKeyID != "" && e.creds.Expiration.After(now) {
		out.Credentials = imds.IAMCredentials{AccessKeyID: e.creds.AccessKeyID, SecretAccessKey: e.creds.SecretAccessKey,
			Token: e.creds.Token, Expiration: e.creds.Expiration, LastUpdated: e.fetched}
	}
	return out
}

// refresh asks the server; on failure the old entry stands (its
// credentials are served until they expire) and is asked again after
// failedRetry.
func (c *credentialCache) refresh(ctx context.Context, instanceID, profileARN string, old credentialEntry, now time.Time) credentialEntry {
	if c.fetch == nil {
		c.log.WarnContext(ctx, "instance credentials: no way to ask the server", "instance", instanceID)
		return old
	}
	ctx, cancel := context.WithTimeout(ctx, credentialFetch)
	defer cancel()
	creds, err := c.fetch.InstanceCredentials(ctx, instanceID)
	e := credentialEntry{profileARN: profileARN, creds: creds, fetched: now}
	if creds.AccessKeyID == "" {
		e.retryAfter = now.Add(credentialRetry)
	}
	if err != nil {
		c.log.WarnContext(ctx, "instance credentials", "instance", instanceID, "err", err)
		e = old
		if e.profileARN != profileARN {
			e = credentialEntry{profileARN: profileARN}
		}
		e.retryAfter = now.Add(failedRetry)
	}
	c.mu.Lock()
	c.m[instanceID] = e
	c.mu.Unlock()
	return e
}

// forget drops the credentials of instances no longer on this node.
func (c *credentialCache) forget(keep map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.m {
		if !keep[id] {
			delete(c.m, id)
		}
	}
}
