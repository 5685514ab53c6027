package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// InternetGateway connects at most one VPC to the outside.
type InternetGateway struct {
	ID        string
	AccountID string
	VPCID     string // '' when detached
	CreatedAt time.Time
}

// RouteTable is a VPC's set of routes, with its subnet associations.
type RouteTable struct {
	ID                string
	AccountID         string
	VPCID             string
	MainAssociationID string // rtbassoc-… while main, else ''
	CreatedAt         time.Time
	Routes            []Route                 // by destination (filled by ListRouteTables)
	Associations      []RouteTableAssociation // subnet associations by id (filled by ListRouteTables)
}

// Route sends a destination range to one target.
type Route struct {
	RouteTableID       string
	DestinationCIDR    string
	GatewayID          string // "local", igw-… or ''
	InstanceID         string
	NetworkInterfaceID string
	Origin             string // CreateRouteTable | CreateRoute
	CreatedAt          time.Time
}

// RouteTableAssociation ties a subnet to a route table.
type RouteTableAssociation struct {
	ID           string
	AccountID    string
	RouteTableID string
	SubnetID     string
	CreatedAt    time.Time
}

// InsertInternetGateway stores a gateway.
func (tx *Tx) InsertInternetGateway(ctx context.Context, g InternetGateway) error {
	_, err := tx.exec(ctx, `INSERT INTO internet_gateways (id, account_id, vpc_id, created_at) VALUES ($1, $2, $3, $4)`,
		g.ID, g.AccountID, g.VPCID, g.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert internet gateway %s: %w", g.ID, err)
	}
	return nil
}

// ListInternetGateways returns an account's gateways by id.
func (tx *Tx) ListInternetGateways(ctx context.Context, accountID string) ([]InternetGateway, error) {
	var out []InternetGateway
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var g InternetGateway
		var created int64
		err := r.Scan(&g.ID, &g.AccountID, &g.VPCID, &created)
		g.CreatedAt = Millis(created)
		out = append(out, g)
		return err
	}, `SELECT id, account_id, vpc_id, created_at FROM internet_gateways WHERE account_id = $1 ORDER BY id`, accountID)
	return out, err
}

// SetInternetGatewayVPC attaches a gateway to vpcID, or detaches it (”).
// ErrConflict when the VPC already has a gateway; ErrNotFound when no such gateway.
func (tx *Tx) SetInternetGatewayVPC(ctx context.Context, accountID, id, vpcID string) error {
	return tx.execOne(ctx, `UPDATE internet_gateways SET vpc_id = $1 WHERE account_id = $2 AND id = $3`, vpcID, accountID, id)
}

// DeleteInternetGateway removes a gateway and its tags.
func (tx *Tx) DeleteInternetGateway(ctx context.Context, accountID, id string) error {
	if err := tx.execOne(ctx, `DELETE FROM internet_gateways WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}

// InsertRouteTable stores a table (without routes; see PutRoute).
func (tx *Tx) InsertRouteTable(ctx context.Context, t RouteTable) error {
	_, err := tx.exec(ctx, `INSERT INTO route_tables (id, account_id, vpc_id, main_association_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
		t.ID, t.AccountID, t.VPCID, t.MainAssociationID, t.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert route table %s: %w", t.ID, err)
	}
	return nil
}

// ListRouteTables returns an account's route tables by id, with routes and associations.
func (tx *Tx) ListRouteTables(ctx context.Context, accountID string) ([]RouteTable, error) {
	var out []RouteTable
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var t RouteTable
		var created int64
		err := r.Scan(&t.ID, &t.AccountID, &t.VPCID, &t.MainAssociationID, &created)
		t.CreatedAt = Millis(created)
		out = append(out, t)
		return err
	}, `SELECT id, account_id, vpc_id, main_association_id, created_at FROM route_tables WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list route tables: %w", err)
	}
	routes, err := tx.routesOf(ctx, accountID)
	if err != nil {
		return nil, err
	}
	assocs, err := tx.ListRouteTableAssociations(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Routes = routes[out[i].ID]
		for _, a := range assocs {
			if a.RouteTableID == out[i].ID {
				out[i].Associations = append(out[i].Associations, a)
			}
		}
	}
	return out, nil
}

func (tx *Tx) routesOf(ctx context.Context, accountID string) (map[string][]Route, error) {
	out := map[string][]Route{}
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var rt Route
		var created int64
		err := r.Scan(&rt.RouteTableID, &rt.DestinationCIDR, &rt.GatewayID, &rt.InstanceID, &rt.NetworkInterfaceID, &rt.Origin, &created)
		rt.CreatedAt = Millis(created)
		out[rt.RouteTableID] = append(out[rt.RouteTableID], rt)
		return err
	}, `SELECT r.route_table_id, r.destination_cidr, r.gateway_id, r.instance_id, r.network_interface_id, r.origin, r.created_at
		FROM routes r JOIN route_tables t ON t.id = r.route_table_id WHERE t.account_id = $1
		ORDER BY r.route_table_id, r.destination_cidr`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	return out, nil
}

// DeleteRouteTable removes a table, its routes and tags. The caller checks
// that it is neither main nor associated.
func (tx *Tx) DeleteRouteTable(ctx context.Context, accountID, id string) error {
	if _, err := tx.exec(ctx, `DELETE FROM routes WHERE route_table_id = $1`, id); err != nil {
		return fmt.Errorf("delete routes of %s: %w", id, err)
	}
	if err := tx.execOne(ctx, `DELETE FROM route_tables WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}

