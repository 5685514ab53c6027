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

	Description string
	// NoSourceDestCheck is SourceDestCheck=false (the zero value checks,
	// as EC2's default).
	NoSourceDestCheck bool
	ClientToken       string // CreateNetworkInterface's, '' when none
	// Attachment; all zero while detached.
	AttachmentID        string // eni-attach-…
	DeleteOnTermination bool
	AttachTime          time.Time

	// Read only (ListNetworkInterfaces and friends fill them):
	// SecondaryIPs are the secondary private addresses, sorted; GroupIDs
	// the interface's security groups in order (for an instance's primary
	// interface, the instance's groups).
	SecondaryIPs []string
	GroupIDs     []string
	// Zone is the subnet's availability zone.
	Zone string
}

// SourceDestCheck is EC2's attribute of the interface.
func (n NetworkInterface) SourceDestCheck() bool { return !n.NoSourceDestCheck }

// Attached reports whether the interface is attached to an instance.
func (n NetworkInterface) Attached() bool { return n.InstanceID != "" }

// Primary reports whether the interface is an instance's primary one.
func (n NetworkInterface) Primary() bool { return n.Attached() && n.DeviceIndex == 0 }

// Status is EC2's status of the interface: in-use or available.
func (n NetworkInterface) Status() string {
	if n.Attached() {
		return "in-use"
	}
	return "available"
}

// AllIPs returns the primary then the secondary private addresses.
func (n NetworkInterface) AllIPs() []string {
	return append([]string{n.PrivateIP}, n.SecondaryIPs...)
}

const netifaceColumns = `id, account_id, subnet_id, vpc_id, private_ip, mac, instance_id, device_index, created_at,
	description, source_dest_check, client_token, attachment_id, delete_on_termination, attach_time`

// InsertNetworkInterface stores an interface; ErrConflict when its address
// is taken on the subnet or its MAC anywhere.
func (tx *Tx) InsertNetworkInterface(ctx context.Context, n NetworkInterface) error {
	_, err := tx.exec(ctx, `INSERT INTO network_interfaces (`+netifaceColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		n.ID, n.AccountID, n.SubnetID, n.VPCID, n.PrivateIP, n.MAC, n.InstanceID, n.DeviceIndex, n.CreatedAt.UnixMilli(),
		n.Description, !n.NoSourceDestCheck, n.ClientToken, n.AttachmentID, n.DeleteOnTermination, millisOrZero(n.AttachTime))
	if err != nil {
		return fmt.Errorf("insert network interface %s: %w", n.ID, err)
	}
	return nil
}

// UpdateNetworkInterface writes an interface's description, check and
// attachment; ErrNotFound when there is no such interface.
func (tx *Tx) UpdateNetworkInterface(ctx context.Context, n NetworkInterface) error {
	err := tx.execOne(ctx, `UPDATE network_interfaces SET description = $2, source_dest_check = $3, instance_id = $4,
		device_index = $5, attachment_id = $6, delete_on_termination = $7, attach_time = $8 WHERE id = $1`,
		n.ID, n.Description, !n.NoSourceDestCheck, n.InstanceID, n.DeviceIndex, n.AttachmentID, n.DeleteOnTermination, millisOrZero(n.AttachTime))
	if err != nil {
		return fmt.Errorf("update network interface %s: %w", n.ID, err)
	}
	return nil
}

func millisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func timeOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return Millis(ms)
}

