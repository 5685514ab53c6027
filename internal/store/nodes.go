package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Node is a hypervisor host running `kumo node`.
type Node struct {
	ID         string
	Name       string
	Zone       string
	State      string // ready | draining
	VCPUs      int
	MemoryMiB  int64
	DiskGiB    int64
	Address    string
	CertSerial string
	Version    string
	LastSeen   time.Time // zero: never reported
	CreatedAt  time.Time

	// Accel is the accelerator the node runs guests with (kvm | tcg), as
	// reported; "" before its first report. AccelReason is what its
	// start-up KVM probe found.
	Accel, AccelReason string
}

const nodeColumns = `id, name, zone, state, vcpus, memory_mib, disk_gib, address, cert_serial, version, last_seen, created_at, accel, accel_reason`

// InsertNode stores a node; ErrConflict when the name is taken.
func (tx *Tx) InsertNode(ctx context.Context, n Node) error {
	_, err := tx.exec(ctx, `INSERT INTO nodes (`+nodeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		n.ID, n.Name, n.Zone, n.State, n.VCPUs, n.MemoryMiB, n.DiskGiB, n.Address, n.CertSerial, n.Version,
		unixMilliOrZero(n.LastSeen), n.CreatedAt.UnixMilli(), n.Accel, n.AccelReason)
	if err != nil {
		return fmt.Errorf("insert node %s: %w", n.Name, err)
	}
	return nil
}

// ListNodes returns every node by id.
func (tx *Tx) ListNodes(ctx context.Context) ([]Node, error) {
	return tx.listNodes(ctx, `ORDER BY id`)
}

func (tx *Tx) listNodes(ctx context.Context, where string, args ...any) ([]Node, error) {
	var out []Node
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var n Node
		var seen, created int64
		err := r.Scan(&n.ID, &n.Name, &n.Zone, &n.State, &n.VCPUs, &n.MemoryMiB, &n.DiskGiB, &n.Address, &n.CertSerial,
			&n.Version, &seen, &created, &n.Accel, &n.AccelReason)
		if seen != 0 {
			n.LastSeen = Millis(seen)
		}
		n.CreatedAt = Millis(created)
		out = append(out, n)
		return err
	}, `SELECT `+nodeColumns+` FROM nodes `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return out, nil
}

// FindNode returns the node whose id or name is ref; ErrNotFound if none.
func (tx *Tx) FindNode(ctx context.Context, ref string) (Node, error) {
	out, err := tx.listNodes(ctx, `WHERE id = $1 OR name = $1 ORDER BY id`, ref)
	if err != nil {
		return Node{}, err
	}
	if len(out) == 0 {
		return Node{}, fmt.Errorf("node %s: %w", ref, ErrNotFound)
	}
	return out[0], nil
}

// SetNodeCert records the serial of a node's newly issued certificate
// (an empty serial revokes every certificate of the node).
func (tx *Tx) SetNodeCert(ctx context.Context, id, serial string) error {
	if err := tx.execOne(ctx, `UPDATE nodes SET cert_serial = $2 WHERE id = $1`, id, serial); err != nil {
		return fmt.Errorf("set node %s certificate: %w", id, err)
	}
	return nil
}

// SetNodeState sets ready or draining.
func (tx *Tx) SetNodeState(ctx context.Context, id, state string) error {
	if err := tx.execOne(ctx, `UPDATE nodes SET state = $2 WHERE id = $1`, id, state); err != nil {
		return fmt.Errorf("set node %s state: %w", id, err)
	}
	return nil
}

// UpdateNodeReport writes what a node reported about itself: zone,
// capacity, address, version and last_seen.
func (tx *Tx) UpdateNodeReport(ctx context.Context, n Node) error {
	err := tx.execOne(ctx, `UPDATE nodes SET zone = $2, vcpus = $3, memory_mib = $4, disk_gib = $5, address = $6,
		version = $7, last_seen = $8, accel = $9, accel_reason = $10 WHERE id = $1`,
		n.ID, n.Zone, n.VCPUs, n.MemoryMiB, n.DiskGiB, n.Address, n.Version, unixMilliOrZero(n.LastSeen), n.Accel, n.AccelReason)
	if err != nil {
		return fmt.Errorf("update node %s: %w", n.ID, err)
	}
	return nil
}

// DeleteNode removes a node row (its certificate is then refused).
func (tx *Tx) DeleteNode(ctx context.Context, id string) error {
	if err := tx.execOne(ctx, `DELETE FROM nodes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}

// NodeJoinToken is a stored join token: the secret only as its hash.
type NodeJoinToken struct {
	ID         string
	SecretHash string
	ExpiresAt  time.Time
	CreatedAt  time.Time
}

// InsertNodeJoinToken stores a token.
func (tx *Tx) InsertNodeJoinToken(ctx context.Context, t NodeJoinToken) error {
	_, err := tx.exec(ctx, `INSERT INTO node_join_tokens (id, secret_hash, expires_at, created_at) VALUES ($1, $2, $3, $4)`,
		t.ID, t.SecretHash, t.ExpiresAt.UnixMilli(), t.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert node join token: %w", err)
	}
	return nil
}

// GetNodeJoinToken returns a token by its public id; ErrNotFound if none.
func (tx *Tx) GetNodeJoinToken(ctx context.Context, id string) (NodeJoinToken, error) {
	t := NodeJoinToken{ID: id}
	var expires, created int64
	err := tx.queryRow(ctx, `SELECT secret_hash, expires_at, created_at FROM node_join_tokens WHERE id = $1`, []any{id},
		&t.SecretHash, &expires, &created)
	if err != nil {
		return NodeJoinToken{}, fmt.Errorf("node join token %s: %w", id, err)
	}
	t.ExpiresAt, t.CreatedAt = Millis(expires), Millis(created)
	return t, nil
}

// DeleteExpiredNodeJoinTokens removes tokens that expired before now.
func (tx *Tx) DeleteExpiredNodeJoinTokens(ctx context.Context, now time.Time) error {
	if _, err := tx.exec(ctx, `DELETE FROM node_join_tokens WHERE expires_at < $1`, now.UnixMilli()); err != nil {
		return fmt.Errorf("delete expired node join tokens: %w", err)
	}
	return nil
}

func unixMilliOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
