package nodeserver_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/nodeserver"
	"github.com/kumo-cloud/kumo/internal/secrets"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
	"github.com/kumo-cloud/kumo/internal/sts"
)

// startIssuing is startServer with an STS issuer for instance credentials.
func startIssuing(t *testing.T, b storetest.Backend) (*harness, *sts.Service) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{db: storetest.Open(t, b), objects: snapshot.NewMemObjects(),
		clock: &clock{t: time.Now().UTC().Truncate(time.Millisecond)}, dataDir: t.TempDir()}
	issuer := &sts.Service{DB: h.db, Box: box}
	srv, err := nodeserver.New(nodeserver.Config{DB: h.db, Objects: h.objects, Now: h.clock.Now, Region: "kumo-1", DataDir: h.dataDir, Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.srv, h.addr = srv, ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Stop(ctx)
	})
	return h, issuer
}

// TestInstanceCredentials: a node gets a session of the role in its
// instance's profile, named after the instance, over the real gRPC
// service; another node may not; the desired spec names the profile.
func TestInstanceCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h, issuer := startIssuing(t, b)
		ctx := t.Context()
		c1, _ := h.join(t, "n1")
		c2, _ := h.join(t, "n2")
		f := seedInstance(t, h.db, c1.NodeID())
		profileARN := "arn:aws:iam::" + f.account + ":instance-profile/web"

		_, err := c1.InstanceCredentials(ctx, f.instance)
		if status.Code(err) != codes.NotFound {
			t.Errorf("no profile: %v, want NotFound", err)
		}
		now := time.Now().UTC()
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			return errors.Join(
				tx.InsertRole(ctx, store.Role{AccountID: f.account, RoleID: "AROAEXAMPLEEXAMPLE01", Name: "web-role", Path: "/",
					TrustPolicy:        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
					MaxSessionDuration: 3600, CreatedAt: now}),
				tx.InsertInstanceProfile(ctx, store.InstanceProfile{AccountID: f.account, ProfileID: "AIPAEXAMPLEEXAMPLE01", Name: "web", Path: "/", RoleID: "AROAEXAMPLEEXAMPLE01", CreatedAt: now}),
				tx.InsertProfileAssociation(ctx, store.ProfileAssociation{AssociationID: "iip-assoc-0000000000000001", AccountID: f.account,
					InstanceID: f.instance, ProfileID: "AIPAEXAMPLEEXAMPLE01", ProfileARN: profileARN, CreatedAt: now}),
			)
		})
		creds, err := c1.InstanceCredentials(ctx, f.instance)
		if err != nil {
			t.Fatal(err)
		}
		if creds.RoleName != "web-role" || creds.InstanceProfileARN != profileARN || !strings.HasPrefix(creds.AccessKeyID, "ASIA") ||
			time.Until(creds.Expiration) > time.Hour || time.Until(creds.Expiration) < 59*time.Minute {
			t.Errorf("credentials = %+v", creds)
		}
		_, p, err := issuer.ResolveSession(ctx, creds.AccessKeyID, creds.Token)
		if err != nil || p.ARN() != "arn:aws:sts::"+f.account+":assumed-role/web-role/"+f.instance || p.UserID != "AROAEXAMPLEEXAMPLE01:"+f.instance {
			t.Errorf("session = %+v (%s), %v", p, p.ARN(), err)
		}
		if _, err := c2.InstanceCredentials(ctx, f.instance); status.Code(err) != codes.NotFound {
			t.Errorf("another node: %v, want NotFound", err)
		}
		d, err := h.srv.Desired(ctx, c1.NodeID())
		if err != nil || len(d.Instances) != 1 || d.Instances[0].IAMInstanceProfileARN != profileARN {
			t.Errorf("desired = %+v, %v", d, err)
		}
	})
}
