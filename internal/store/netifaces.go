package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// NetworkInterface is an elastic network interface (eni-…): an address and
// a MAC on one subnet, attached to an instance at DeviceIndex.
type NetworkInterface struct {
	ID          string
	AccountID   string
	SubnetID    string
	VPCID       string
	PrivateIP   string
	MAC         string // lower case, 02:… (locally administered)
	InstanceID  string // '' when detached
	DeviceIndex int
	CreatedAt   time.Time
}

const netifaceColumns = `id, account_id, subnet_id, vpc_id, private_ip, mac, instance_id, device_index, created_at`

// InsertNetworkInterface stores an interface; ErrConflict when its address
// is taken on the subnet or its MAC anywhere.
func (tx *Tx) InsertNetworkInterface(ctx context.Context, n NetworkInterface) error {
	_, err := tx.exec(ctx, `INSERT INTO network_interfaces (`+netifaceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		n.ID, n.AccountID, n.SubnetID, n.VPCID, n.PrivateIP, n.MAC, n.InstanceID, n.DeviceIndex, n.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert network interface %s: %w", n.ID, err)
	}
	return nil
}

func (tx *Tx) listNetworkInterfaces(ctx context.Context, where string, args ...any) ([]NetworkInterface, error) {
	var out []NetworkInterface
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var n NetworkInterface
		var created int64
		err := r.Scan(&n.ID, &n.AccountID, &n.SubnetID, &n.VPCID, &n.PrivateIP, &n.MAC, &n.InstanceID, &n.DeviceIndex, &created)
		n.CreatedAt = Millis(created)
		out = append(out, n)
		return err
	}, `SELECT `+netifaceColumns+` FROM network_interfaces `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	return out, nil
}

// ListNetworkInterfaces returns an account's interfaces by id.
func (tx *Tx) ListNetworkInterfaces(ctx context.Context, accountID string) ([]NetworkInterface, error) {
	return tx.listNetworkInterfaces(ctx, `WHERE account_id = $1 ORDER BY id`, accountID)
}

// InstanceNetworkInterfaces returns the interfaces attached to an instance
// (of any account) by device index: what a node needs to wire it up.
func (tx *Tx) InstanceNetworkInterfaces(ctx context.Context, instanceID string) ([]NetworkInterface, error) {
	return tx.listNetworkInterfaces(ctx, `WHERE instance_id = $1 ORDER BY device_index, id`, instanceID)
}

// SubnetPrivateIPs returns the addresses taken on a subnet.
func (tx *Tx) SubnetPrivateIPs(ctx context.Context, subnetID string) ([]string, error) {
	var out []string
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var ip string
		err := r.Scan(&ip)
		out = append(out, ip)
		return err
	}, `SELECT private_ip FROM network_interfaces WHERE subnet_id = $1`, subnetID)
	if err != nil {
		return nil, fmt.Errorf("subnet %s addresses: %w", subnetID, err)
	}
	return out, nil
}

// MACInUse reports whether any interface has the MAC.
func (tx *Tx) MACInUse(ctx context.Context, mac string) (bool, error) {
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM network_interfaces WHERE mac = $1`, []any{mac}, &n); err != nil {
		return false, fmt.Errorf("mac %s: %w", mac, err)
	}
	return n > 0, nil
}

// ReleaseTerminatedInterfaces deletes the interfaces (and their tags) of
// terminated instances on a subnet, so their addresses can be reused: EC2
// deletes a launched instance's primary interface when it terminates.
func (tx *Tx) ReleaseTerminatedInterfaces(ctx context.Context, subnetID string) error {
	sub := `SELECT id FROM network_interfaces WHERE subnet_id = $1 AND instance_id IN (SELECT id FROM instances WHERE state = 'terminated')`
	if _, err := tx.exec(ctx, `DELETE FROM tags WHERE resource_id IN (`+sub+`)`, subnetID); err != nil {
		return fmt.Errorf("release interfaces on %s: %w", subnetID, err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM network_interfaces WHERE id IN (`+sub+`)`, subnetID); err != nil {
		return fmt.Errorf("release interfaces on %s: %w", subnetID, err)
	}
	return nil
}
