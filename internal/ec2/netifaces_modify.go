package ec2

import (
	"context"
	"strings"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/store"
)

// eniChange is the one attribute a ModifyNetworkInterfaceAttribute sets.
type eniChange func(ctx context.Context, tx *store.Tx, n *store.NetworkInterface) error

func parseENIChange(in *ec2api.ModifyNetworkInterfaceAttributeRequest) (eniChange, error) {
	var names []string
	var change eniChange
	if in.Description != nil {
		names = append(names, "description")
		d := deref(in.Description.Value)
		if len(d) > maxDescription {
			return nil, invalid("Value for parameter Description is too long (maximum %d characters).", maxDescription)
		}
		change = func(_ context.Context, _ *store.Tx, n *store.NetworkInterface) error { n.Description = d; return nil }
	}
	if in.SourceDestCheck != nil {
		names = append(names, "sourceDestCheck")
		if in.SourceDestCheck.Value == nil {
			return nil, apiErr("MissingParameter", "The request must contain the parameter SourceDestCheck.Value")
		}
		b := *in.SourceDestCheck.Value
		change = func(_ context.Context, _ *store.Tx, n *store.NetworkInterface) error {
			n.NoSourceDestCheck = !b
			return nil
		}
	}
	if len(in.Groups) > 0 {
		names = append(names, "groupSet")
		change = setENIGroups(in.Groups)
	}
	if in.Attachment != nil {
		names = append(names, "attachment")
		change = setDeleteOnTermination(in.Attachment)
	}
	switch {
	case in.AssociatePublicIpAddress != nil || in.EnaSrdSpecification != nil || in.ConnectionTrackingSpecification != nil || in.EnablePrimaryIpv6 != nil:
		return nil, apiErr("UnsupportedOperation", "Only the attributes description, sourceDestCheck, groupSet and attachment can be modified.")
	case len(names) == 0:
		return nil, apiErr("MissingParameter", "The request must contain exactly one of the parameters Description, SourceDestCheck, SecurityGroupId or Attachment")
	case len(names) > 1:
		return nil, apiErr("InvalidParameterCombination", "Fields for multiple attribute types specified: %s", strings.Join(names, ", "))
	}
	return change, nil
}

// setENIGroups replaces an interface's groups with groups of its VPC; a
// primary interface's groups are its instance's.
func setENIGroups(ids []string) eniChange {
	return func(ctx context.Context, tx *store.Tx, n *store.NetworkInterface) error {
		groups, err := vpcGroups(ctx, tx, n.AccountID, n.VPCID, ids)
		if err != nil {
			return err
		}
		n.GroupIDs = groups
		if n.Primary() {
			return tx.SetInstanceSecurityGroups(ctx, n.InstanceID, groups)
		}
		return tx.SetNetworkInterfaceGroups(ctx, n.ID, groups)
	}
}

func setDeleteOnTermination(a *ec2api.NetworkInterfaceAttachmentChanges) eniChange {
	return func(_ context.Context, _ *store.Tx, n *store.NetworkInterface) error {
		id := deref(a.AttachmentId)
		switch {
		case id == "":
			return apiErr("MissingParameter", "The request must contain the parameter Attachment.AttachmentId")
		case a.DeleteOnTermination == nil:
			return apiErr("MissingParameter", "The request must contain the parameter Attachment.DeleteOnTermination")
		case !n.Attached() || n.AttachmentID != id:
			return errAttachmentNotFound(id)
		}
		n.DeleteOnTermination = *a.DeleteOnTermination
		return nil
	}
}

// ModifyNetworkInterfaceAttribute sets one of an interface's description,
// source/destination check, security groups, or its attachment's
// DeleteOnTermination.
func (s *Service) ModifyNetworkInterfaceAttribute(ctx context.Context, in *ec2api.ModifyNetworkInterfaceAttributeRequest) (*ec2api.ModifyNetworkInterfaceAttributeOutput, error) {
	if err := checkENIID(deref(in.NetworkInterfaceId)); err != nil {
		return nil, err
	}
	change, err := parseENIChange(in)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		n, err := settledENI(ctx, tx, account, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		if err := change(ctx, tx, &n); err != nil {
			return err
		}
		return tx.UpdateNetworkInterface(ctx, n)
	})
	if err != nil {
		return nil, err
	}
	s.notifyAll() // groups change other nodes' member sets too
	return &ec2api.ModifyNetworkInterfaceAttributeOutput{}, nil
}
