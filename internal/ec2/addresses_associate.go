package ec2

import (
	"context"
	"errors"
	"slices"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// eipTarget is the private address an elastic IP is to map to.
type eipTarget struct {
	eni       store.NetworkInterface
	privateIP string
	node      string // the node hosting the interface's instance, '' if none
}

// AssociateAddress maps an elastic IP to a private address of an
// instance's (or a network interface's) interface. An address already
// associated elsewhere moves only with AllowReassociation
// (Resource.AlreadyAssociated otherwise); an elastic IP already on the
// target private address is disassociated and stays allocated. Associating
// again with the same target is idempotent. An elastic IP on an
// interface's primary address replaces its auto-assigned public IP; the
// instance it leaves gets a new one (publicips.go). Instances may be pending,
// running, stopping or stopped. The interface's VPC needs an attached
// internet gateway (Gateway.NotAttached otherwise, as EC2).
func (s *Service) AssociateAddress(ctx context.Context, in *ec2api.AssociateAddressRequest) (*ec2api.AssociateAddressResult, error) {
	if err := checkEIPAssociate(in); err != nil {
		return nil, err
	}
	var assocID string
	var nodes []string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		list, err := tx.ListAddresses(ctx, account)
		if err != nil {
			return err
		}
		a, err := findEIP(list, deref(in.AllocationId), deref(in.PublicIp))
		if err != nil {
			return err
		}
		target, err := resolveEIPTarget(ctx, tx, account, in)
		if err != nil {
			return err
		}
		if err := requireInternetGateway(ctx, tx, account, target.eni.VPCID); err != nil {
			return err
		}
		if a.Associated() {
			if a.NetworkInterfaceID == target.eni.ID && a.PrivateIP == target.privateIP {
				assocID = a.AssociationID
				return nil
			}
			if in.AllowReassociation == nil || !*in.AllowReassociation {
				return apiErr("Resource.AlreadyAssociated", "resource %s is already associated with associate-id %s", a.AllocationID, a.AssociationID)
			}
			nodes = append(nodes, eipInstanceNode(ctx, tx, account, a.InstanceID))
		}
		// The target's current elastic IP, if any, gives way.
		for _, other := range list {
			if other.Associated() && other.AllocationID != a.AllocationID &&
				other.NetworkInterfaceID == target.eni.ID && other.PrivateIP == target.privateIP {
				if err := tx.SetAddressAssociation(ctx, store.Address{AccountID: account, AllocationID: other.AllocationID}); err != nil {
					return err
				}
			}
		}
		assocID = ids.Resource("eipassoc")
		nodes = append(nodes, target.node)
		if err := tx.SetAddressAssociation(ctx, store.Address{AccountID: account, AllocationID: a.AllocationID,
			AssociationID: assocID, NetworkInterfaceID: target.eni.ID, PrivateIP: target.privateIP}); err != nil {
			return err
		}
		return s.eipReplacesPublicIP(ctx, tx, account, a, target)
	})
	if err != nil {
		return nil, err
	}
	s.notify(nodes...)
	return &ec2api.AssociateAddressResult{AssociationId: str(assocID)}, nil
}

func checkEIPAssociate(in *ec2api.AssociateAddressRequest) error {
	alloc, inst, eni := deref(in.AllocationId), deref(in.InstanceId), deref(in.NetworkInterfaceId)
	switch {
	case alloc == "" && deref(in.PublicIp) == "":
		return apiErr("MissingParameter", "Either public IP or allocation id must be specified")
	case inst == "" && eni == "":
		return apiErr("MissingParameter", "Either instance ID or network interface id must be specified")
	case inst != "" && eni != "":
		return apiErr("InvalidParameterCombination", "You may specify either an instance ID or a network interface ID, but not both")
	case alloc != "":
		if err := checkID(alloc, "eipalloc", "InvalidAllocationID.Malformed"); err != nil {
			return err
		}
	}
	if inst != "" {
		return checkInstanceID(inst)
	}
	return checkID(eni, "eni", "InvalidNetworkInterfaceID.Malformed")
}

// resolveEIPTarget finds the interface and private address a request names.
func resolveEIPTarget(ctx context.Context, tx *store.Tx, account string, in *ec2api.AssociateAddressRequest) (eipTarget, error) {
	var t eipTarget
	var err error
	if id := deref(in.InstanceId); id != "" {
		t.eni, err = eipInstanceInterface(ctx, tx, account, id)
	} else {
		t.eni, err = eipInterface(ctx, tx, account, deref(in.NetworkInterfaceId))
	}
	if err != nil {
		return t, err
	}
	if t.eni.InstanceID != "" {
		inst, err := tx.GetInstance(ctx, account, t.eni.InstanceID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return t, err
		}
		if err == nil && !eipAssociable(inst.State) {
			return t, apiErr("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", inst.ID)
		}
		t.node = inst.NodeID
	}
	t.privateIP = t.eni.PrivateIP
	if want := deref(in.PrivateIpAddress); want != "" && want != t.privateIP {
		if !slices.Contains(t.eni.SecondaryIPs, want) {
			return t, invalid("The private IP address %s is not assigned to network interface %s.", want, t.eni.ID)
		}
		t.privateIP = want
	}
	return t, nil
}

// eipAssociable: EC2 associates elastic IPs with instances that are not
// shutting down or terminated.
func eipAssociable(state string) bool {
	switch instancestate.State(state) {
	case instancestate.ShuttingDown, instancestate.Terminated:
		return false
	}
	return true
}

// eipInstanceInterface returns an instance's only interface; an instance
// with several needs NetworkInterfaceId (InvalidInstanceID, as EC2).
func eipInstanceInterface(ctx context.Context, tx *store.Tx, account, id string) (store.NetworkInterface, error) {
	insts, err := accountInstances(ctx, tx, account, []string{id})
	if err != nil {
		return store.NetworkInterface{}, err
	}
	if !eipAssociable(insts[0].State) {
		return store.NetworkInterface{}, apiErr("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", id)
	}
	enis, err := tx.InstanceNetworkInterfaces(ctx, id)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	switch len(enis) {
	case 0:
		return store.NetworkInterface{}, apiErr("InvalidInstanceID", "The instance '%s' has no network interface.", id)
	case 1:
		return enis[0], nil
	}
	return store.NetworkInterface{}, apiErr("InvalidInstanceID",
		"There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", id)
}

// eipReplacesPublicIP releases the target's auto-assigned public IP when
// the elastic IP lands on its primary address, and gives the instance the
// elastic IP moved away from (if any) a new one.
func (s *Service) eipReplacesPublicIP(ctx context.Context, tx *store.Tx, account string, moved store.Address, target eipTarget) error {
	if target.privateIP == target.eni.PrivateIP {
		if err := tx.DeleteInterfacePublicIPs(ctx, target.eni.ID); err != nil {
			return err
		}
	}
	if moved.Associated() && moved.InstanceID != target.eni.InstanceID {
		return s.restorePublicIP(ctx, tx, account, moved.InstanceID)
	}
	return nil
}