// SetMainRouteTable makes tableID the main table of its VPC under a new association id.
func (tx *Tx) SetMainRouteTable(ctx context.Context, accountID, vpcID, tableID, associationID string) error {
	if _, err := tx.exec(ctx, `UPDATE route_tables SET main_association_id = '' WHERE account_id = $1 AND vpc_id = $2`, accountID, vpcID); err != nil {
		return fmt.Errorf("clear main route table of %s: %w", vpcID, err)
	}
	return tx.execOne(ctx, `UPDATE route_tables SET main_association_id = $1 WHERE account_id = $2 AND id = $3 AND vpc_id = $4`,
		associationID, accountID, tableID, vpcID)
}

// PutRoute adds a route; ErrConflict when the table has one for the destination.
func (tx *Tx) PutRoute(ctx context.Context, r Route) error {
	_, err := tx.exec(ctx, `INSERT INTO routes (route_table_id, destination_cidr, gateway_id, instance_id, network_interface_id, origin, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.RouteTableID, r.DestinationCIDR, r.GatewayID, r.InstanceID, r.NetworkInterfaceID, r.Origin, r.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert route %s in %s: %w", r.DestinationCIDR, r.RouteTableID, err)
	}
	return nil
}

// ReplaceRoute changes the target of an existing route; ErrNotFound when none.
func (tx *Tx) ReplaceRoute(ctx context.Context, r Route) error {
	return tx.execOne(ctx, `UPDATE routes SET gateway_id = $1, instance_id = $2, network_interface_id = $3, origin = $4
		WHERE route_table_id = $5 AND destination_cidr = $6`,
		r.GatewayID, r.InstanceID, r.NetworkInterfaceID, r.Origin, r.RouteTableID, r.DestinationCIDR)
}

// DeleteRoute removes one route; ErrNotFound when none.
func (tx *Tx) DeleteRoute(ctx context.Context, tableID, destination string) error {
	return tx.execOne(ctx, `DELETE FROM routes WHERE route_table_id = $1 AND destination_cidr = $2`, tableID, destination)
}

// InsertRouteTableAssociation ties a subnet to a table; ErrConflict when
// the subnet already has a table.
func (tx *Tx) InsertRouteTableAssociation(ctx context.Context, a RouteTableAssociation) error {
	return tx.insertSubnetAssociation(ctx, "route_table_associations", "route_table_id",
		subnetAssociation{ID: a.ID, AccountID: a.AccountID, ParentID: a.RouteTableID, SubnetID: a.SubnetID, CreatedAt: a.CreatedAt})
}

// ListRouteTableAssociations returns an account's subnet associations by id.
func (tx *Tx) ListRouteTableAssociations(ctx context.Context, accountID string) ([]RouteTableAssociation, error) {
	return listSubnetAssociations(ctx, tx, "route_table_associations", "route_table_id", accountID,
		func(a subnetAssociation) RouteTableAssociation {
			return RouteTableAssociation{ID: a.ID, AccountID: a.AccountID, RouteTableID: a.ParentID, SubnetID: a.SubnetID, CreatedAt: a.CreatedAt}
		})
}

// subnetAssociation is a row of route_table_associations or
// network_acl_associations: both tie a subnet to one parent (a route table,
// a network ACL) and differ only in the parent's column.
type subnetAssociation struct {
	ID        string
	AccountID string
	ParentID  string
	SubnetID  string
	CreatedAt time.Time
}

// insertSubnetAssociation adds a to table; ErrConflict when the subnet
// already has a row there.
func (tx *Tx) insertSubnetAssociation(ctx context.Context, table, parentColumn string, a subnetAssociation) error {
	_, err := tx.exec(ctx, `INSERT INTO `+table+` (id, account_id, `+parentColumn+`, subnet_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
		a.ID, a.AccountID, a.ParentID, a.SubnetID, a.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("associate %s with %s: %w", a.SubnetID, a.ParentID, err)
	}
	return nil
}

// listSubnetAssociations returns an account's rows of table by id, each
// made into a T by conv.
func listSubnetAssociations[T any](ctx context.Context, tx *Tx, table, parentColumn, accountID string, conv func(subnetAssociation) T) ([]T, error) {
	var out []T
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var a subnetAssociation
		var created int64
		err := r.Scan(&a.ID, &a.AccountID, &a.ParentID, &a.SubnetID, &created)
		a.CreatedAt = Millis(created)
		out = append(out, conv(a))
		return err
	}, `SELECT id, account_id, `+parentColumn+`, subnet_id, created_at FROM `+table+` WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", strings.ReplaceAll(table, "_", " "), err)
	}
	return out, nil
}

// DeleteRouteTableAssociation removes one subnet association; ErrNotFound when none.
func (tx *Tx) DeleteRouteTableAssociation(ctx context.Context, accountID, id string) error {
	return tx.execOne(ctx, `DELETE FROM route_table_associations WHERE account_id = $1 AND id = $2`, accountID, id)
}

// DeleteSubnetAssociation removes a subnet's association, if any.
func (tx *Tx) DeleteSubnetAssociation(ctx context.Context, accountID, subnetID string) error {
	if _, err := tx.exec(ctx, `DELETE FROM route_table_associations WHERE account_id = $1 AND subnet_id = $2`, accountID, subnetID); err != nil {
		return fmt.Errorf("disassociate subnet %s: %w", subnetID, err)
	}
	return nil
}

// DeleteMainRouteTable removes a VPC's main table with its routes and tags,
// before the VPC itself goes.
func (tx *Tx) DeleteMainRouteTable(ctx context.Context, accountID, vpcID string) error {
	tables, err := tx.ListRouteTables(ctx, accountID)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if t.VPCID == vpcID && t.MainAssociationID != "" {
			if err := tx.DeleteRouteTable(ctx, accountID, t.ID); err != nil {
				return fmt.Errorf("delete main route table of %s: %w", vpcID, err)
			}
		}
	}
	return nil
}

// DHCPOptions is a set of DHCP options VPCs can use.
type DHCPOptions struct {
	ID             string
	AccountID      string
	IsDefault      bool // the set new VPCs of the account get
	Configurations []DHCPConfiguration
	CreatedAt      time.Time
}

// DHCPConfiguration is one option with its values, in the order given.
type DHCPConfiguration struct {
	Key    string
	Values []string
}

// InsertDHCPOptions stores an options set.
func (tx *Tx) InsertDHCPOptions(ctx context.Context, o DHCPOptions) error {
	conf, err := json.Marshal(o.Configurations)
	if err != nil {
		return fmt.Errorf("encode dhcp options %s: %w", o.ID, err)
	}
	_, err = tx.exec(ctx, `INSERT INTO dhcp_options (id, account_id, is_default, configurations, created_at) VALUES ($1, $2, $3, $4, $5)`,
		o.ID, o.AccountID, o.IsDefault, string(conf), o.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert dhcp options %s: %w", o.ID, err)
	}
	return nil
}

const dhcpCols = `SELECT id, account_id, is_default, configurations, created_at FROM dhcp_options`

func scanDHCPOptions(out *[]DHCPOptions) func(*sql.Rows) error {
	return func(r *sql.Rows) error {
		var o DHCPOptions
		var created int64
		var conf string
		if err := r.Scan(&o.ID, &o.AccountID, &o.IsDefault, &conf, &created); err != nil {
			return err
		}
		o.CreatedAt = Millis(created)
		if err := json.Unmarshal([]byte(conf), &o.Configurations); err != nil {
			return fmt.Errorf("decode dhcp options %s: %w", o.ID, err)
		}
		*out = append(*out, o)
		return nil
	}
}

// ListDHCPOptions returns an account's options sets by id.
func (tx *Tx) ListDHCPOptions(ctx context.Context, accountID string) ([]DHCPOptions, error) {
	var out []DHCPOptions
	if err := tx.queryRows(ctx, scanDHCPOptions(&out), dhcpCols+` WHERE account_id = $1 ORDER BY id`, accountID); err != nil {
		return nil, fmt.Errorf("list dhcp options: %w", err)
	}
	return out, nil
}

// DeleteDHCPOptions removes an options set and its tags; ErrInUse while a VPC uses it.
func (tx *Tx) DeleteDHCPOptions(ctx context.Context, accountID, id string) error {
	if err := tx.execOne(ctx, `DELETE FROM dhcp_options WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}

