package ec2

import (
	"context"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// eniLimits are how many interfaces an instance type takes and how many
// private IPv4 addresses each of them, as AWS's types.
type eniLimits struct{ interfaces, ipsPerInterface int }

// maxDetachedIPs bounds the addresses of an interface attached to nothing
// (its instance type, once attached, bounds it further).
const maxDetachedIPs = 50

var knownENILimits = map[string]eniLimits{
	"t3.nano": {2, 2}, "t3.micro": {2, 2}, "t3.small": {3, 4}, "t3.medium": {3, 6}, "t3.large": {3, 12},
	"t3.xlarge": {4, 15}, "t3.2xlarge": {4, 15}, "m5.large": {3, 10}, "m5.xlarge": {4, 15}, "m5.2xlarge": {4, 15},
}

// limitsOf returns an instance type's interface limits; types outside the
// table get limits by their vCPUs.
func limitsOf(instanceType string, vcpus int) eniLimits {
	if l, ok := knownENILimits[instanceType]; ok {
		return l
	}
	switch {
	case vcpus <= 2:
		return eniLimits{3, 10}
	case vcpus <= 8:
		return eniLimits{4, 15}
	}
	return eniLimits{8, 30}
}

func errIPLimit() error {
	return apiErr("PrivateIpAddressLimitExceeded", "Number of private addresses will exceed limit.")
}

func errAttachmentNotFound(id string) error {
	return apiErr("InvalidAttachmentID.NotFound", "The attachment ID '%s' does not exist", id)
}

// AttachNetworkInterface attaches a detached interface to a running or
// stopped instance of the same VPC and availability zone at a free device
// index, within the instance type's interface limit.
func (s *Service) AttachNetworkInterface(ctx context.Context, in *ec2api.AttachNetworkInterfaceRequest) (*ec2api.AttachNetworkInterfaceResult, error) {
	if in.DeviceIndex == nil {
		return nil, apiErr("MissingParameter", "The request must contain the parameter DeviceIndex")
	}
	index := int(*in.DeviceIndex)
	if index < 0 {
		return nil, invalid("Value (%d) for parameter DeviceIndex is invalid.", index)
	}
	if in.NetworkCardIndex != nil && *in.NetworkCardIndex != 0 {
		return nil, invalid("Value (%d) for parameter NetworkCardIndex is invalid. The instance type supports one network card.", *in.NetworkCardIndex)
	}
	var attachmentID string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		n, err := settledENI(ctx, tx, account, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		if deref(in.InstanceId) == "" {
			return apiErr("MissingParameter", "The request must contain the parameter InstanceId")
		}
		insts, err := accountInstances(ctx, tx, account, []string{deref(in.InstanceId)})
		if err != nil {
			return err
		}
		inst := insts[0]
		if err := checkAttach(ctx, tx, n, inst, index); err != nil {
			return err
		}
		n.InstanceID, n.DeviceIndex, n.AttachTime, n.DeleteOnTermination = inst.ID, index, time.Now().UTC(), false
		n.AttachmentID = ids.Resource("eni-attach")
		attachmentID = n.AttachmentID
		return tx.UpdateNetworkInterface(ctx, n)
	})
	if err != nil {
		return nil, err
	}
	s.notifyAll() // the node hot-plugs it; its addresses join its groups and the VPC's peers
	return &ec2api.AttachNetworkInterfaceResult{AttachmentId: str(attachmentID), NetworkCardIndex: i32(0)}, nil
}

// checkAttach applies EC2's rules to attaching n to inst at index.
func checkAttach(ctx context.Context, tx *store.Tx, n store.NetworkInterface, inst store.Instance, index int) error {
	if n.Attached() {
		return errENIInUse(n.ID)
	}
	switch instancestate.State(inst.State) {
	case instancestate.Running, instancestate.Stopped:
	default:
		return apiErr("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", inst.ID)
	}
	if n.Zone != inst.AvailabilityZone {
		return apiErr("InvalidParameterCombination",
			"You may not attach a network interface to an instance if they are not in the same availability zone")
	}
	if n.VPCID != inst.VPCID {
		return invalid("The network interface %s and the instance %s are not in the same VPC.", n.ID, inst.ID)
	}
	attached, err := tx.InstanceNetworkInterfaces(ctx, inst.ID)
	if err != nil {
		return err
	}
	for _, a := range attached {
		if a.DeviceIndex == index {
			return invalid("Instance '%s' already has an interface attached at device index '%d'.", inst.ID, index)
		}
	}
	lim := limitsOf(inst.InstanceType, inst.VCPUs)
	if len(attached)+1 > lim.interfaces {
		return apiErr("AttachmentLimitExceeded", "Interface count %d exceeds the limit for %s", len(attached)+1, inst.InstanceType)
	}
	if len(n.AllIPs()) > lim.ipsPerInterface {
		return errIPLimit()
	}
	return nil
}

// findAttachment finds the account's interface with an attachment id.
func findAttachment(ctx context.Context, tx *store.Tx, account, id string) (store.NetworkInterface, error) {
	if id == "" {
		return store.NetworkInterface{}, apiErr("MissingParameter", "The request must contain the parameter AttachmentId")
	}
	if err := checkID(id, "eni-attach", "InvalidAttachmentID.Malformed"); err != nil {
		return store.NetworkInterface{}, err
	}
	list, err := tx.ListNetworkInterfaces(ctx, account)
	if err != nil {
		return store.NetworkInterface{}, err
	}
	for _, n := range list {
		if n.Attached() && n.AttachmentID == id {
			return n, nil
		}
	}
	return store.NetworkInterface{}, errAttachmentNotFound(id)
}

// DetachNetworkInterface detaches an interface other than an instance's
// primary (OperationNotPermitted). Force changes nothing: detaching never
// waits on the guest.
func (s *Service) DetachNetworkInterface(ctx context.Context, in *ec2api.DetachNetworkInterfaceRequest) (*ec2api.DetachNetworkInterfaceOutput, error) {
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if err := tx.SettleTerminatedInterfaces(ctx, account); err != nil {
			return err
		}
		n, err := findAttachment(ctx, tx, account, deref(in.AttachmentId))
		if err != nil {
			return err
		}
		if n.DeviceIndex == 0 {
			return apiErr("OperationNotPermitted", "The network interface at device index 0 cannot be detached.")
		}
		n.InstanceID, n.DeviceIndex, n.AttachmentID, n.AttachTime, n.DeleteOnTermination = "", 0, "", time.Time{}, false
		return tx.UpdateNetworkInterface(ctx, n)
	})
	if err != nil {
		return nil, err
	}
	s.notifyAll()
	return &ec2api.DetachNetworkInterfaceOutput{}, nil
}
