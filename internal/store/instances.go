package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Instance is one EC2 instance: what the API asked for (desired), what the
// node last reported (observed) and the state the API shows.
type Instance struct {
	ID                    string
	AccountID             string
	ReservationID         string
	LaunchIndex           int
	ClientToken           string
	ImageID               string
	KernelID              string
	RamdiskID             string
	RootDeviceName        string
	RootDeviceType        string
	RootSnapshotID        string
	RootSizeGiB           int64
	InstanceType          string
	VCPUs                 int
	MemoryMiB             int
	AvailabilityZone      string
	VPCID                 string
	SubnetID              string
	KeyName               string
	UserData              string // base64
	SMBIOSUUID            string
	State                 string
	StateReasonCode       string
	StateReasonMessage    string
	StateTransitionReason string
	StateChangedAt        time.Time
	ShutdownBehavior      string
	DisableAPITermination bool
	NodeID                string
	DesiredPower          string
	ForceStop             bool
	RebootSeq             int64
	ObservedState         string
	ObservedAt            time.Time
	ConsoleOutput         string // base64
	ConsoleAt             time.Time
	LaunchTime            time.Time
	CreatedAt             time.Time
	// CPUCredits is a burstable instance's credit option (standard,
	// unlimited); '' means its type's default.
	CPUCredits string

	// SecurityGroupIDs in the order they were given; filled by the List calls.
	SecurityGroupIDs []string
}

const instanceColumns = `id, account_id, reservation_id, launch_index, client_token, image_id, kernel_id, ramdisk_id,
	root_device_name, root_device_type, root_snapshot_id, root_size_gib, instance_type, vcpus, memory_mib,
	availability_zone, vpc_id, subnet_id, key_name, user_data, smbios_uuid, state, state_reason_code,
	state_reason_message, state_transition_reason, state_changed_at, shutdown_behavior, disable_api_termination,
	node_id, desired_power, force_stop, reboot_seq, observed_state, observed_at, console_output, console_at,
	launch_time, created_at, cpu_credits`

func (i *Instance) args() []any {
	return []any{i.ID, i.AccountID, i.ReservationID, i.LaunchIndex, i.ClientToken, i.ImageID, i.KernelID, i.RamdiskID,
		i.RootDeviceName, i.RootDeviceType, i.RootSnapshotID, i.RootSizeGiB, i.InstanceType, i.VCPUs, i.MemoryMiB,
		i.AvailabilityZone, i.VPCID, i.SubnetID, i.KeyName, i.UserData, i.SMBIOSUUID, i.State, i.StateReasonCode,
		i.StateReasonMessage, i.StateTransitionReason, i.StateChangedAt.UnixMilli(), i.ShutdownBehavior, i.DisableAPITermination,
		i.NodeID, i.DesiredPower, i.ForceStop, i.RebootSeq, i.ObservedState, i.ObservedAt.UnixMilli(), i.ConsoleOutput, i.ConsoleAt.UnixMilli(),
		i.LaunchTime.UnixMilli(), i.CreatedAt.UnixMilli(), i.CPUCredits}
}

func scanInstance(r interface{ Scan(...any) error }) (Instance, error) {
	var i Instance
	var changed, observed, console, launch, created int64
	err := r.Scan(&i.ID, &i.AccountID, &i.ReservationID, &i.LaunchIndex, &i.ClientToken, &i.ImageID, &i.KernelID, &i.RamdiskID,
		&i.RootDeviceName, &i.RootDeviceType, &i.RootSnapshotID, &i.RootSizeGiB, &i.InstanceType, &i.VCPUs, &i.MemoryMiB,
		&i.AvailabilityZone, &i.VPCID, &i.SubnetID, &i.KeyName, &i.UserData, &i.SMBIOSUUID, &i.State, &i.StateReasonCode,
		&i.StateReasonMessage, &i.StateTransitionReason, &changed, &i.ShutdownBehavior, &i.DisableAPITermination,
		&i.NodeID, &i.DesiredPower, &i.ForceStop, &i.RebootSeq, &i.ObservedState, &observed, &i.ConsoleOutput, &console,
		&launch, &created, &i.CPUCredits)
	i.StateChangedAt, i.ObservedAt, i.ConsoleAt = Millis(changed), Millis(observed), Millis(console)
	i.LaunchTime, i.CreatedAt = Millis(launch), Millis(created)
	return i, err
}

