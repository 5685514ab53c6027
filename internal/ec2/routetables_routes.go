package ec2

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/store"
)

// routeTarget is the target a CreateRoute or ReplaceRoute request names.
type routeTarget struct {
	gateway, instance, eni string
}

// routeRequest is what CreateRoute and ReplaceRoute have in common.
type routeRequest struct {
	table, destination, ipv6, prefixList string
	target                               routeTarget
	unsupported                          map[string]*string // parameter name → value, for targets Kumo lacks
}

func errRouteNotFound(dest, table string) error {
	return apiErr("InvalidRoute.NotFound", "no route with destination-cidr-block %s in route table %s", dest, table)
}

// parseRouteRequest checks the destination and that exactly one target is given.
func parseRouteRequest(r routeRequest) (string, error) {
	if r.ipv6 != "" || r.prefixList != "" {
		return "", invalid("IPv6 and prefix-list destinations are not supported by Kumo yet; give destinationCidrBlock.")
	}
	if r.destination == "" {
		return "", apiErr("MissingParameter", "The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock")
	}
	p, err := parseCIDR("destinationCidrBlock", r.destination)
	if err != nil {
		return "", err
	}
	n := 0
	for _, v := range []string{r.target.gateway, r.target.instance, r.target.eni} {
		if v != "" {
			n++
		}
	}
	for name, v := range r.unsupported {
		if deref(v) != "" {
			if n > 0 {
				return "", apiErr("InvalidParameterCombination", "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, vpcPeeringConnectionId, transitGatewayId or instanceId")
			}
			return "", invalid("Value (%s) for parameter %s is invalid. Kumo supports routes to internet gateways, instances and network interfaces only.", deref(v), name)
		}
	}
	switch {
	case n == 0:
		return "", apiErr("MissingParameter", "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, vpcPeeringConnectionId, transitGatewayId or instanceId")
	case n > 1:
		return "", apiErr("InvalidParameterCombination", "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, vpcPeeringConnectionId, transitGatewayId or instanceId")
	}
	return p.String(), nil
}

// resolveTarget checks the target exists in the table's VPC and fills the route's target fields.
func resolveTarget(ctx context.Context, tx *store.Tx, t store.RouteTable, target routeTarget, r *store.Route) error {
	switch {
	case target.gateway == gatewayLocal:
		return invalid("Value (local) for parameter gatewayId is invalid. The local route of route table %s cannot be created or moved.", t.ID)
	case target.gateway != "":
		return resolveGateway(ctx, tx, t, target.gateway, r)
	case target.instance != "":
		return resolveInstance(ctx, tx, t, target.instance, r)
	}
	return resolveInterface(ctx, tx, t, target.eni, r)
}

func resolveGateway(ctx context.Context, tx *store.Tx, t store.RouteTable, id string, r *store.Route) error {
	if !strings.HasPrefix(id, "igw-") {
		if strings.HasPrefix(id, "vgw-") || strings.HasPrefix(id, "vpce-") {
			return invalid("Value (%s) for parameter gatewayId is invalid. Kumo supports internet gateways only.", id)
		}
		return apiErr("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", id)
	}
	gws, err := gatewayVPCs(ctx, tx, t.AccountID)
	if err != nil {
		return err
	}
	vpc, ok := gws[id]
	switch {
	case !ok:
		return apiErr("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", id)
	case vpc != t.VPCID:
		return invalid("route table %s and network gateway %s belong to different networks", t.ID, id)
	}
	r.GatewayID = id
	return nil
}

