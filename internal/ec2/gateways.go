package ec2

import (
	"context"
	"errors"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

const typeInternetGateway = "internet-gateway"

func errIGWNotFound(id string) error {
	return apiErr("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
}

// CreateInternetGateway makes a detached gateway.
func (s *Service) CreateInternetGateway(ctx context.Context, in *ec2api.CreateInternetGatewayRequest) (*ec2api.CreateInternetGatewayResult, error) {
	tags, err := specTags(in.TagSpecifications, typeInternetGateway)
	if err != nil {
		return nil, err
	}
	g := store.InternetGateway{ID: ids.Resource("igw"), CreatedAt: time.Now().UTC()}
	var rows []store.Tag
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		g.AccountID = account
		if err := tx.InsertInternetGateway(ctx, g); err != nil {
			return err
		}
		rows, err = putTags(ctx, tx, account, g.ID, typeInternetGateway, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateInternetGatewayResult{InternetGateway: apiIGW(g, rows)}, nil
}

// getIGW finds one of the account's gateways.
func getIGW(ctx context.Context, tx *store.Tx, account, id string) (store.InternetGateway, error) {
	if err := checkID(id, "igw", "InvalidInternetGatewayId.Malformed"); err != nil {
		return store.InternetGateway{}, err
	}
	gws, err := tx.ListInternetGateways(ctx, account)
	return findOwned(gws, err, id, func(g store.InternetGateway) string { return g.ID }, errIGWNotFound)
}

// gatewayAndVPC checks both ids of an attach or detach: the caller's
// gateway and the caller's VPC.
func gatewayAndVPC(ctx context.Context, tx *store.Tx, account, id, vpcID string) (store.InternetGateway, error) {
	g, err := getIGW(ctx, tx, account, id)
	if err != nil {
		return g, err
	}
	if err := checkID(vpcID, "vpc", "InvalidVpcID.Malformed"); err != nil {
		return g, err
	}
	if _, err := tx.GetVPC(ctx, account, vpcID); err != nil {
		return g, vpcErr(err, vpcID)
	}
	return g, nil
}

// AttachInternetGateway connects a gateway to a VPC: one VPC per gateway, one gateway per VPC.
func (s *Service) AttachInternetGateway(ctx context.Context, in *ec2api.AttachInternetGatewayRequest) (*ec2api.AttachInternetGatewayOutput, error) {
	id, vpcID := deref(in.InternetGatewayId), deref(in.VpcId)
	err := s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		g, err := gatewayAndVPC(ctx, tx, account, id, vpcID)
		if err != nil {
			return err
		}
		if g.VPCID != "" {
			return apiErr("Resource.AlreadyAssociated", "resource %s is already attached to network %s", id, g.VPCID)
		}
		err = tx.SetInternetGatewayVPC(ctx, account, id, vpcID)
		if errors.Is(err, store.ErrConflict) {
			return apiErr("Resource.AlreadyAssociated", "Network %s already has an internet gateway attached", vpcID)
		}
		return err
	})
	return &ec2api.AttachInternetGatewayOutput{}, err
}

// DetachInternetGateway disconnects a gateway from its VPC; routes to it become blackholes.
func (s *Service) DetachInternetGateway(ctx context.Context, in *ec2api.DetachInternetGatewayRequest) (*ec2api.DetachInternetGatewayOutput, error) {
	id, vpcID := deref(in.InternetGatewayId), deref(in.VpcId)
	err := s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		g, err := gatewayAndVPC(ctx, tx, account, id, vpcID)
		if err != nil {
			return err
		}
		if g.VPCID != vpcID {
			return apiErr("Gateway.NotAttached", "resource %s is not attached to network %s", id, vpcID)
		}
		if err := checkNoMappedAddresses(ctx, tx, account, vpcID); err != nil {
			return err
		}
		return tx.SetInternetGatewayVPC(ctx, account, id, "")
	})
	return &ec2api.DetachInternetGatewayOutput{}, err
}