// InsertInstance stores a new instance and its security groups.
func (tx *Tx) InsertInstance(ctx context.Context, i Instance) error {
	marks := make([]string, len(i.args()))
	for n := range marks {
		marks[n] = fmt.Sprintf("$%d", n+1)
	}
	q := `INSERT INTO instances (` + instanceColumns + `) VALUES (` + strings.Join(marks, ", ") + `)`
	if _, err := tx.exec(ctx, q, i.args()...); err != nil {
		return fmt.Errorf("insert instance %s: %w", i.ID, err)
	}
	for n, g := range i.SecurityGroupIDs {
		if _, err := tx.exec(ctx, `INSERT INTO instance_security_groups (instance_id, group_id, position) VALUES ($1, $2, $3)`, i.ID, g, n); err != nil {
			return fmt.Errorf("insert instance %s group %s: %w", i.ID, g, err)
		}
	}
	return nil
}

// listInstances runs a query selecting instanceColumns (where is appended
// after FROM instances) and fills each instance's security groups.
func (tx *Tx) listInstances(ctx context.Context, where string, args ...any) ([]Instance, error) {
	var out []Instance
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		i, err := scanInstance(r)
		out = append(out, i)
		return err
	}, `SELECT `+instanceColumns+` FROM instances `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	for n := range out {
		if err := tx.queryRows(ctx, func(r *sql.Rows) error {
			var g string
			err := r.Scan(&g)
			out[n].SecurityGroupIDs = append(out[n].SecurityGroupIDs, g)
			return err
		}, `SELECT group_id FROM instance_security_groups WHERE instance_id = $1 ORDER BY position`, out[n].ID); err != nil {
			return nil, fmt.Errorf("list instance %s groups: %w", out[n].ID, err)
		}
	}
	return out, nil
}

// ListInstances returns an account's instances by id.
func (tx *Tx) ListInstances(ctx context.Context, accountID string) ([]Instance, error) {
	return tx.listInstances(ctx, `WHERE account_id = $1 ORDER BY id`, accountID)
}

// ListNodeInstances returns the instances placed on a node, of every account.
func (tx *Tx) ListNodeInstances(ctx context.Context, nodeID string) ([]Instance, error) {
	return tx.listInstances(ctx, `WHERE node_id = $1 ORDER BY id`, nodeID)
}

// ListPlacedInstances returns every instance placed on any node that still
// uses capacity there (not terminated).
func (tx *Tx) ListPlacedInstances(ctx context.Context) ([]Instance, error) {
	return tx.listInstances(ctx, `WHERE node_id <> '' AND state <> 'terminated' ORDER BY id`)
}

// GetInstance returns one of an account's instances; ErrNotFound if none.
func (tx *Tx) GetInstance(ctx context.Context, accountID, id string) (Instance, error) {
	out, err := tx.listInstances(ctx, `WHERE account_id = $1 AND id = $2`, accountID, id)
	if err != nil {
		return Instance{}, err
	}
	if len(out) == 0 {
		return Instance{}, ErrNotFound
	}
	return out[0], nil
}

// UpdateInstance writes every mutable column of an instance back (not its
// id, account, reservation or security groups), including what the node
// observed: for tests and repairs. The API uses UpdateInstanceRequest.
func (tx *Tx) UpdateInstance(ctx context.Context, i Instance) error {
	if err := tx.UpdateInstanceRequest(ctx, i); err != nil {
		return err
	}
	return tx.execOne(ctx, `UPDATE instances SET observed_state = $3, observed_at = $4, console_output = $5, console_at = $6
		WHERE account_id = $1 AND id = $2`,
		i.AccountID, i.ID, i.ObservedState, i.ObservedAt.UnixMilli(), i.ConsoleOutput, i.ConsoleAt.UnixMilli())
}