// SetVPCDHCPOptions makes a VPC use an options set; ” means none ("default").
func (tx *Tx) SetVPCDHCPOptions(ctx context.Context, vpcID, optionsID string) error {
	if _, err := tx.exec(ctx, `DELETE FROM vpc_dhcp_options WHERE vpc_id = $1`, vpcID); err != nil {
		return fmt.Errorf("clear dhcp options of %s: %w", vpcID, err)
	}
	if optionsID == "" {
		return nil
	}
	if _, err := tx.exec(ctx, `INSERT INTO vpc_dhcp_options (vpc_id, dhcp_options_id) VALUES ($1, $2)`, vpcID, optionsID); err != nil {
		return fmt.Errorf("set dhcp options of %s: %w", vpcID, err)
	}
	return nil
}

// VPCDHCPOptionsIDs maps each of an account's VPCs that uses an options set to the set's id.
func (tx *Tx) VPCDHCPOptionsIDs(ctx context.Context, accountID string) (map[string]string, error) {
	out := map[string]string{}
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var vpc, opt string
		err := r.Scan(&vpc, &opt)
		out[vpc] = opt
		return err
	}, `SELECT v.vpc_id, v.dhcp_options_id FROM vpc_dhcp_options v JOIN vpcs ON vpcs.id = v.vpc_id WHERE vpcs.account_id = $1`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list vpc dhcp options: %w", err)
	}
	return out, nil
}

