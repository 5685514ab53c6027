package ec2

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

const typeRouteTable = "route-table"

// Route origins and states as EC2 reports them.
const (
	originTable    = "CreateRouteTable"
	originRoute    = "CreateRoute"
	routeActive    = "active"
	routeBlackhole = "blackhole"
	gatewayLocal   = "local"
)

func errRouteTableNotFound(id string) error {
	return apiErr("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", id)
}

func errAssociationNotFound(id string) error {
	return apiErr("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
}

// newRouteTable stores a table of vpc with its local route; main tables get a main association.
func newRouteTable(ctx context.Context, tx *store.Tx, vpc store.VPC, main bool) (store.RouteTable, error) {
	now := time.Now().UTC()
	t := store.RouteTable{ID: ids.Resource("rtb"), AccountID: vpc.AccountID, VPCID: vpc.ID, CreatedAt: now}
	if main {
		t.MainAssociationID = ids.Resource("rtbassoc")
	}
	if err := tx.InsertRouteTable(ctx, t); err != nil {
		return t, err
	}
	local := store.Route{RouteTableID: t.ID, DestinationCIDR: vpc.CIDRBlock, GatewayID: gatewayLocal, Origin: originTable, CreatedAt: now}
	if err := tx.PutRoute(ctx, local); err != nil {
		return t, err
	}
	t.Routes = []store.Route{local}
	return t, nil
}

// createMainRouteTable gives a new VPC its main route table.
func createMainRouteTable(ctx context.Context, tx *store.Tx, vpc store.VPC) (store.RouteTable, error) {
	return newRouteTable(ctx, tx, vpc, true)
}

// attachDefaultGateway gives a default VPC what AWS gives it: an attached
// internet gateway and a 0.0.0.0/0 route to it in the main table.
func attachDefaultGateway(ctx context.Context, tx *store.Tx, vpc store.VPC, main store.RouteTable) error {
	now := time.Now().UTC()
	g := store.InternetGateway{ID: ids.Resource("igw"), AccountID: vpc.AccountID, VPCID: vpc.ID, CreatedAt: now}
	if err := tx.InsertInternetGateway(ctx, g); err != nil {
		return err
	}
	return tx.PutRoute(ctx, store.Route{RouteTableID: main.ID, DestinationCIDR: "0.0.0.0/0", GatewayID: g.ID, Origin: originRoute, CreatedAt: now})
}

// getRouteTable finds one of the account's tables, with routes and associations.
func getRouteTable(ctx context.Context, tx *store.Tx, account, id string) (store.RouteTable, error) {
	if err := checkID(id, "rtb", "InvalidRouteTableId.Malformed"); err != nil {
		return store.RouteTable{}, err
	}
	tables, err := tx.ListRouteTables(ctx, account)
	return findOwned(tables, err, id, func(t store.RouteTable) string { return t.ID }, errRouteTableNotFound)
}

// CreateRouteTable makes a table in a VPC holding only the local route. A
// retry with the same ClientToken returns the table the first request made.
func (s *Service) CreateRouteTable(ctx context.Context, in *ec2api.CreateRouteTableRequest) (*ec2api.CreateRouteTableResult, error) {
	vpcID := deref(in.VpcId)
	if err := checkID(vpcID, "vpc", "InvalidVpcID.Malformed"); err != nil {
		return nil, err
	}
	tags, err := specTags(in.TagSpecifications, typeRouteTable)
	if err != nil {
		return nil, err
	}
	var t store.RouteTable
	var rows []store.Tag
	token := deref(in.ClientToken)
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if t, rows, err = priorRouteTable(ctx, tx, account, token, in); t.ID != "" || err != nil {
			return err
		}
		vpc, err := tx.GetVPC(ctx, account, vpcID)
		if err != nil {
			return vpcErr(err, vpcID)
		}
		if t, err = newRouteTable(ctx, tx, vpc, false); err != nil {
			return err
		}
		if rows, err = putTags(ctx, tx, account, t.ID, typeRouteTable, tags); err != nil {
			return err
		}
		return recordToken(ctx, tx, account, "CreateRouteTable", token, in, t.ID)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateRouteTableResult{RouteTable: apiRouteTable(t, rows, nil), ClientToken: in.ClientToken}, nil
}

// priorRouteTable returns the table an earlier CreateRouteTable with the
// same token made, as it is now (zero when none, or when it was deleted).
func priorRouteTable(ctx context.Context, tx *store.Tx, account, token string, in *ec2api.CreateRouteTableRequest) (store.RouteTable, []store.Tag, error) {
	id, err := priorToken(ctx, tx, account, "CreateRouteTable", token, in)
	if id == "" || err != nil {
		return store.RouteTable{}, nil, err
	}
	tables, err := tx.ListRouteTables(ctx, account)
	if err != nil {
		return store.RouteTable{}, nil, err
	}
	i := slices.IndexFunc(tables, func(t store.RouteTable) bool { return t.ID == id })
	if i < 0 {
		return store.RouteTable{}, nil, nil
	}
	tags, err := tx.TagsByResource(ctx, account, typeRouteTable)
	return tables[i], tags[id], err
}

// DeleteRouteTable removes a table that is neither main nor associated with a subnet.
func (s *Service) DeleteRouteTable(ctx context.Context, in *ec2api.DeleteRouteTableRequest) (*ec2api.DeleteRouteTableOutput, error) {
	id := deref(in.RouteTableId)
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		t, err := getRouteTable(ctx, tx, account, id)
		if err != nil {
			return err
		}
		if t.MainAssociationID != "" || len(t.Associations) > 0 {
			return errDependency("The routeTable '%s' has dependencies and cannot be deleted.", id)
		}
		return tx.DeleteRouteTable(ctx, account, id)
	})
	return &ec2api.DeleteRouteTableOutput{}, err
}

