// Package ec2 implements Kumo's EC2 API actions over the store. Handlers
// implement the generated ec2api.Service: they read the caller from the
// context, run one transaction, and convert database rows to API shapes.
package ec2

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Config is the region this server presents.
type Config struct {
	Region   string
	Zones    []string // e.g. kumo-1a, kumo-1b, kumo-1c
	Endpoint string   // host[:port] reported by DescribeRegions
	// InstanceTypes is the catalogue DescribeInstanceTypes answers from.
	InstanceTypes []InstanceType
	// VCPUOvercommit is how many guest vCPUs one host CPU carries when
	// placing instances (0 or 1: none). Memory is never overcommitted.
	VCPUOvercommit float64
	// PublicIPs is the pool AllocateAddress draws elastic IPs from (empty: none).
	PublicIPs AddressPool
	// VolumeStorageGiB is each account's EBS storage limit per volume
	// type (0: DefaultVolumeStorageGiB), as EC2's storage quotas.
	VolumeStorageGiB int64
	// VolumeBackend is where new volumes' data lives: nodeapi's
	// VolumeBackendLocal ("" too) or VolumeBackendRBD.
	VolumeBackend string
}

// Service answers EC2 actions.
type Service struct {
	DB  *store.DB
	Cfg Config
	// Snapshots copies snapshot data (CopyImage); nil disables copies of EBS images.
	Snapshots SnapshotData
	// Notify is called after a committed change that the named nodes must
	// act on (an instance placed, stopped, started, rebooted, terminated);
	// with no ids (a security group rule changed) every connected node
	// recomputes its desired state. nil means no one listens.
	Notify func(nodeIDs ...string)

	// defaultsReady remembers accounts whose default VPC exists, to skip
	// the database check on every request. Losing it costs one query.
	defaultsReady sync.Map
}

var _ ec2api.Service = (*Service)(nil)

// New makes a Service.
func New(db *store.DB, cfg Config) *Service {
	if len(cfg.InstanceTypes) == 0 {
		cfg.InstanceTypes = DefaultInstanceTypes()
	}
	return &Service{DB: db, Cfg: cfg}
}

// caller returns the signed-in principal; the API server always sets one.
func caller(ctx context.Context) (identity.Principal, error) {
	p, ok := identity.FromContext(ctx)
	if !ok || p.AccountID == "" {
		return p, fmt.Errorf("ec2: no principal in context")
	}
	return p, nil
}

// update runs fn for the caller's account in a read-write transaction,
// after making sure the account's default VPC exists.
func (s *Service) update(ctx context.Context, fn func(ctx context.Context, tx *store.Tx, account string) error) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := s.EnsureDefaults(ctx, p.AccountID); err != nil {
		return err
	}
	return s.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, p.AccountID); err != nil {
			return err
		}
		return fn(ctx, tx, p.AccountID)
	})
}

// view runs fn for the caller's account in a read-only transaction.
func (s *Service) view(ctx context.Context, fn func(ctx context.Context, tx *store.Tx, account string) error) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	if err := s.EnsureDefaults(ctx, p.AccountID); err != nil {
		return err
	}
	return s.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error { return fn(ctx, tx, p.AccountID) })
}

// str and friends build the pointer fields of API shapes.
func str(s string) *string { return &s }

func boolp(b bool) *bool { return &b }

func i32(n int32) *int32 { return &n }

func i64(n int64) *int64 { return &n }

func timep(t time.Time) *time.Time { return &t }

// deref returns *p or "".
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// wrapValidation turns a validation failure into InvalidParameterValue.
func invalid(format string, args ...any) error {
	return awsapi.ErrInvalidParameterValue(format, args...)
}