// VPCDHCP is what a node's DHCP server hands the guests of one VPC.
type VPCDHCP struct {
	DHCPOptionsID      string   // '' when the VPC uses no options set ("default")
	DomainName         string   // '' when none
	DomainNameServers  []string // addresses, or "AmazonProvidedDNS" meaning the VPC's resolver
	NTPServers         []string
	NetBIOSNameServers []string
	NetBIOSNodeType    string
}

// DHCPForVPC returns the DHCP options of a VPC, for any account (the node side).
func (tx *Tx) DHCPForVPC(ctx context.Context, vpcID string) (VPCDHCP, error) {
	var sets []DHCPOptions
	err := tx.queryRows(ctx, scanDHCPOptions(&sets),
		dhcpCols+` WHERE id IN (SELECT dhcp_options_id FROM vpc_dhcp_options WHERE vpc_id = $1)`, vpcID)
	if err != nil || len(sets) == 0 {
		return VPCDHCP{}, err
	}
	out := VPCDHCP{DHCPOptionsID: sets[0].ID}
	for _, c := range sets[0].Configurations {
		switch c.Key {
		case "domain-name":
			if len(c.Values) > 0 {
				out.DomainName = c.Values[0]
			}
		case "domain-name-servers":
			out.DomainNameServers = c.Values
		case "ntp-servers":
			out.NTPServers = c.Values
		case "netbios-name-servers":
			out.NetBIOSNameServers = c.Values
		case "netbios-node-type":
			if len(c.Values) > 0 {
				out.NetBIOSNodeType = c.Values[0]
			}
		}
	}
	return out, nil
}
