package nodeapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// DialConfig says how a node reaches its server.
type DialConfig struct {
	// Server is host:port or https://host:port (port 8776 when omitted).
	Server string
	// DataDir keeps node.key, node.crt and ca.crt.
	DataDir string
	// JoinToken is needed only while DataDir holds no certificate.
	JoinToken string
	// Name is the node's name (default: the host name).
	Name   string
	Logger *slog.Logger
}

// Client is a node's connection to its server.
type Client struct {
	conn   *grpc.ClientConn
	id     identity
	logger *slog.Logger
}

// ErrNoIdentity: no certificate is stored and no join token was given.
var ErrNoIdentity = errors.New("this node has not joined yet: give it a join token (kumo admin node token)")

// Dial loads the node's certificate from DataDir, joining with the token
// first when none is stored, and opens the mutual-TLS connection.
func Dial(ctx context.Context, cfg DialConfig) (*Client, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	addr, err := ServerAddress(cfg.Server)
	if err != nil {
		return nil, err
	}
	id, ok, err := loadIdentity(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if !ok {
		if id, err = join(ctx, addr, cfg); err != nil {
			return nil, err
		}
	}
	conn, err := newConn(addr, clientTLS(id.cert, id.ca))
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, id: id, logger: cfg.Logger}, nil
}

// ServerAddress turns host, host:port or https://host:port into host:port.
func ServerAddress(s string) (string, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "grpcs://"), "/")
	if s == "" || strings.Contains(s, "/") {
		return "", fmt.Errorf("server address %q: want host:port or https://host:port", s)
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		s = net.JoinHostPort(strings.Trim(s, "[]"), DefaultPort)
	}
	return s, nil
}

func newConn(addr string, tc *tls.Config) (*grpc.ClientConn, error) {
	creds := credentials.NewTLS(tc)
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(Codec{}), grpc.MaxCallRecvMsgSize(MaxMessage), grpc.MaxCallSendMsgSize(MaxMessage)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 20 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return conn, nil
}

// join exchanges the token for a certificate and stores it.
func join(ctx context.Context, addr string, cfg DialConfig) (identity, error) {
	if cfg.JoinToken == "" {
		return identity{}, ErrNoIdentity
	}
	tok, err := ParseJoinToken(cfg.JoinToken)
	if err != nil {
		return identity{}, err
	}
	name := cfg.Name
	if name == "" {
		if name, err = os.Hostname(); err != nil {
			return identity{}, fmt.Errorf("node name: %w", err)
		}
	}
	keyPEM, csrPEM, err := newKeyAndCSR(name)
	if err != nil {
		return identity{}, err
	}
	conn, err := newConn(addr, bootstrapTLS(tok.CAHash))
	if err != nil {
		return identity{}, err
	}
	defer conn.Close()
	var resp JoinResponse
	req := &JoinRequest{Token: tok.String(), CSR: string(csrPEM), Name: name}
	if err := conn.Invoke(ctx, MethodJoin, req, &resp); err != nil {
		return identity{}, fmt.Errorf("join %s as %s: %w", addr, name, err)
	}
	id, err := parseIdentity(keyPEM, []byte(resp.Certificate), []byte(resp.CA))
	if err != nil {
		return identity{}, fmt.Errorf("join %s: %w", addr, err)
	}
	if CAHash(id.ca) != tok.CAHash {
		return identity{}, fmt.Errorf("join %s: the CA returned does not match the token", addr)
	}
	if err := saveIdentity(cfg.DataDir, keyPEM, []byte(resp.Certificate), []byte(resp.CA)); err != nil {
		return identity{}, err
	}
	cfg.Logger.InfoContext(ctx, "node joined", "server", addr, "name", name, "node", id.nodeID)
	return id, nil
}

// NodeID is the id the server gave this node.
func (c *Client) NodeID() string { return c.id.nodeID }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

var connectDesc = grpc.StreamDesc{StreamName: "Connect", ServerStreams: true, ClientStreams: true}

// Connect opens the report/desired stream; it ends with ctx.
func (c *Client) Connect(ctx context.Context) (Session, error) {
	s, err := c.conn.NewStream(ctx, &connectDesc, MethodConnect)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return clientSession{s}, nil
}

type clientSession struct{ grpc.ClientStream }

func (s clientSession) Send(r *Report) error { return s.SendMsg(r) }

func (s clientSession) Recv() (*Desired, error) {
	d := new(Desired)
	if err := s.RecvMsg(d); err != nil {
		return nil, err
	}
	return d, nil
}

// Objects reads the server's kernels, ramdisks and snapshot data.
func (c *Client) Objects() snapshot.Objects { return remoteObjects{conn: c.conn} }
