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
}

const nodeColumns = `id, name, zone, state, vcpus, memory_mib, disk_gib, address, cert_serial, version, last_seen, created_at`

// InsertNode stores a node; ErrConflict when the name is taken.
func (tx *Tx) InsertNode(ctx context.Context, n Node) error {
	_, err := tx.exec(ctx, `INSERT INTO nodes (`+nodeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		n.ID, n.Name, n.Zone, n.State, n.VCPUs, n.MemoryMiB, n.DiskGiB, n.Address, n.CertSerial, n.Version,
		unixMilliOrZero(n.LastSeen), n.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert node %s: %w", n.Name, err)
	}
	return nil
}

// ListNodes returns every node by id.
func (tx *Tx) ListNodes(ctx context.Context) ([]Node, error) {
	var out []Node
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var n Node
		var seen, created int64
		err := r.Scan(&n.ID, &n.Name, &n.Zone, &n.State, &n.VCPUs, &n.MemoryMiB, &n.DiskGiB, &n.Address, &n.CertSerial,
			&n.Version, &seen, &created)
		if seen != 0 {
			n.LastSeen = Millis(seen)
		}
		n.CreatedAt = Millis(created)
		out = append(out, n)
		return err
	}, `SELECT `+nodeColumns+` FROM nodes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return out, nil
}

func unixMilliOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