func resolveInstance(ctx context.Context, tx *store.Tx, t store.RouteTable, id string, r *store.Route) error {
	inst, err := tx.GetInstance(ctx, t.AccountID, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && inst.State == "terminated" {
		return apiErr("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	if err != nil {
		return err
	}
	if inst.VPCID != t.VPCID {
		return invalid("route table %s and instance %s belong to different networks", t.ID, id)
	}
	enis, err := tx.InstanceNetworkInterfaces(ctx, id)
	if err != nil {
		return err
	}
	if len(enis) > 1 {
		return apiErr("InvalidInstanceID", "There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", id)
	}
	r.InstanceID = id
	if len(enis) == 1 {
		r.NetworkInterfaceID = enis[0].ID
	}
	return nil
}

func resolveInterface(ctx context.Context, tx *store.Tx, t store.RouteTable, id string, r *store.Route) error {
	enis, err := tx.ListNetworkInterfaces(ctx, t.AccountID)
	if err != nil {
		return err
	}
	for _, n := range enis {
		if n.ID != id {
			continue
		}
		if n.VPCID != t.VPCID {
			return invalid("route table %s and network interface %s belong to different networks", t.ID, id)
		}
		r.NetworkInterfaceID, r.InstanceID = id, n.InstanceID
		return nil
	}
	return apiErr("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
}

func findRoute(t store.RouteTable, dest string) (store.Route, bool) {
	for _, r := range t.Routes {
		if r.DestinationCIDR == dest {
			return r, true
		}
	}
	return store.Route{}, false
}

func createRouteRequest(in *ec2api.CreateRouteRequest) routeRequest {
	return routeRequest{table: deref(in.RouteTableId), destination: deref(in.DestinationCidrBlock),
		ipv6: deref(in.DestinationIpv6CidrBlock), prefixList: deref(in.DestinationPrefixListId),
		target: routeTarget{gateway: deref(in.GatewayId), instance: deref(in.InstanceId), eni: deref(in.NetworkInterfaceId)},
		unsupported: map[string]*string{"natGatewayId": in.NatGatewayId, "transitGatewayId": in.TransitGatewayId,
			"vpcPeeringConnectionId": in.VpcPeeringConnectionId, "egressOnlyInternetGatewayId": in.EgressOnlyInternetGatewayId,
			"localGatewayId": in.LocalGatewayId, "carrierGatewayId": in.CarrierGatewayId, "vpcEndpointId": in.VpcEndpointId,
			"coreNetworkArn": in.CoreNetworkArn}}
}

// CreateRoute adds a route to an internet gateway, an instance or a network interface.
func (s *Service) CreateRoute(ctx context.Context, in *ec2api.CreateRouteRequest) (*ec2api.CreateRouteResult, error) {
	req := createRouteRequest(in)
	dest, err := parseRouteRequest(req)
	if err != nil {
		return nil, err
	}
	err = s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		t, err := getRouteTable(ctx, tx, account, req.table)
		if err != nil {
			return err
		}
		vpc, err := tx.GetVPC(ctx, account, t.VPCID)
		if err != nil {
			return err
		}
		if dest == vpc.CIDRBlock {
			return invalid("The destination CIDR block %s is equal to or more specific than one of this VPC's CIDR blocks. This route can target only an interface or an instance.", dest)
		}
		if _, ok := findRoute(t, dest); ok {
			return apiErr("RouteAlreadyExists", "The route identified by %s already exists.", dest)
		}
		r := store.Route{RouteTableID: t.ID, DestinationCIDR: dest, Origin: originRoute, CreatedAt: time.Now().UTC()}
		if err := resolveTarget(ctx, tx, t, req.target, &r); err != nil {
			return err
		}
		return tx.PutRoute(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateRouteResult{Return: boolp(true)}, nil
}

// ReplaceRoute points an existing route at another target; the local route stays.
func (s *Service) ReplaceRoute(ctx context.Context, in *ec2api.ReplaceRouteRequest) (*ec2api.ReplaceRouteOutput, error) {
	req := createRouteRequest(&ec2api.CreateRouteRequest{RouteTableId: in.RouteTableId, DestinationCidrBlock: in.DestinationCidrBlock,
		DestinationIpv6CidrBlock: in.DestinationIpv6CidrBlock, DestinationPrefixListId: in.DestinationPrefixListId,
		GatewayId: in.GatewayId, InstanceId: in.InstanceId, NetworkInterfaceId: in.NetworkInterfaceId, NatGatewayId: in.NatGatewayId,
		TransitGatewayId: in.TransitGatewayId, VpcPeeringConnectionId: in.VpcPeeringConnectionId, EgressOnlyInternetGatewayId: in.EgressOnlyInternetGatewayId,
		LocalGatewayId: in.LocalGatewayId, CarrierGatewayId: in.CarrierGatewayId, VpcEndpointId: in.VpcEndpointId, CoreNetworkArn: in.CoreNetworkArn})
	if deref2(in.LocalTarget) && req.target == (routeTarget{}) {
		req.target.gateway = gatewayLocal
	}
	dest, err := parseRouteRequest(req)
	if err != nil {
		return nil, err
	}
	err = s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		t, err := getRouteTable(ctx, tx, account, req.table)
		if err != nil {
			return err
		}
		old, ok := findRoute(t, dest)
		if !ok {
			return errRouteNotFound(dest, t.ID)
		}
		if old.GatewayID == gatewayLocal {
			if req.target.gateway == gatewayLocal {
				return nil // already local
			}
			return invalid("cannot replace local route %s in route table %s", dest, t.ID)
		}
		r := store.Route{RouteTableID: t.ID, DestinationCIDR: dest, Origin: originRoute}
		if err := resolveTarget(ctx, tx, t, req.target, &r); err != nil {
			return err
		}
		return tx.ReplaceRoute(ctx, r)
	})
	return &ec2api.ReplaceRouteOutput{}, err
}

// DeleteRoute removes a route; the local route cannot be removed.
func (s *Service) DeleteRoute(ctx context.Context, in *ec2api.DeleteRouteRequest) (*ec2api.DeleteRouteOutput, error) {
	if deref(in.DestinationIpv6CidrBlock) != "" || deref(in.DestinationPrefixListId) != "" {
		return nil, invalid("IPv6 and prefix-list destinations are not supported by Kumo yet; give destinationCidrBlock.")
	}
	if in.DestinationCidrBlock == nil {
		return nil, apiErr("MissingParameter", "The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock")
	}
	p, err := parseCIDR("destinationCidrBlock", *in.DestinationCidrBlock)
	if err != nil {
		return nil, err
	}
	dest := p.String()
	err = s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		t, err := getRouteTable(ctx, tx, account, deref(in.RouteTableId))
		if err != nil {
			return err
		}
		old, ok := findRoute(t, dest)
		if !ok {
			return errRouteNotFound(dest, t.ID)
		}
		if old.GatewayID == gatewayLocal {
			return invalid("cannot remove local route %s in route table %s", dest, t.ID)
		}
		return tx.DeleteRoute(ctx, t.ID, dest)
	})
	return &ec2api.DeleteRouteOutput{}, err
}
