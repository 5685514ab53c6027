package nodeserver_test

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestJoinStoresCertificateAndReusesIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, dir := h.join(t, "host-1")
		nodes := h.nodes(t)
		if len(nodes) != 1 || nodes[0].Name != "host-1" || nodes[0].ID != c.NodeID() || !strings.HasPrefix(c.NodeID(), "node-") ||
			nodes[0].CertSerial == "" || nodes[0].State != "ready" {
			t.Fatalf("after join: nodes %+v, client id %s", nodes, c.NodeID())
		}
		fi, err := os.Stat(filepath.Join(dir, nodeapi.NodeKeyFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("node.key: %v %v", fi, err)
		}
		for _, f := range []string{nodeapi.NodeCertFile, nodeapi.CACertFile} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Fatalf("%s not stored: %v", f, err)
			}
		}
		if fi, err := os.Stat(filepath.Join(h.dataDir, "ca.key")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("server ca.key: %v %v", fi, err)
		}
		c.Close()

		// A restart: no token, the stored certificate is enough.
		again, err := nodeapi.Dial(t.Context(), nodeapi.DialConfig{Server: h.addr, DataDir: dir})
		if err != nil {
			t.Fatalf("dial without token after join: %v", err)
		}
		defer again.Close()
		if again.NodeID() != nodes[0].ID {
			t.Fatalf("restarted node id %s, want %s", again.NodeID(), nodes[0].ID)
		}
		s, err := again.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if d := recvDesired(t, s, 5*time.Second); d.NodeID != nodes[0].ID {
			t.Fatalf("desired for %s, want %s", d.NodeID, nodes[0].ID)
		}
		if len(h.nodes(t)) != 1 {
			t.Fatal("a restart made a second node")
		}
	})
}

func TestJoinRefusesBadTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		good, err := nodeapi.ParseJoinToken(h.token(t, time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		expired := h.token(t, time.Minute)
		h.clock.Advance(2 * time.Minute)
		wrongSecret := good
		wrongSecret.Secret = strings.Repeat("0", len(good.Secret))
		unknown := good
		unknown.ID = "abcdef123456"
		for name, tok := range map[string]string{"expired": expired, "wrong secret": wrongSecret.String(), "unknown id": unknown.String()} {
			_, err := nodeapi.Dial(t.Context(), nodeapi.DialConfig{Server: h.addr, DataDir: t.TempDir(), JoinToken: tok, Name: "host-x"})
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("%s token: got %v, want Unauthenticated", name, err)
			}
		}
		// A token pinning another CA: the node refuses the server before sending anything.
		wrongCA := good
		wrongCA.CAHash = strings.Repeat("ab", 32)
		dir := t.TempDir()
		_, err = nodeapi.Dial(t.Context(), nodeapi.DialConfig{Server: h.addr, DataDir: dir, JoinToken: wrongCA.String(), Name: "host-x"})
		if err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Errorf("wrong CA hash: got %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, nodeapi.NodeKeyFile)); err == nil {
			t.Error("a refused join stored a key")
		}
		if _, err := nodeapi.Dial(t.Context(), nodeapi.DialConfig{Server: h.addr, DataDir: t.TempDir()}); err == nil {
			t.Error("dial with neither certificate nor token succeeded")
		}
		if n := h.nodes(t); len(n) != 0 {
			t.Fatalf("refused joins created nodes: %+v", n)
		}
	})
}

func TestRejoinKeepsIDAndRevokesOldCertificate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		first, _ := h.join(t, "host-1")
		before := h.nodes(t)[0]
		second, _ := h.join(t, "host-1")
		after := h.nodes(t)
		if len(after) != 1 || after[0].ID != before.ID || second.NodeID() != before.ID || after[0].CertSerial == before.CertSerial {
			t.Fatalf("rejoin: before %+v after %+v", before, after)
		}
		s, err := first.Connect(t.Context())
		if err == nil {
			_, err = s.Recv()
		}
		if code := status.Code(err); code != codes.PermissionDenied {
			t.Fatalf("old certificate after rejoin: got %v, want PermissionDenied", err)
		}
		s, err = second.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		recvDesired(t, s, 5*time.Second)
	})
}

func TestConnectNeedsClientCertificate(t *testing.T) {
	h := startServer(t, storetest.Backends()[0])
	conn, err := grpc.NewClient("passthrough:///"+h.addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})), //nolint:gosec // test
		grpc.WithDefaultCallOptions(grpc.ForceCodec(nodeapi.Codec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st, err := conn.NewStream(t.Context(), &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, nodeapi.MethodConnect)
	if err == nil {
		err = st.RecvMsg(new(nodeapi.Desired))
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("connect without a client certificate: got %v, want Unauthenticated", err)
	}
	var out nodeapi.ListObjectsResponse
	err = conn.Invoke(t.Context(), nodeapi.MethodListObjects, &nodeapi.ListObjectsRequest{Prefix: "chunks/"}, &out)
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("list objects without a client certificate: got %v, want Unauthenticated", err)
	}
}

func TestRemovedNodeIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		s, err := c.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		recvDesired(t, s, 5*time.Second)
		f := seedInstance(t, h.db, c.NodeID())
		if err := h.srv.Remove(ctx, "host-1", false); err == nil || !strings.Contains(err.Error(), "still hosts") {
			t.Fatalf("remove with a pending instance: got %v", err)
		}
		setInstance(t, h.db, f.account, f.instance, func(i *store.Instance) { i.State = "terminated" })
		if err := h.srv.Remove(ctx, "host-1", false); err != nil {
			t.Fatalf("remove: %v", err)
		}
		if _, err := s.Recv(); err == nil {
			t.Fatal("the removed node's stream stays open")
		}
		s, err = c.Connect(ctx)
		if err == nil {
			_, err = s.Recv()
		}
		if code := status.Code(err); code != codes.Unauthenticated && code != codes.PermissionDenied {
			t.Fatalf("connect after remove: got %v", err)
		}
		if len(h.nodes(t)) != 0 {
			t.Fatal("node row survives remove")
		}
	})
}