// UpdateInstanceRequest writes what an API request changes: the desired
// state, the shown state and the attributes. It leaves alone the columns
// node reports write (observed state, console), so a report that lands
// between an API call's read and its write is not lost.
func (tx *Tx) UpdateInstanceRequest(ctx context.Context, i Instance) error {
	return tx.execOne(ctx, `UPDATE instances SET instance_type = $3, vcpus = $4, memory_mib = $5, user_data = $6,
		state = $7, state_reason_code = $8, state_reason_message = $9, state_transition_reason = $10, state_changed_at = $11,
		shutdown_behavior = $12, disable_api_termination = $13, node_id = $14, desired_power = $15, force_stop = $16,
		reboot_seq = $17, launch_time = $18, availability_zone = $19, kernel_id = $20, ramdisk_id = $21, cpu_credits = $22
		WHERE account_id = $1 AND id = $2`,
		i.AccountID, i.ID, i.InstanceType, i.VCPUs, i.MemoryMiB, i.UserData,
		i.State, i.StateReasonCode, i.StateReasonMessage, i.StateTransitionReason, i.StateChangedAt.UnixMilli(),
		i.ShutdownBehavior, i.DisableAPITermination, i.NodeID, i.DesiredPower, i.ForceStop,
		i.RebootSeq, i.LaunchTime.UnixMilli(), i.AvailabilityZone, i.KernelID, i.RamdiskID, i.CPUCredits)
}

// ListInstancesByClientToken returns an account's instances launched with
// a ClientToken, by id (RunInstances idempotency).
func (tx *Tx) ListInstancesByClientToken(ctx context.Context, accountID, token string) ([]Instance, error) {
	return tx.listInstances(ctx, `WHERE account_id = $1 AND client_token = $2 ORDER BY launch_index, id`, accountID, token)
}

// LockPlacement serialises the writers that place instances on nodes
// (RunInstances, StartInstances of every account) until the transaction
// ends, so two launches cannot both take a node's last capacity. SQLite's
// write transactions are already serial; PostgreSQL takes a transaction
// advisory lock.
func (tx *Tx) LockPlacement(ctx context.Context) error {
	if tx.dialect != Postgres {
		return nil
	}
	if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock($1)`, placementLockKey); err != nil {
		return fmt.Errorf("lock placement: %w", err)
	}
	return nil
}

// placementLockKey is the PostgreSQL advisory lock id of LockPlacement.
const placementLockKey int64 = 0x6b756d6f_706c6163 // "kumoplac"

// DeleteTerminatedInstancesBefore removes terminated instances whose state
// changed before t (they no longer show in DescribeInstances), with their
// security groups and network interfaces; it returns how many went.
func (tx *Tx) DeleteTerminatedInstancesBefore(ctx context.Context, t time.Time) (int64, error) {
	cut := t.UnixMilli()
	if err := tx.SettleTerminatedInterfaces(ctx, ""); err != nil { // interfaces not deleted on termination stay, detached
		return 0, err
	}
	sub := `SELECT id FROM instances WHERE state = 'terminated' AND state_changed_at < $1`
	for _, q := range []string{
		`DELETE FROM tags WHERE resource_id IN (SELECT id FROM network_interfaces WHERE instance_id IN (` + sub + `))`,
		`DELETE FROM tags WHERE resource_id IN (` + sub + `)`,
		`DELETE FROM network_interfaces WHERE instance_id IN (` + sub + `)`,
		`DELETE FROM instance_security_groups WHERE instance_id IN (` + sub + `)`,
	} {
		if _, err := tx.exec(ctx, q, cut); err != nil {
			return 0, fmt.Errorf("delete terminated instances' rows: %w", err)
		}
	}
	res, err := tx.exec(ctx, `DELETE FROM instances WHERE state = 'terminated' AND state_changed_at < $1`, cut)
	if err != nil {
		return 0, fmt.Errorf("delete terminated instances: %w", err)
	}
	return res.RowsAffected()
}

// SetInstanceSecurityGroups replaces an instance's security groups, kept
// in the order given.
func (tx *Tx) SetInstanceSecurityGroups(ctx context.Context, instanceID string, groupIDs []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM instance_security_groups WHERE instance_id = $1`, instanceID); err != nil {
		return fmt.Errorf("instance %s groups: %w", instanceID, err)
	}
	for n, g := range groupIDs {
		if _, err := tx.exec(ctx, `INSERT INTO instance_security_groups (instance_id, group_id, position) VALUES ($1, $2, $3)`, instanceID, g, n); err != nil {
			return fmt.Errorf("instance %s group %s: %w", instanceID, g, err)
		}
	}
	return nil
}