// DeleteInternetGateway removes a detached gateway.
func (s *Service) DeleteInternetGateway(ctx context.Context, in *ec2api.DeleteInternetGatewayRequest) (*ec2api.DeleteInternetGatewayOutput, error) {
	id := deref(in.InternetGatewayId)
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		g, err := getIGW(ctx, tx, account, id)
		if err != nil {
			return err
		}
		if g.VPCID != "" {
			return errDependency("The internetGateway '%s' has dependencies and cannot be deleted.", id)
		}
		return tx.DeleteInternetGateway(ctx, account, id)
	})
	return &ec2api.DeleteInternetGatewayOutput{}, err
}

func apiIGW(g store.InternetGateway, tags []store.Tag) *ec2api.InternetGateway {
	out := &ec2api.InternetGateway{InternetGatewayId: str(g.ID), OwnerId: str(g.AccountID),
		Attachments: []ec2api.InternetGatewayAttachment{}, Tags: apiTags(tags)}
	if g.VPCID != "" {
		// AWS reports an attached internet gateway's state as "available".
		out.Attachments = append(out.Attachments, ec2api.InternetGatewayAttachment{State: str("available"), VpcId: str(g.VPCID)})
	}
	return out
}

var igwFields = filter.Fields[store.InternetGateway]{
	"attachment.vpc-id": func(g store.InternetGateway) []string {
		if g.VPCID == "" {
			return nil
		}
		return filter.One(g.VPCID)
	},
	"attachment.state": func(g store.InternetGateway) []string {
		if g.VPCID == "" {
			return nil
		}
		return filter.One("available")
	},
	"internet-gateway-id": func(g store.InternetGateway) []string { return filter.One(g.ID) },
	"owner-id":            func(g store.InternetGateway) []string { return filter.One(g.AccountID) },
}

// DescribeInternetGateways lists the caller's gateways.
func (s *Service) DescribeInternetGateways(ctx context.Context, in *ec2api.DescribeInternetGatewaysRequest) (*ec2api.DescribeInternetGatewaysResult, error) {
	q := taggedQuery[store.InternetGateway]{rtype: typeInternetGateway, idsParam: "internetGatewayIds", fields: igwFields, notFound: errIGWNotFound,
		list: func(tx *store.Tx) func(context.Context, string) ([]store.InternetGateway, error) {
			return tx.ListInternetGateways
		},
		id: func(g store.InternetGateway) string { return g.ID }}
	page, tags, next, err := q.run(ctx, s, in.InternetGatewayIds, in.Filters, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInternetGatewaysResult{InternetGateways: []ec2api.InternetGateway{}, NextToken: next}
	for _, g := range page {
		out.InternetGateways = append(out.InternetGateways, *apiIGW(g, tags[g.ID]))
	}
	return out, nil
}

// routingResourceExists is CreateTags' check for igw-, rtb- and dopt- ids.
func routingResourceExists(ctx context.Context, tx *store.Tx, account, rtype, id string) error {
	var err error
	switch rtype {
	case typeInternetGateway:
		_, err = getIGW(ctx, tx, account, id)
	case typeRouteTable:
		_, err = getRouteTable(ctx, tx, account, id)
	case typeDHCPOptions:
		_, err = getDHCPOptions(ctx, tx, account, id)
	}
	return err
}

// checkNoMappedAddresses is DetachInternetGateway's rule: no elastic IP
// or auto-assigned public IP may still be mapped to an interface in the VPC.
func checkNoMappedAddresses(ctx context.Context, tx *store.Tx, account, vpcID string) error {
	addrs, err := tx.ListPublicAddresses(ctx, account)
	if err != nil {
		return err
	}
	enis, err := tx.ListNetworkInterfaces(ctx, account)
	if err != nil {
		return err
	}
	inVPC := map[string]bool{}
	for _, n := range enis {
		inVPC[n.ID] = n.VPCID == vpcID
	}
	for _, a := range addrs {
		if a.Associated() && inVPC[a.NetworkInterfaceID] {
			return errDependency("Network %s has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.", vpcID)
		}
	}
	return nil
}
