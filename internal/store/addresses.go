package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Address is one public address of the operator's pool in use: an elastic
// IP (eipalloc-…) allocated to an account and its association (if any)
// with a private address of a network interface, or (Auto) a public IP
// assigned to an instance's primary interface at launch, which has no
// allocation or association id and lives only while the instance runs.
type Address struct {
	AllocationID string // empty for an auto-assigned address
	AccountID    string
	PublicIP     string
	Auto         bool
	// Association; all empty when the address is not associated.
	AssociationID      string
	NetworkInterfaceID string
	PrivateIP          string
	// InstanceID is the instance the interface is attached to (empty for a
	// detached interface); derived, never stored.
	InstanceID string
	CreatedAt  time.Time
}

// Associated reports whether the address is mapped to an interface.
func (a Address) Associated() bool { return a.NetworkInterfaceID != "" }

// Kinds of addresses (the kind column).
const (
	kindElastic = "elastic"
	kindAuto    = "auto"
)

// autoKeyPrefix makes the internal allocation_id of an auto-assigned address.
const autoKeyPrefix = "auto-"

// InsertAddress stores a new allocation, or (Auto) a public IP assigned to
// an interface; ErrConflict when the public address is already in use (by
// any account).
func (tx *Tx) InsertAddress(ctx context.Context, a Address) error {
	kind, key := kindElastic, a.AllocationID
	if a.Auto {
		kind, key = kindAuto, autoKeyPrefix+a.PublicIP
	}
	_, err := tx.exec(ctx, `INSERT INTO addresses (allocation_id, account_id, public_ip, association_id, network_interface_id, private_ip, created_at, kind)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		key, a.AccountID, a.PublicIP, a.AssociationID, a.NetworkInterfaceID, a.PrivateIP, a.CreatedAt.UnixMilli(), kind)
	if err != nil {
		return fmt.Errorf("insert address %s: %w", a.PublicIP, err)
	}
	return nil
}

// addressQuery reads addresses with the interface's instance and that
// instance's state, to tell live associations from lapsed ones.
const addressQuery = `SELECT a.allocation_id, a.account_id, a.public_ip, a.association_id, a.network_interface_id, a.private_ip,
	a.created_at, a.kind, COALESCE(ni.id, ''), COALESCE(ni.instance_id, ''), COALESCE(i.state, '')
	FROM addresses a
	LEFT JOIN network_interfaces ni ON ni.id = a.network_interface_id
	LEFT JOIN instances i ON i.id = ni.instance_id `

// listAddresses returns addresses as they stand: an association whose
// interface is gone, or whose instance is terminated (or deleted), has
// lapsed and reads as not associated. EC2 disassociates an elastic IP
// when its instance terminates; doing it here, at read time, covers every
// path by which an instance becomes terminated. An auto-assigned address
// lapses also when its instance is stopped (or is detached): EC2 releases
// it then, and SweepPublicIPs returns it to the pool.
func (tx *Tx) listAddresses(ctx context.Context, where string, args ...any) ([]Address, error) {
	var out []Address
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var a Address
		var created int64
		var kind, eni, inst, state string
		err := r.Scan(&a.AllocationID, &a.AccountID, &a.PublicIP, &a.AssociationID, &a.NetworkInterfaceID, &a.PrivateIP,
			&created, &kind, &eni, &inst, &state)
		a.CreatedAt = Millis(created)
		live := a.AssociationID != "" && eni != "" && (inst == "" || (state != "" && state != "terminated"))
		if kind == kindAuto {
			a.Auto, a.AllocationID = true, ""
			live = a.NetworkInterfaceID != "" && eni != "" && inst != "" && state != "" && state != "terminated" && state != "stopped"
		}
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

// ListAddresses returns an account's elastic IPs by public address.
func (tx *Tx) ListAddresses(ctx context.Context, accountID string) ([]Address, error) {
	return tx.listAddresses(ctx, `WHERE a.account_id = $1 AND a.kind = 'elastic' ORDER BY a.public_ip, a.allocation_id`, accountID)
}

// ListPublicAddresses returns an account's elastic IPs and auto-assigned
// public IPs, by public address.
func (tx *Tx) ListPublicAddresses(ctx context.Context, accountID string) ([]Address, error) {
	return tx.listAddresses(ctx, `WHERE a.account_id = $1 ORDER BY a.public_ip, a.allocation_id`, accountID)
}

// NetworkInterfaceAddresses returns the addresses (elastic or
// auto-assigned) associated with an interface (of any account), by
// private then public address.
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

// AllocatedPublicIPs returns every public address in use (elastic or
// auto-assigned, lapsed or not), of every account.
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

// DeleteInterfacePublicIPs returns the public IPs auto-assigned to an
// interface to the pool (none: no error).
func (tx *Tx) DeleteInterfacePublicIPs(ctx context.Context, interfaceID string) error {
	if _, err := tx.exec(ctx, `DELETE FROM addresses WHERE kind = 'auto' AND network_interface_id = $1`, interfaceID); err != nil {
		return fmt.Errorf("release public IP of %s: %w", interfaceID, err)
	}
	return nil
}

// SweepPublicIPs returns to the pool every auto-assigned public IP that
// has lapsed (its interface is gone, or its instance is stopped,
// terminated or gone), whichever path got it there, and forgets the
// launch choice of interfaces that are gone. It returns how many
// addresses it freed. Callers that then allocate hold LockAddresses.
func (tx *Tx) SweepPublicIPs(ctx context.Context) (int, error) {
	list, err := tx.listAddresses(ctx, `WHERE a.kind = 'auto'`)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range list {
		if a.Associated() {
			continue
		}
		if _, err := tx.exec(ctx, `DELETE FROM addresses WHERE kind = 'auto' AND public_ip = $1`, a.PublicIP); err != nil {
			return n, fmt.Errorf("release public IP %s: %w", a.PublicIP, err)
		}
		n++
	}
	if _, err := tx.exec(ctx, `DELETE FROM public_ip_interfaces WHERE network_interface_id NOT IN (SELECT id FROM network_interfaces)`); err != nil {
		return n, fmt.Errorf("sweep public IP interfaces: %w", err)
	}
	return n, nil
}

// SetInterfacePublicIP records whether an interface (an instance's
// primary) is to have an auto-assigned public IP while its instance runs.
func (tx *Tx) SetInterfacePublicIP(ctx context.Context, accountID, interfaceID string, on bool) error {
	var err error
	if on {
		_, err = tx.exec(ctx, `INSERT INTO public_ip_interfaces (network_interface_id, account_id) VALUES ($1, $2)
			ON CONFLICT (network_interface_id) DO NOTHING`, interfaceID, accountID)
	} else {
		_, err = tx.exec(ctx, `DELETE FROM public_ip_interfaces WHERE network_interface_id = $1`, interfaceID)
	}
	if err != nil {
		return fmt.Errorf("public IP choice of %s: %w", interfaceID, err)
	}
	return nil
}

// InterfacePublicIP reports whether an interface was launched with a
// public IP (SetInterfacePublicIP).
func (tx *Tx) InterfacePublicIP(ctx context.Context, interfaceID string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM public_ip_interfaces WHERE network_interface_id = $1`, []any{interfaceID}, &n)
	if err != nil {
		return false, fmt.Errorf("public IP choice of %s: %w", interfaceID, err)
	}
	return n > 0, nil
}

// SetSubnetMapPublicIP writes a subnet's MapPublicIpOnLaunch; ErrNotFound
// when the account has no such subnet.
func (tx *Tx) SetSubnetMapPublicIP(ctx context.Context, accountID, subnetID string, on bool) error {
	err := tx.execOne(ctx, `UPDATE subnets SET map_public_ip_on_launch = $3 WHERE account_id = $1 AND id = $2`, accountID, subnetID, on)
	if err != nil {
		return fmt.Errorf("subnet %s map public IP: %w", subnetID, err)
	}
	return nil
}
