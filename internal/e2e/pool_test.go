package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// poolRequests is how many requests the pool test sends per backend.
const poolRequests = 10_000

// TestPoolBackToIdle hammers the API with a mix of successes and failures
// from concurrent clients, then checks that every database connection went
// back to the pool: the leak that killed Eucalyptus's controller.
func TestPoolBackToIdle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := start(t, b)
		vpc := createVPC(t, acct.EC2, "10.70.0.0/16")
		g := createGroup(t, acct.EC2, "pool", vpc)
		good := newRawClient(srv, acct.KeyID, acct.Secret)
		bad := newRawClient(srv, acct.KeyID, "not-the-secret-at-all")
		bad.http = good.http

		type kind struct {
			name   string
			client *rawClient
			params func(i int) url.Values
			status int
		}
		kinds := []kind{
			{"DescribeSecurityGroups", good, func(int) url.Values { return ec2Params("DescribeSecurityGroups") }, http.StatusOK},
			{"DescribeSecurityGroups filtered", good, func(int) url.Values {
				return ec2Params("DescribeSecurityGroups", "Filter.1.Name", "vpc-id", "Filter.1.Value.1", vpc)
			}, http.StatusOK},
			{"CreateTags", good, func(i int) url.Values {
				return ec2Params("CreateTags", "ResourceId.1", g, "Tag.1.Key", fmt.Sprintf("k%d", i%10), "Tag.1.Value", fmt.Sprint(i))
			}, http.StatusOK},
			{"unknown VPC", good, func(int) url.Values { return ec2Params("DescribeVpcs", "VpcId.1", "vpc-0123456789abcdef0") }, http.StatusBadRequest},
			{"unknown group", good, func(int) url.Values { return ec2Params("DeleteSecurityGroup", "GroupId", "sg-0123456789abcdef0") }, http.StatusBadRequest},
			{"tag on an unknown subnet", good, func(int) url.Values {
				return ec2Params("CreateTags", "ResourceId.1", "subnet-0123456789abcdef0", "Tag.1.Key", "k", "Tag.1.Value", "v")
			}, http.StatusBadRequest},
			{"bad parameter", good, func(int) url.Values { return ec2Params("DescribeVpcs", "MaxResults", "abc") }, http.StatusBadRequest},
			{"wrong signature", bad, func(int) url.Values { return ec2Params("DescribeSecurityGroups") }, http.StatusUnauthorized},
		}

		var next atomic.Int64
		var failures atomic.Int64
		var mu sync.Mutex
		var firstErrs []string
		fail := func(format string, args ...any) {
			if failures.Add(1) <= 5 {
				mu.Lock()
				firstErrs = append(firstErrs, fmt.Sprintf(format, args...))
				mu.Unlock()
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		began := time.Now()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= poolRequests || ctx.Err() != nil {
						return
					}
					k := kinds[i%len(kinds)]
					req, err := k.client.signed(ctx, "ec2", k.params(i), time.Now())
					if err != nil {
						fail("sign %s: %v", k.name, err)
						continue
					}
					r, err := k.client.send(req)
					switch {
					case err != nil:
						fail("%s: %v", k.name, err)
					case r.Status != k.status:
						fail("%s: HTTP %d %s (%s), want %d", k.name, r.Status, r.Code, r.Message, k.status)
					case r.HeaderID == "" || r.HeaderID != r.BodyID:
						fail("%s: request id header %q body %q", k.name, r.HeaderID, r.BodyID)
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(began)
		t.Logf("%d requests in %v (%.0f/s) on %s", poolRequests, elapsed.Round(time.Millisecond), poolRequests/elapsed.Seconds(), b.Name)
		if n := failures.Load(); n > 0 {
			t.Errorf("%d of %d requests went wrong; the first: %q", n, poolRequests, firstErrs)
		}
		if next.Load() < poolRequests {
			t.Fatalf("only %d requests were sent before the deadline", next.Load())
		}

		deadline := time.Now().Add(2 * time.Second)
		for {
			s := srv.DB.Stats()
			if s.OpenConnections > s.MaxOpenConnections {
				t.Errorf("%d connections open, the pool's bound is %d", s.OpenConnections, s.MaxOpenConnections)
			}
			if s.InUse == 0 {
				t.Logf("pool idle: %d open (max %d), %d idle, %d waits", s.OpenConnections, s.MaxOpenConnections, s.Idle, s.WaitCount)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d connections still in use 2 s after the last request: %+v", s.InUse, s)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
