package ec2

import (
	"context"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Network ACLs: every VPC has a default ACL (allow all, then "*" deny all,
// both ways) that every subnet without another ACL is associated with.
// Nodes enforce them statelessly (internal/sgfilter/nacl.go).

const typeNetworkACL = "network-acl"

func errNetworkACLNotFound(id string) error {
	return apiErr("InvalidNetworkAclID.NotFound", "The networkAcl ID '%s' does not exist", id)
}

// getNetworkACL finds one of the account's ACLs, with entries and associations.
func getNetworkACL(ctx context.Context, tx *store.Tx, account, id string) (store.NetworkACL, error) {
	if checkID(id, "acl", "") != nil {
		return store.NetworkACL{}, errNetworkACLNotFound(id)
	}
	acls, err := tx.ListNetworkACLs(ctx, account)
	return findOwned(acls, err, id, func(a store.NetworkACL) string { return a.ID }, errNetworkACLNotFound)
}

// createDefaultNetworkACL gives a new VPC its default ACL.
func createDefaultNetworkACL(ctx context.Context, tx *store.Tx, vpc store.VPC) (store.NetworkACL, error) {
	a := store.NetworkACL{ID: ids.Resource("acl"), AccountID: vpc.AccountID, VPCID: vpc.ID, IsDefault: true, CreatedAt: time.Now().UTC()}
	a.Entries = store.DefaultNetworkACLEntries(a.ID)
	return a, tx.InsertNetworkACL(ctx, a)
}

// associateDefaultNetworkACL associates a new subnet with its VPC's
// default ACL (made first if the VPC has none).
func associateDefaultNetworkACL(ctx context.Context, tx *store.Tx, sub store.Subnet) error {
	acls, err := tx.ListNetworkACLs(ctx, sub.AccountID)
	if err != nil {
		return err
	}
	var def store.NetworkACL
	for _, a := range acls {
		if a.VPCID == sub.VPCID && a.IsDefault {
			def = a
		}
	}
	if def.ID == "" {
		vpc, err := tx.GetVPC(ctx, sub.AccountID, sub.VPCID)
		if err != nil {
			return vpcErr(err, sub.VPCID)
		}
		if def, err = createDefaultNetworkACL(ctx, tx, vpc); err != nil {
			return err
		}
	}
	return tx.InsertNetworkACLAssociation(ctx, store.NetworkACLAssociation{ID: ids.Resource("aclassoc"), AccountID: sub.AccountID,
		NetworkACLID: def.ID, SubnetID: sub.ID, CreatedAt: time.Now().UTC()})
}

// ensureNetworkACLs gives every VPC of the account without a default ACL
// one, and every subnet without an association one with its VPC's default
// ACL (VPCs and subnets made by a path that did not).
func ensureNetworkACLs(ctx context.Context, tx *store.Tx, account string) error {
	missing, err := tx.NetworkACLsMissing(ctx, account)
	if err != nil || !missing {
		return err
	}
	acls, err := tx.ListNetworkACLs(ctx, account)
	if err != nil {
		return err
	}
	hasDefault, associated := map[string]bool{}, map[string]bool{}
	for _, a := range acls {
		hasDefault[a.VPCID] = hasDefault[a.VPCID] || a.IsDefault
		for _, as := range a.Associations {
			associated[as.SubnetID] = true
		}
	}
	vpcs, err := tx.ListVPCs(ctx, account)
	if err != nil {
		return err
	}
	for _, v := range vpcs {
		if !hasDefault[v.ID] {
			if _, err := createDefaultNetworkACL(ctx, tx, v); err != nil {
				return err
			}
		}
	}
	subnets, err := tx.ListSubnets(ctx, account)
	if err != nil {
		return err
	}
	for _, sn := range subnets {
		if !associated[sn.ID] {
			if err := associateDefaultNetworkACL(ctx, tx, sn); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteVPCNetworkACLs is DeleteVpc's part: it refuses while the VPC has
// an ACL other than its default one, and deletes the default one.
func deleteVPCNetworkACLs(ctx context.Context, tx *store.Tx, account, vpcID string) error {
	acls, err := tx.ListNetworkACLs(ctx, account)
	if err != nil {
		return err
	}
	for _, a := range acls {
		if a.VPCID == vpcID && !a.IsDefault {
			return errDependency("The vpc '%s' has dependencies and cannot be deleted.", vpcID)
		}
	}
	for _, a := range acls {
		if a.VPCID == vpcID {
			if len(a.Associations) > 0 {
				return errDependency("The vpc '%s' has dependencies and cannot be deleted.", vpcID)
			}
			if err := tx.DeleteNetworkACL(ctx, account, a.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateNetworkAcl makes a non-default ACL in a VPC, denying everything
// until entries are added. A ClientToken seen before returns its ACL.
func (s *Service) CreateNetworkAcl(ctx context.Context, in *ec2api.CreateNetworkAclRequest) (*ec2api.CreateNetworkAclResult, error) {
	vpcID := deref(in.VpcId)
	if vpcID == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter vpcId")
	}
	if err := checkID(vpcID, "vpc", "InvalidVpcID.Malformed"); err != nil {
		return nil, err
	}
	token := deref(in.ClientToken)
	if len(token) > 64 {
		return nil, invalid("Value (%s) for parameter clientToken is invalid. The length of the client token must not exceed 64 characters.", token)
	}
	tags, err := specTags(in.TagSpecifications, typeNetworkACL)
	if err != nil {
		return nil, err
	}
	var a store.NetworkACL
	var rows []store.Tag
	err = s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if token != "" {
			found, err := networkACLByToken(ctx, tx, account, token, vpcID)
			if found.ID != "" || err != nil {
				a = found
				if err == nil {
					var byID map[string][]store.Tag
					byID, err = tx.TagsByResource(ctx, account, typeNetworkACL)
					rows = byID[a.ID]
				}
				return err
			}
		}
		vpc, err := tx.GetVPC(ctx, account, vpcID)
		if err != nil {
			return vpcErr(err, vpcID)
		}
		a = store.NetworkACL{ID: ids.Resource("acl"), AccountID: account, VPCID: vpc.ID, ClientToken: token, CreatedAt: time.Now().UTC()}
		a.Entries = store.DenyAllEntries(a.ID)
		if err := tx.InsertNetworkACL(ctx, a); err != nil {
			return err
		}
		rows, err = putTags(ctx, tx, account, a.ID, typeNetworkACL, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.CreateNetworkAclResult{NetworkAcl: apiNetworkACL(a, rows)}
	if token != "" {
		out.ClientToken = str(token)
	}
	return out, nil
}

// networkACLByToken returns the ACL an earlier request with the same
// ClientToken made (zero when none).
func networkACLByToken(ctx context.Context, tx *store.Tx, account, token, vpcID string) (store.NetworkACL, error) {
	acls, err := tx.ListNetworkACLs(ctx, account)
	if err != nil {
		return store.NetworkACL{}, err
	}
	for _, a := range acls {
		if a.ClientToken == token {
			if a.VPCID != vpcID {
				return store.NetworkACL{}, apiErr("IdempotentParameterMismatch", "The client token %s was used with different parameters.", token)
			}
			return a, nil
		}
	}
	return store.NetworkACL{}, nil
}

// DeleteNetworkAcl removes a non-default ACL no subnet is associated with.
func (s *Service) DeleteNetworkAcl(ctx context.Context, in *ec2api.DeleteNetworkAclRequest) (*ec2api.DeleteNetworkAclOutput, error) {
	id := deref(in.NetworkAclId)
	if id == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter networkAclId")
	}
	err := s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		a, err := getNetworkACL(ctx, tx, account, id)
		if err != nil {
			return err
		}
		if a.IsDefault {
			return invalid("cannot delete default network ACL %s", id)
		}
		if len(a.Associations) > 0 {
			return errDependency("The networkAcl '%s' has dependencies and cannot be deleted.", id)
		}
		return tx.DeleteNetworkACL(ctx, account, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteNetworkAclOutput{}, nil
}

// ReplaceNetworkAclAssociation moves a subnet to another ACL of its VPC,
// under a new association id.
func (s *Service) ReplaceNetworkAclAssociation(ctx context.Context, in *ec2api.ReplaceNetworkAclAssociationRequest) (*ec2api.ReplaceNetworkAclAssociationResult, error) {
	id, aclID := deref(in.AssociationId), deref(in.NetworkAclId)
	switch {
	case id == "":
		return nil, apiErr("MissingParameter", "The request must contain the parameter associationId")
	case aclID == "":
		return nil, apiErr("MissingParameter", "The request must contain the parameter networkAclId")
	}
	newID := ids.Resource("aclassoc")
	err := s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if err := ensureNetworkACLs(ctx, tx, account); err != nil {
			return err
		}
		cur, err := findNetworkACLAssociation(ctx, tx, account, id)
		if err != nil {
			return err
		}
		a, err := getNetworkACL(ctx, tx, account, aclID)
		if err != nil {
			return err
		}
		sub, err := getSubnet(ctx, tx, account, cur.SubnetID)
		if err != nil {
			return err
		}
		if sub.VPCID != a.VPCID {
			return invalid("Network ACL %s and subnet %s belong to different networks", a.ID, sub.ID)
		}
		if err := tx.DeleteNetworkACLAssociation(ctx, account, id); err != nil {
			return err
		}
		return tx.InsertNetworkACLAssociation(ctx, store.NetworkACLAssociation{ID: newID, AccountID: account,
			NetworkACLID: a.ID, SubnetID: sub.ID, CreatedAt: time.Now().UTC()})
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceNetworkAclAssociationResult{NewAssociationId: str(newID)}, nil
}

func findNetworkACLAssociation(ctx context.Context, tx *store.Tx, account, id string) (store.NetworkACLAssociation, error) {
	notFound := func(id string) error { return errAssociationNotFound(id) }
	if checkID(id, "aclassoc", "") != nil {
		return store.NetworkACLAssociation{}, notFound(id)
	}
	list, err := tx.ListNetworkACLAssociations(ctx, account)
	return findOwned(list, err, id, func(a store.NetworkACLAssociation) string { return a.ID }, notFound)
}

// networkACLExists is CreateTags' check for acl- ids.
func networkACLExists(ctx context.Context, tx *store.Tx, account, id string) error {
	_, err := getNetworkACL(ctx, tx, account, id)
	return err
}
