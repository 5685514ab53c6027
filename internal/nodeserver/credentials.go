package nodeserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/sts"
)

// InstanceSessionDuration is how long an instance's role credentials
// last; the node fetches new ones well before (see internal/node).
const InstanceSessionDuration = time.Hour

// RoleSessionIssuer issues role sessions (*sts.Service does).
type RoleSessionIssuer interface {
	IssueRoleSession(ctx context.Context, accountID, roleName, sessionName string, duration time.Duration, tags map[string]string) (sts.Credentials, error)
}

// instanceCredentials issues the role credentials of an instance the
// calling node runs: a session of the role in the instance's profile,
// named after the instance, as EC2's are.
func (s *Server) instanceCredentials(ctx context.Context, req *nodeapi.InstanceCredentialsRequest) (*nodeapi.InstanceCredentials, error) {
	node, err := s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if s.issuer == nil {
		return nil, status.Error(codes.Unimplemented, "this server issues no instance credentials")
	}
	var out nodeapi.InstanceCredentials
	var account string
	err = s.db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		a, err := tx.ProfileAssociationOf(ctx, req.InstanceID)
		if err != nil {
			return err
		}
		inst, err := tx.GetInstance(ctx, a.AccountID, a.InstanceID)
		if err != nil {
			return err
		}
		if inst.NodeID != node.ID {
			return store.ErrNotFound // another node's instance: not the caller's to know
		}
		account = a.AccountID
		out.InstanceProfileARN, out.InstanceProfileID = a.ProfileARN, a.ProfileID
		p, err := tx.GetInstanceProfileByID(ctx, a.ProfileID)
		if err != nil || p.RoleID == "" {
			return err
		}
		role, err := tx.GetRoleByID(ctx, p.RoleID)
		out.RoleName = role.Name
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound) && out.InstanceProfileARN == "":
		return nil, status.Errorf(codes.NotFound, "instance %s has no instance profile on this node", req.InstanceID)
	case errors.Is(err, store.ErrNotFound):
		return &out, nil // the profile or its role is gone: no credentials
	case err != nil:
		return nil, status.Errorf(codes.Unavailable, "instance %s credentials: %v", req.InstanceID, err)
	case out.RoleName == "":
		return &out, nil
	}
	creds, err := s.issuer.IssueRoleSession(ctx, account, out.RoleName, req.InstanceID, InstanceSessionDuration, nil)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "%v", fmt.Errorf("issue credentials for instance %s: %w", req.InstanceID, err))
	}
	out.AccessKeyID, out.SecretAccessKey, out.Token, out.Expiration = creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, creds.Expiration
	return &out, nil
}