// listNetworkInterfaces reads the interfaces matching cond (an SQL
// condition on alias ni), with their secondary addresses and groups. An
// interface of a terminated instance reads as EC2 leaves it: gone when it
// was to be deleted on termination, detached otherwise (SettleTerminatedInterfaces
// makes it so in the rows).
func (tx *Tx) listNetworkInterfaces(ctx context.Context, cond, order string, args ...any) ([]NetworkInterface, error) {
	var out []NetworkInterface
	primaries := map[string]bool{} // as the rows stand: their groups are the instance's
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var n NetworkInterface
		var created, attached int64
		var state string
		var check bool
		err := r.Scan(&n.ID, &n.AccountID, &n.SubnetID, &n.VPCID, &n.PrivateIP, &n.MAC, &n.InstanceID, &n.DeviceIndex, &created,
			&n.Description, &check, &n.ClientToken, &n.AttachmentID, &n.DeleteOnTermination, &attached, &n.Zone, &state)
		n.CreatedAt, n.AttachTime, n.NoSourceDestCheck = Millis(created), timeOrZero(attached), !check
		primaries[n.ID] = n.Primary()
		if state == "terminated" {
			if n.DeleteOnTermination {
				return err
			}
			n.InstanceID, n.DeviceIndex, n.AttachmentID, n.DeleteOnTermination, n.AttachTime = "", 0, "", false, time.Time{}
		}
		out = append(out, n)
		return err
	}, `SELECT ni.id, ni.account_id, ni.subnet_id, ni.vpc_id, ni.private_ip, ni.mac, ni.instance_id, ni.device_index, ni.created_at,
		ni.description, ni.source_dest_check, ni.client_token, ni.attachment_id, ni.delete_on_termination, ni.attach_time,
		COALESCE(s.availability_zone, ''), COALESCE(i.state, '')
		FROM network_interfaces ni LEFT JOIN subnets s ON s.id = ni.subnet_id LEFT JOIN instances i ON i.id = ni.instance_id
		WHERE `+cond+` ORDER BY `+order, args...)
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	return out, tx.fillInterfaceDetails(ctx, out, primaries, cond, args...)
}

// fillInterfaceDetails adds secondary addresses and groups to interfaces
// read with cond; primaries names those whose rows make them an instance's
// primary interface.
func (tx *Tx) fillInterfaceDetails(ctx context.Context, list []NetworkInterface, primaries map[string]bool, cond string, args ...any) error {
	index := make(map[string]int, len(list))
	for i, n := range list {
		index[n.ID] = i
	}
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var id, ip string
		if err := r.Scan(&id, &ip); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			list[i].SecondaryIPs = append(list[i].SecondaryIPs, ip)
		}
		return nil
	}, `SELECT a.interface_id, a.private_ip FROM network_interface_addresses a JOIN network_interfaces ni ON ni.id = a.interface_id
		LEFT JOIN instances i ON i.id = ni.instance_id WHERE `+cond+` ORDER BY a.interface_id, a.private_ip`, args...)
	if err != nil {
		return fmt.Errorf("secondary addresses: %w", err)
	}
	err = tx.queryRows(ctx, func(r *sql.Rows) error {
		var id, g string
		var primary bool
		if err := r.Scan(&id, &g, &primary); err != nil {
			return err
		}
		if i, ok := index[id]; ok && primary == primaries[id] {
			list[i].GroupIDs = append(list[i].GroupIDs, g)
		}
		return nil
	}, `SELECT id, group_id, is_primary FROM (
			SELECT ni.id, g.group_id, g.position, FALSE AS is_primary FROM network_interface_groups g
				JOIN network_interfaces ni ON ni.id = g.interface_id LEFT JOIN instances i ON i.id = ni.instance_id WHERE `+cond+`
			UNION ALL
			SELECT ni.id, isg.group_id, isg.position, TRUE AS is_primary FROM instance_security_groups isg
				JOIN network_interfaces ni ON ni.instance_id = isg.instance_id AND ni.device_index = 0
				LEFT JOIN instances i ON i.id = ni.instance_id WHERE `+cond+`) x
		ORDER BY id, position`, args...)
	if err != nil {
		return fmt.Errorf("interface groups: %w", err)
	}
	return nil
}

// ListNetworkInterfaces returns an account's interfaces by id.
func (tx *Tx) ListNetworkInterfaces(ctx context.Context, accountID string) ([]NetworkInterface, error) {
	return tx.listNetworkInterfaces(ctx, `ni.account_id = $1`, `ni.id`, accountID)
}

