package nodeserver

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// DefaultTokenTTL is how long a join token is valid unless told otherwise.
const DefaultTokenTTL = 24 * time.Hour

// Node states.
const (
	StateReady    = "ready"
	StateDraining = "draining"
)

var nodeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// CreateJoinToken stores a new token valid for ttl (DefaultTokenTTL when 0)
// and returns its text: K1.<ca hash>.<id>.<secret>.
func (s *Server) CreateJoinToken(ctx context.Context, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	tok := nodeapi.NewJoinToken(s.CAHash())
	now := s.now()
	row := store.NodeJoinToken{ID: tok.ID, SecretHash: nodeapi.HashSecret(tok.Secret), ExpiresAt: now.Add(ttl), CreatedAt: now}
	err := s.db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteExpiredNodeJoinTokens(ctx, now); err != nil {
			return err
		}
		return tx.InsertNodeJoinToken(ctx, row)
	})
	if err != nil {
		return "", fmt.Errorf("create join token: %w", err)
	}
	return tok.String(), nil
}

var errBadJoin = status.Error(codes.Unauthenticated, "join token unknown, expired or wrong")

// join checks the token and issues a certificate for the CSR. A node that
// joins again under its name keeps its id and gets a new certificate; the
// old one stops working.
func (s *Server) join(ctx context.Context, req *nodeapi.JoinRequest) (*nodeapi.JoinResponse, error) {
	tok, err := nodeapi.ParseJoinToken(req.Token)
	if err != nil {
		return nil, errBadJoin
	}
	if tok.CAHash != s.CAHash() {
		return nil, status.Error(codes.Unauthenticated, "join token is for another server's CA")
	}
	if !nodeName.MatchString(req.Name) {
		return nil, status.Errorf(codes.InvalidArgument, "node name %q: want 1-63 letters, digits, '.', '_' or '-'", req.Name)
	}
	var resp *nodeapi.JoinResponse
	err = s.db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		row, err := tx.GetNodeJoinToken(ctx, tok.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (!nodeapi.SecretMatches(tok.Secret, row.SecretHash) || !s.now().Before(row.ExpiresAt))) {
			return errBadJoin
		}
		if err != nil {
			return err
		}
		resp, err = s.issue(ctx, tx, req)
		return err
	})
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		s.logger.ErrorContext(ctx, "node join failed", "name", req.Name, "err", err)
		return nil, status.Errorf(codes.Internal, "join: %v", err)
	}
	s.dropSession(resp.NodeID) // a re-joined node's old stream uses the old certificate
	s.logger.InfoContext(ctx, "node joined", "node", resp.NodeID, "name", req.Name)
	return resp, nil
}

// issue signs the CSR for the node named req.Name, creating its row when new.
func (s *Server) issue(ctx context.Context, tx *store.Tx, req *nodeapi.JoinRequest) (*nodeapi.JoinResponse, error) {
	node, err := tx.FindNode(ctx, req.Name)
	isNew := errors.Is(err, store.ErrNotFound)
	if err != nil && !isNew {
		return nil, err
	}
	if isNew || node.Name != req.Name {
		isNew = true
		node = store.Node{ID: ids.Resource("node"), Name: req.Name, State: StateReady, CreatedAt: s.now()}
	}
	certPEM, serial, err := s.ca.signNode([]byte(req.CSR), node.ID, s.now())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%v", err)
	}
	if isNew {
		node.CertSerial = serial
		err = tx.InsertNode(ctx, node)
	} else {
		err = tx.SetNodeCert(ctx, node.ID, serial)
	}
	if err != nil {
		return nil, err
	}
	return &nodeapi.JoinResponse{NodeID: node.ID, Certificate: string(certPEM), CA: string(s.ca.pem)}, nil
}
