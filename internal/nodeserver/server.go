// Package nodeserver is the server side of the node protocol: it issues
// node certificates for join tokens, turns each node's reports into
// instance state in the database, streams each node its desired state, and
// serves nodes the kernels, ramdisks and snapshot data they boot from.
package nodeserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Config holds the server's dependencies.
type Config struct {
	DB *store.DB
	// Objects is the system object store (kernels, ramdisks, snapshot data).
	Objects snapshot.Objects
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Region string
	// DataDir holds ca.crt and ca.key.
	DataDir string
	// Names are extra DNS names or addresses for the server certificate.
	Names []string
	// PublicPool is the operator's public address pool (kumo server
	// --public-ips), told to every node.
	PublicPool []netip.Prefix
	// Issuer issues instances' role credentials (nil: none).
	Issuer RoleSessionIssuer
}

// Server serves the node protocol. Make it with New.
type Server struct {
	db      *store.DB
	objects snapshot.Objects
	logger  *slog.Logger
	now     func() time.Time
	region  string
	ca      *ca
	grpc    *grpc.Server
	pool    []string // Config.PublicPool
	issuer  RoleSessionIssuer

	mu       sync.Mutex
	sessions map[string]*session // by node id
}

// New loads (or creates) the CA and prepares the gRPC server.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Objects == nil {
		return nil, errors.New("node server: DB and Objects are required")
	}
	s := &Server{db: cfg.DB, objects: cfg.Objects, logger: cfg.Logger, now: cfg.Now, region: cfg.Region,
		sessions: map[string]*session{}, issuer: cfg.Issuer}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	for _, p := range cfg.PublicPool {
		s.pool = append(s.pool, p.String())
	}
	if s.now == nil {
		s.now = func() time.Time { return time.Now().UTC() }
	}
	var err error
	if s.ca, err = loadOrCreateCA(cfg.DataDir, s.now()); err != nil {
		return nil, err
	}
	cert, err := s.ca.serverCertificate(cfg.Names, s.now())
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.cert)
	tc := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	s.grpc = grpc.NewServer(grpc.Creds(credentials.NewTLS(tc)), nodeapi.ServerCodec(),
		grpc.MaxRecvMsgSize(nodeapi.MaxMessage), grpc.MaxSendMsgSize(nodeapi.MaxMessage),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}))
	nodeapi.RegisterServer(s.grpc, rpc{s})
	return s, nil
}

// CAHash is the pin join tokens carry.
func (s *Server) CAHash() string { return s.ca.hash() }

// Serve answers nodes on ln until Stop.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.grpc.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serve nodes on %s: %w", ln.Addr(), err)
	}
	return nil
}

// Stop ends every stream and closes the listeners; it waits for running
// calls until ctx ends.
func (s *Server) Stop(ctx context.Context) {
	s.mu.Lock()
	for _, ss := range s.sessions {
		ss.cancel()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
	}
}

// ConnectedNodes counts nodes with an open stream.
func (s *Server) ConnectedNodes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// rpc adapts Server to nodeapi.NodeServer without putting the RPC methods
// on Server's own API.
type rpc struct{ s *Server }

func (r rpc) Join(ctx context.Context, req *nodeapi.JoinRequest) (*nodeapi.JoinResponse, error) {
	return r.s.join(ctx, req)
}
func (r rpc) Connect(st nodeapi.ConnectStream) error { return r.s.connect(st) }
func (r rpc) GetObject(req *nodeapi.ObjectRequest, st nodeapi.ObjectStream) error {
	return r.s.getObject(req, st)
}
func (r rpc) PutObject(st nodeapi.PutObjectStream) error { return r.s.putObject(st) }
func (r rpc) ListObjects(ctx context.Context, req *nodeapi.ListObjectsRequest) (*nodeapi.ListObjectsResponse, error) {
	return r.s.listObjects(ctx, req)
}
func (r rpc) InstanceCredentials(ctx context.Context, req *nodeapi.InstanceCredentialsRequest) (*nodeapi.InstanceCredentials, error) {
	return r.s.instanceCredentials(ctx, req)
}

// authenticate finds the node behind a call's verified client certificate;
// the certificate's serial must be the node's current one.
func (s *Server) authenticate(ctx context.Context) (store.Node, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return store.Node{}, status.Error(codes.Unauthenticated, "no peer")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return store.Node{}, status.Error(codes.Unauthenticated, "a node client certificate is required (join first)")
	}
	leaf := info.State.VerifiedChains[0][0]
	var node store.Node
	err := s.db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		node, err = tx.FindNode(ctx, leaf.Subject.CommonName)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Node{}, status.Errorf(codes.Unauthenticated, "node %s is not registered (removed?): join again", leaf.Subject.CommonName)
	}
	if err != nil {
		return store.Node{}, status.Errorf(codes.Unavailable, "look up node: %v", err)
	}
	if node.ID != leaf.Subject.CommonName || node.CertSerial == "" || node.CertSerial != serialHex(leaf.SerialNumber) {
		return store.Node{}, status.Errorf(codes.PermissionDenied, "the certificate of node %s was replaced or revoked", node.Name)
	}
	return node, nil
}
