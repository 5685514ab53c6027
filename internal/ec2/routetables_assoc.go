package ec2

import (
	"context"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// AssociateRouteTable makes a subnet use a table instead of its VPC's main one.
func (s *Service) AssociateRouteTable(ctx context.Context, in *ec2api.AssociateRouteTableRequest) (*ec2api.AssociateRouteTableResult, error) {
	if deref(in.GatewayId) != "" {
		return nil, invalid("Value (%s) for parameter gatewayId is invalid. Gateway route tables are not supported by Kumo yet.", deref(in.GatewayId))
	}
	subnetID := deref(in.SubnetId)
	if subnetID == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter subnetId")
	}
	if err := checkID(subnetID, "subnet", "InvalidSubnetID.Malformed"); err != nil {
		return nil, err
	}
	a := store.RouteTableAssociation{ID: ids.Resource("rtbassoc"), RouteTableID: deref(in.RouteTableId), SubnetID: subnetID, CreatedAt: time.Now().UTC()}
	err := s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		a.AccountID = account
		t, err := getRouteTable(ctx, tx, account, a.RouteTableID)
		if err != nil {
			return err
		}
		sub, err := getSubnet(ctx, tx, account, subnetID)
		if err != nil {
			return err
		}
		if sub.VPCID != t.VPCID {
			return invalid("Route table %s and subnet %s belong to different networks", t.ID, subnetID)
		}
		if cur, ok, err := subnetAssociation(ctx, tx, account, subnetID); err != nil || ok {
			if err != nil {
				return err
			}
			return apiErr("Resource.AlreadyAssociated", "the specified association for route table %s conflicts with an existing association (%s)", t.ID, cur.ID)
		}
		return tx.InsertRouteTableAssociation(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AssociateRouteTableResult{AssociationId: str(a.ID), AssociationState: associated()}, nil
}

func getSubnet(ctx context.Context, tx *store.Tx, account, id string) (store.Subnet, error) {
	subnets, err := tx.ListSubnets(ctx, account)
	return findOwned(subnets, err, id, func(sn store.Subnet) string { return sn.ID }, errSubnetNotFound)
}

func subnetAssociation(ctx context.Context, tx *store.Tx, account, subnetID string) (store.RouteTableAssociation, bool, error) {
	assocs, err := tx.ListRouteTableAssociations(ctx, account)
	if err != nil {
		return store.RouteTableAssociation{}, false, err
	}
	for _, a := range assocs {
		if a.SubnetID == subnetID {
			return a, true, nil
		}
	}
	return store.RouteTableAssociation{}, false, nil
}

// association is a subnet or main association found by id.
type association struct {
	id, tableID, vpcID, subnetID string
	main                         bool
}

// findAssociation looks an association id up among the account's tables.
func findAssociation(ctx context.Context, tx *store.Tx, account, id string) (association, error) {
	if err := checkID(id, "rtbassoc", "InvalidAssociationID.Malformed"); err != nil {
		return association{}, err
	}
	tables, err := tx.ListRouteTables(ctx, account)
	if err != nil {
		return association{}, err
	}
	for _, t := range tables {
		if t.MainAssociationID == id {
			return association{id: id, tableID: t.ID, vpcID: t.VPCID, main: true}, nil
		}
		for _, a := range t.Associations {
			if a.ID == id {
				return association{id: id, tableID: t.ID, vpcID: t.VPCID, subnetID: a.SubnetID}, nil
			}
		}
	}
	return association{}, errAssociationNotFound(id)
}

// DisassociateRouteTable returns a subnet to its VPC's main table.
func (s *Service) DisassociateRouteTable(ctx context.Context, in *ec2api.DisassociateRouteTableRequest) (*ec2api.DisassociateRouteTableOutput, error) {
	id := deref(in.AssociationId)
	err := s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		a, err := findAssociation(ctx, tx, account, id)
		if err != nil {
			return err
		}
		if a.main {
			return invalid("cannot disassociate the main route table association %s", id)
		}
		return tx.DeleteRouteTableAssociation(ctx, account, id)
	})
	return &ec2api.DisassociateRouteTableOutput{}, err
}

// ReplaceRouteTableAssociation moves a subnet, or the VPC's main
// association, to another table of the same VPC, under a new association id.
func (s *Service) ReplaceRouteTableAssociation(ctx context.Context, in *ec2api.ReplaceRouteTableAssociationRequest) (*ec2api.ReplaceRouteTableAssociationResult, error) {
	id := deref(in.AssociationId)
	newID := ids.Resource("rtbassoc")
	err := s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		a, err := findAssociation(ctx, tx, account, id)
		if err != nil {
			return err
		}
		t, err := getRouteTable(ctx, tx, account, deref(in.RouteTableId))
		if err != nil {
			return err
		}
		if t.VPCID != a.vpcID {
			return invalid("Route table %s and association %s belong to different networks", t.ID, id)
		}
		if a.main {
			return tx.SetMainRouteTable(ctx, account, t.VPCID, t.ID, newID)
		}
		if err := tx.DeleteRouteTableAssociation(ctx, account, id); err != nil {
			return err
		}
		return tx.InsertRouteTableAssociation(ctx, store.RouteTableAssociation{ID: newID, AccountID: account,
			RouteTableID: t.ID, SubnetID: a.subnetID, CreatedAt: time.Now().UTC()})
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceRouteTableAssociationResult{NewAssociationId: str(newID), AssociationState: associated()}, nil
}