// routeState is "blackhole" for a route to a gateway that is gone or no
// longer attached to the table's VPC, "active" otherwise.
func routeState(t store.RouteTable, r store.Route, attached map[string]string) string {
	if strings.HasPrefix(r.GatewayID, "igw-") && attached[r.GatewayID] != t.VPCID {
		return routeBlackhole
	}
	return routeActive
}

func apiRoute(t store.RouteTable, r store.Route, attached map[string]string) ec2api.Route {
	out := ec2api.Route{DestinationCidrBlock: str(r.DestinationCIDR), Origin: str(r.Origin), State: str(routeState(t, r, attached))}
	if r.GatewayID != "" {
		out.GatewayId = str(r.GatewayID)
	}
	if r.InstanceID != "" {
		out.InstanceId, out.InstanceOwnerId = str(r.InstanceID), str(t.AccountID)
	}
	if r.NetworkInterfaceID != "" {
		out.NetworkInterfaceId = str(r.NetworkInterfaceID)
	}
	return out
}

func associated() *ec2api.RouteTableAssociationState {
	return &ec2api.RouteTableAssociationState{State: str("associated")}
}

// apiRouteTable converts a table; attached maps gateway ids to their VPCs.
func apiRouteTable(t store.RouteTable, tags []store.Tag, attached map[string]string) *ec2api.RouteTable {
	out := &ec2api.RouteTable{RouteTableId: str(t.ID), VpcId: str(t.VPCID), OwnerId: str(t.AccountID),
		Associations: []ec2api.RouteTableAssociation{}, PropagatingVgws: []ec2api.PropagatingVgw{}, Routes: []ec2api.Route{}, Tags: apiTags(tags)}
	if t.MainAssociationID != "" {
		out.Associations = append(out.Associations, ec2api.RouteTableAssociation{Main: boolp(true),
			RouteTableAssociationId: str(t.MainAssociationID), RouteTableId: str(t.ID), AssociationState: associated()})
	}
	for _, a := range t.Associations {
		out.Associations = append(out.Associations, ec2api.RouteTableAssociation{Main: boolp(false),
			RouteTableAssociationId: str(a.ID), RouteTableId: str(t.ID), SubnetId: str(a.SubnetID), AssociationState: associated()})
	}
	for _, r := range t.Routes {
		out.Routes = append(out.Routes, apiRoute(t, r, attached))
	}
	return out
}