// GetNetworkInterface returns one interface of an account; ErrNotFound
// when the account has none with that id (or it was deleted with its
// terminated instance).
func (tx *Tx) GetNetworkInterface(ctx context.Context, accountID, id string) (NetworkInterface, error) {
	list, err := tx.listNetworkInterfaces(ctx, `ni.account_id = $1 AND ni.id = $2`, `ni.id`, accountID, id)
	if err != nil {
		return NetworkInterface{}, err
	}
	if len(list) == 0 {
		return NetworkInterface{}, fmt.Errorf("network interface %s: %w", id, ErrNotFound)
	}
	return list[0], nil
}

// InstanceNetworkInterfaces returns the interfaces attached to an instance
// (of any account) by device index; none once it is terminated.
func (tx *Tx) InstanceNetworkInterfaces(ctx context.Context, instanceID string) ([]NetworkInterface, error) {
	return tx.listNetworkInterfaces(ctx, `ni.instance_id = $1 AND COALESCE(i.state, '') <> 'terminated'`, `ni.device_index, ni.id`, instanceID)
}

// SubnetPrivateIPs returns the addresses taken on a subnet, primary and
// secondary.
func (tx *Tx) SubnetPrivateIPs(ctx context.Context, subnetID string) ([]string, error) {
	var out []string
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var ip string
		err := r.Scan(&ip)
		out = append(out, ip)
		return err
	}, `SELECT private_ip FROM network_interfaces WHERE subnet_id = $1
		UNION ALL SELECT private_ip FROM network_interface_addresses WHERE subnet_id = $1`, subnetID)
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

// ReleaseTerminatedInterfaces settles the interfaces of terminated
// instances on a subnet (SettleTerminatedInterfaces), so the addresses of
// the deleted ones can be reused: EC2 deletes a launched instance's
// primary interface when it terminates.
func (tx *Tx) ReleaseTerminatedInterfaces(ctx context.Context, subnetID string) error {
	if err := tx.settleInterfaces(ctx, `subnet_id = $1 AND `, subnetID); err != nil {
		return fmt.Errorf("release interfaces on %s: %w", subnetID, err)
	}
	return nil
}

// SettleTerminatedInterfaces does to the interfaces of an account's
// terminated instances (of every account when accountID is empty) what
// EC2 does at termination: those to be deleted on termination are deleted
// (with their tags, addresses and groups), the others detached; a
// detached primary keeps its instance's groups.
func (tx *Tx) SettleTerminatedInterfaces(ctx context.Context, accountID string) error {
	var err error
	if accountID == "" {
		err = tx.settleInterfaces(ctx, ``)
	} else {
		err = tx.settleInterfaces(ctx, `account_id = $1 AND `, accountID)
	}
	if err != nil {
		return fmt.Errorf("settle interfaces of terminated instances: %w", err)
	}
	return nil
}

func (tx *Tx) settleInterfaces(ctx context.Context, cond string, args ...any) error {
	term := `SELECT id FROM network_interfaces WHERE ` + cond + `instance_id IN (SELECT id FROM instances WHERE state = 'terminated')`
	for _, q := range []string{
		`DELETE FROM tags WHERE resource_id IN (` + term + ` AND delete_on_termination)`,
		`DELETE FROM network_interfaces WHERE id IN (` + term + ` AND delete_on_termination)`,
		`INSERT INTO network_interface_groups (interface_id, group_id, position)
			SELECT ni.id, isg.group_id, isg.position FROM network_interfaces ni JOIN instance_security_groups isg ON isg.instance_id = ni.instance_id
			WHERE ni.device_index = 0 AND ni.id IN (` + term + `)`,
		`UPDATE network_interfaces SET instance_id = '', device_index = 0, attachment_id = '', attach_time = 0
			WHERE id IN (` + term + `)`,
	} {
		if _, err := tx.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}
