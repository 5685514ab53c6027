package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Address is an elastic IP address (eipalloc-…): one public address of the
// operator's pool allocated to an account, and its association (if any)
// with a private address of a network interface.
type Address struct {
	AllocationID string
	AccountID    string
	PublicIP     string
	// Association; all empty when the address is not associated.
	AssociationID      string
	NetworkInterfaceID string
	PrivateIP          string
	// InstanceID is the instance the interface is attached to (empty for a
	// detached interface); derived, never stored.
	InstanceID string
	CreatedAt  time.Time
}

// Associated reports whether the address is associated with an interface.
func (a Address) Associated() bool { return a.AssociationID != "" }

// InsertAddress stores a new allocation; ErrConflict when the public
// address is already allocated (to any account).
func (tx *Tx) InsertAddress(ctx context.Context, a Address) error {
	_, err := tx.exec(ctx, `INSERT INTO addresses (allocation_id, account_id, public_ip, association_id, network_interface_id, private_ip, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		a.AllocationID, a.AccountID, a.PublicIP, a.AssociationID, a.NetworkInterfaceID, a.PrivateIP, a.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert address %s: %w", a.PublicIP, err)
	}
	return nil
}

// addressQuery reads addresses with the interface's instance and that
// instance's state, to tell live associations from lapsed ones.
const addressQuery = `SELECT a.allocation_id, a.account_id, a.public_ip, a.association_id, a.network_interface_id, a.private_ip,
	a.created_at, COALESCE(ni.id, ''), COALESCE(ni.instance_id, ''), COALESCE(i.state, '')
	FROM addresses a
	LEFT JOIN network_interfaces ni ON ni.id = a.network_interface_id
	LEFT JOIN instances i ON i.id = ni.instance_id `

// listAddresses returns addresses as they stand: an association whose
// interface is gone, or whose instance is terminated (or deleted), has
// lapsed and reads as not associated. EC2 disassociates an elastic IP
// when its instance terminates; doing it here, at read time, covers every
// path by which an instance becomes terminated.
func (tx *Tx) listAddresses(ctx context.Context, where string, args ...any) ([]Address, error) {
	var out []Address
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var a Address
		var created int64
		var eni, inst, state string
		err := r.Scan(&a.AllocationID, &a.AccountID, &a.PublicIP, &a.AssociationID, &a.NetworkInterfaceID, &a.PrivateIP,
			&created, &eni, &inst, &state)
		a.CreatedAt = Millis(created)
		live := a.AssociationID != "" && eni != "" && (inst == "" || (state != "" && state != "terminated"))
		if live {
			a.InstanceID = inst
		} else {
			a.AssociationID, a.NetworkInterfaceID, a.PrivateIP = "", "", ""
		}
		out = append(out, a)
		return err
	}, addressQuery+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	return out, nil
}

// ListAddresses returns an account's addresses by public address.
func (tx *Tx) ListAddresses(ctx context.Context, accountID string) ([]Address, error) {
	return tx.listAddresses(ctx, `WHERE a.account_id = $1 ORDER BY a.public_ip, a.allocation_id`, accountID)
}

// NetworkInterfaceAddresses returns the addresses associated with an
// interface (of any account), by private then public address.
func (tx *Tx) NetworkInterfaceAddresses(ctx context.Context, interfaceID string) ([]Address, error) {
	list, err := tx.listAddresses(ctx, `WHERE a.network_interface_id = $1 ORDER BY a.private_ip, a.public_ip`, interfaceID)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, a := range list {
		if a.Associated() {
			out = append(out, a)
		}
	}
	return out, nil
}

// AllocatedPublicIPs returns every allocated public address, of every account.
func (tx *Tx) AllocatedPublicIPs(ctx context.Context) ([]string, error) {
	var out []string
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var ip string
		err := r.Scan(&ip)
		out = append(out, ip)
		return err
	}, `SELECT public_ip FROM addresses`)
	if err != nil {
		return nil, fmt.Errorf("allocated addresses: %w", err)
	}
	return out, nil
}

// SetAddressAssociation writes an address's association (empty fields:
// none); ErrNotFound when the account has no such allocation.
func (tx *Tx) SetAddressAssociation(ctx context.Context, a Address) error {
	err := tx.execOne(ctx, `UPDATE addresses SET association_id = $3, network_interface_id = $4, private_ip = $5
		WHERE account_id = $1 AND allocation_id = $2`,
		a.AccountID, a.AllocationID, a.AssociationID, a.NetworkInterfaceID, a.PrivateIP)
	if err != nil {
		return fmt.Errorf("associate address %s: %w", a.AllocationID, err)
	}
	return nil
}

// DeleteAddress releases an allocation and its tags; ErrNotFound when the
// account has no such allocation.
func (tx *Tx) DeleteAddress(ctx context.Context, accountID, allocationID string) error {
	if err := tx.DeleteAllTags(ctx, accountID, allocationID); err != nil {
		return err
	}
	if err := tx.execOne(ctx, `DELETE FROM addresses WHERE account_id = $1 AND allocation_id = $2`, accountID, allocationID); err != nil {
		return fmt.Errorf("release address %s: %w", allocationID, err)
	}
	return nil
}

// LockAddresses serialises the writers that allocate public addresses (of
// every account) until the transaction ends, so two allocations cannot
// pick the same free address. SQLite's write transactions are already
// serial; PostgreSQL takes a transaction advisory lock.
func (tx *Tx) LockAddresses(ctx context.Context) error {
	if tx.dialect != Postgres {
		return nil
	}
	if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock($1)`, addressLockKey); err != nil {
		return fmt.Errorf("lock addresses: %w", err)
	}
	return nil
}

// addressLockKey is the PostgreSQL advisory lock id of LockAddresses.
const addressLockKey int64 = 0x6b756d6f_65697061 // "kumoeipa"
