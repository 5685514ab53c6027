package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

type fakeFetcher struct {
	calls int
	fail  bool
	now   *time.Time
	role  string
}

func (f *fakeFetcher) InstanceCredentials(_ context.Context, id string) (nodeapi.InstanceCredentials, error) {
	f.calls++
	if f.fail {
		return nodeapi.InstanceCredentials{}, errors.New("server away")
	}
	c := nodeapi.InstanceCredentials{InstanceProfileARN: "arn:aws:iam::1:instance-profile/web", InstanceProfileID: "AIPA1", RoleName: f.role}
	if f.role != "" {
		c.AccessKeyID, c.SecretAccessKey, c.Token, c.Expiration = "ASIA"+id, "s", "t", f.now.Add(time.Hour)
	}
	return c, nil
}

// TestCredentialCache: credentials are fetched once, served until 15
// minutes before they expire, then fetched again; a failing server
// leaves the old ones in place until they expire and is not asked on
// every request; a profile change fetches at once.
func TestCredentialCache(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	f := &fakeFetcher{now: &now, role: "web-role"}
	c := newCredentialCache(f, func() time.Time { return now }, nil)
	ctx := context.Background()
	const arn = "arn:aws:iam::1:instance-profile/web"
	if got := c.iam(ctx, "i-1", ""); got != nil || f.calls != 0 {
		t.Fatalf("no profile: %+v, %d calls", got, f.calls)
	}
	got := c.iam(ctx, "i-1", arn)
	if got.RoleName != "web-role" || got.Credentials.AccessKeyID != "ASIAi-1" || !got.Credentials.LastUpdated.Equal(now) || f.calls != 1 {
		t.Fatalf("first: %+v, %d calls", got, f.calls)
	}
	now = now.Add(44 * time.Minute)
	c.iam(ctx, "i-1", arn)
	if f.calls != 1 {
		t.Errorf("44 min in: %d calls, want the cached credentials", f.calls)
	}
	now = now.Add(2 * time.Minute) // 14 minutes left
	got = c.iam(ctx, "i-1", arn)
	if f.calls != 2 || !got.Credentials.Expiration.Equal(now.Add(time.Hour)) {
		t.Errorf("46 min in: %d calls, expiration %v; want fresh credentials", f.calls, got.Credentials.Expiration)
	}

	now = now.Add(50 * time.Minute)
	f.fail = true
	got = c.iam(ctx, "i-1", arn)
	c.iam(ctx, "i-1", arn)
	if f.calls != 3 || got.Credentials.AccessKeyID == "" {
		t.Errorf("server failing: %d calls, creds %+v; want one try and the old credentials", f.calls, got.Credentials)
	}
	now = now.Add(11 * time.Minute) // the old ones have expired
	got = c.iam(ctx, "i-1", arn)
	if got.Credentials.AccessKeyID != "" {
		t.Errorf("expired credentials served: %+v", got.Credentials)
	}
	f.fail = false
	if got = c.iam(ctx, "i-1", "arn:aws:iam::1:instance-profile/other"); got.Credentials.AccessKeyID == "" || got.InstanceProfileARN != "arn:aws:iam::1:instance-profile/other" {
		t.Errorf("new profile: %+v", got)
	}
	c.forget(map[string]bool{})
	if len(c.m) != 0 {
		t.Errorf("forget kept %d entries", len(c.m))
	}
}