// routeTableFields are DescribeRouteTables' filters; attached maps gateways to VPCs.
func routeTableFields(attached map[string]string) filter.Fields[store.RouteTable] {
	routes := func(f func(store.RouteTable, store.Route) string) func(store.RouteTable) []string {
		return func(t store.RouteTable) []string {
			var out []string
			for _, r := range t.Routes {
				if v := f(t, r); v != "" {
					out = append(out, v)
				}
			}
			return out
		}
	}
	assocIDs := func(t store.RouteTable) []string {
		var out []string
		if t.MainAssociationID != "" {
			out = append(out, t.MainAssociationID)
		}
		for _, a := range t.Associations {
			out = append(out, a.ID)
		}
		return out
	}
	return filter.Fields[store.RouteTable]{
		"route-table-id":   func(t store.RouteTable) []string { return filter.One(t.ID) },
		"vpc-id":           func(t store.RouteTable) []string { return filter.One(t.VPCID) },
		"owner-id":         func(t store.RouteTable) []string { return filter.One(t.AccountID) },
		"association.main": func(t store.RouteTable) []string { return filter.Bool(t.MainAssociationID != "") },
		"association.subnet-id": func(t store.RouteTable) []string {
			var out []string
			for _, a := range t.Associations {
				out = append(out, a.SubnetID)
			}
			return out
		},
		"association.route-table-association-id": assocIDs,
		"association.route-table-id": func(t store.RouteTable) []string {
			if len(assocIDs(t)) == 0 {
				return nil
			}
			return filter.One(t.ID)
		},
		"association.association-state": func(t store.RouteTable) []string {
			if len(assocIDs(t)) == 0 {
				return nil
			}
			return filter.One("associated")
		},
		"route.destination-cidr-block": routes(func(_ store.RouteTable, r store.Route) string { return r.DestinationCIDR }),
		"route.gateway-id":             routes(func(_ store.RouteTable, r store.Route) string { return r.GatewayID }),
		"route.instance-id":            routes(func(_ store.RouteTable, r store.Route) string { return r.InstanceID }),
		"route.network-interface-id":   routes(func(_ store.RouteTable, r store.Route) string { return r.NetworkInterfaceID }),
		"route.origin":                 routes(func(_ store.RouteTable, r store.Route) string { return r.Origin }),
		"route.state":                  routes(func(t store.RouteTable, r store.Route) string { return routeState(t, r, attached) }),
	}
}

// gatewayVPCs maps the account's gateways to the VPCs they are attached to (” when detached).
func gatewayVPCs(ctx context.Context, tx *store.Tx, account string) (map[string]string, error) {
	gws, err := tx.ListInternetGateways(ctx, account)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(gws))
	for _, g := range gws {
		out[g.ID] = g.VPCID
	}
	return out, nil
}

// DescribeRouteTables lists the caller's route tables.
func (s *Service) DescribeRouteTables(ctx context.Context, in *ec2api.DescribeRouteTablesRequest) (*ec2api.DescribeRouteTablesResult, error) {
	attached := map[string]string{}
	q := taggedQuery[store.RouteTable]{rtype: typeRouteTable, idsParam: "routeTableIds", fields: routeTableFields(attached), notFound: errRouteTableNotFound,
		list: func(tx *store.Tx) func(context.Context, string) ([]store.RouteTable, error) {
			return func(ctx context.Context, account string) ([]store.RouteTable, error) {
				gws, err := gatewayVPCs(ctx, tx, account)
				if err != nil {
					return nil, err
				}
				for k, v := range gws {
					attached[k] = v
				}
				return tx.ListRouteTables(ctx, account)
			}
		},
		id: func(t store.RouteTable) string { return t.ID }}
	page, tags, next, err := q.run(ctx, s, in.RouteTableIds, in.Filters, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeRouteTablesResult{RouteTables: []ec2api.RouteTable{}, NextToken: next}
	for _, t := range page {
		out.RouteTables = append(out.RouteTables, *apiRouteTable(t, tags[t.ID], attached))
	}
	return out, nil
}

// routeTableDependencies is DeleteVpc's rule: no tables but the main one.
func routeTableDependencies(ctx context.Context, tx *store.Tx, account, vpcID string) error {
	tables, err := tx.ListRouteTables(ctx, account)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if t.VPCID == vpcID && t.MainAssociationID == "" {
			return errDependency("The vpc '%s' has dependencies and cannot be deleted.", vpcID)
		}
	}
	gws, err := tx.ListInternetGateways(ctx, account)
	if err != nil {
		return err
	}
	for _, g := range gws {
		if g.VPCID == vpcID {
			return errDependency("The vpc '%s' has dependencies and cannot be deleted.", vpcID)
		}
	}
	return nil
}
