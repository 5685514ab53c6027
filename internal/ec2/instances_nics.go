package ec2

import (
	"context"
	"slices"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// launchNIC is an interface RunInstances attaches beyond the primary: an
// existing one (eniID) or a new one described by req (its subnet ” means
// the instance's).
type launchNIC struct {
	specified           bool // read from NetworkInterfaces (a new interface)
	index               int
	eniID               string
	req                 eniRequest
	deleteOnTermination bool
}

// mergeInterfaceSpec reads NetworkInterfaces: device 0 folds into the
// top-level subnet, groups and address (or names an existing interface),
// the others become l.nics. Device indexes are unique and include 0.
func mergeInterfaceSpec(l *launch, specs []ec2api.InstanceNetworkInterfaceSpecification) error {
	if len(specs) == 0 {
		return nil
	}
	if l.subnetID != "" || len(l.groupIDs) > 0 || len(l.groupNames) > 0 || l.privateIP != "" {
		return apiErr("InvalidParameterCombination", "Network interfaces and an instance-level subnet ID, security groups or private IP address may not be specified on the same request")
	}
	seen := map[int]bool{}
	for _, n := range specs {
		index, err := nicIndex(n, len(specs))
		if err != nil {
			return err
		}
		if seen[index] {
			return invalid("Each network interface requires a unique device index (%d is given twice).", index)
		}
		seen[index] = true
		if err := checkNICSpec(n, index); err != nil {
			return err
		}
		nic, err := parseLaunchNIC(n, index)
		if err != nil {
			return err
		}
		if index == 0 {
			l.subnetID, l.groupIDs, l.privateIP = nic.req.subnetID, nic.req.groups, nic.req.primary
			l.primaryENI, l.publicIP, l.primary = nic.eniID, n.AssociatePublicIpAddress, nic
			continue
		}
		l.nics = append(l.nics, nic)
	}
	if !seen[0] {
		return invalid("When specifying network interfaces, one of them must have device index 0.")
	}
	slices.SortFunc(l.nics, func(a, b launchNIC) int { return a.index - b.index })
	return nil
}

func nicIndex(n ec2api.InstanceNetworkInterfaceSpecification, count int) (int, error) {
	switch {
	case n.DeviceIndex == nil && count == 1:
		return 0, nil
	case n.DeviceIndex == nil:
		return 0, apiErr("MissingParameter", "Each network interface requires a device index.")
	case *n.DeviceIndex < 0:
		return 0, invalid("Value (%d) for parameter DeviceIndex is invalid.", *n.DeviceIndex)
	}
	return int(*n.DeviceIndex), nil
}

// checkNICSpec applies the rules every entry shares.
func checkNICSpec(n ec2api.InstanceNetworkInterfaceSpecification, index int) error {
	switch {
	case n.NetworkCardIndex != nil && *n.NetworkCardIndex != 0:
		return invalid("Value (%d) for parameter NetworkCardIndex is invalid. The instance type supports one network card.", *n.NetworkCardIndex)
	case n.AssociatePublicIpAddress != nil && index != 0:
		return apiErr("InvalidParameterCombination", "The associatePublicIPAddress parameter can only be specified for the network interface with DeviceIndex 0.")
	case n.NetworkInterfaceId != nil && (n.SubnetId != nil || len(n.Groups) > 0 || n.PrivateIpAddress != nil || len(n.PrivateIpAddresses) > 0 ||
		n.SecondaryPrivateIpAddressCount != nil):
		return apiErr("InvalidParameterCombination", "A network interface ID and a subnet, security groups or private addresses may not be given for the same network interface.")
	case len(n.Ipv6Addresses) > 0 || deref32(n.Ipv6AddressCount) > 0:
		return apiErr("UnsupportedOperation", "IPv6 addresses are not supported by Kumo yet.")
	}
	return nil
}

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// parseLaunchNIC reads a further interface: an existing one (kept after
// termination unless DeleteOnTermination) or a new one (deleted with the
// instance unless DeleteOnTermination=false), as EC2.
func parseLaunchNIC(n ec2api.InstanceNetworkInterfaceSpecification, index int) (launchNIC, error) {
	nic := launchNIC{index: index, eniID: deref(n.NetworkInterfaceId)}
	if nic.eniID != "" {
		nic.deleteOnTermination = deref2(n.DeleteOnTermination)
		return nic, checkENIID(nic.eniID)
	}
	nic.deleteOnTermination, nic.specified = n.DeleteOnTermination == nil || *n.DeleteOnTermination, true
	r := eniRequest{subnetID: deref(n.SubnetId), description: deref(n.Description), primary: deref(n.PrivateIpAddress), groups: n.Groups}
	if len(r.description) > maxDescription {
		return nic, invalid("Value for parameter Description is too long (maximum %d characters).", maxDescription)
	}
	if r.subnetID != "" {
		if err := checkID(r.subnetID, "subnet", "InvalidSubnetID.Malformed"); err != nil {
			return nic, err
		}
	}
	for _, p := range n.PrivateIpAddresses {
		if deref2(p.Primary) {
			r.primary = deref(p.PrivateIpAddress)
			continue
		}
		r.secondaries = append(r.secondaries, deref(p.PrivateIpAddress))
	}
	if c := deref32(n.SecondaryPrivateIpAddressCount); c < 0 {
		return nic, invalid("Value (%d) for parameter SecondaryPrivateIpAddressCount is invalid. Expected a positive number.", c)
	} else {
		r.count = int(c)
	}
	nic.req = r
	return nic, nil
}

// checkLaunchNICs applies the limits that need the instance type and count.
func checkLaunchNICs(l *launch) error {
	existing := l.primaryENI != ""
	all := append([]launchNIC{l.primary}, l.nics...)
	for _, n := range all {
		existing = existing || n.eniID != ""
		if (n.req.primary != "" || len(n.req.secondaries) > 0) && l.max > 1 {
			return invalid("Value (%d) for parameter maxCount is invalid. Only one instance can be launched with a specific private IP address.", l.max)
		}
	}
	if existing && l.max > 1 {
		return invalid("Value (%d) for parameter maxCount is invalid. Only one instance can be launched with an existing network interface.", l.max)
	}
	lim := limitsOf(l.itype.Name, int(l.itype.VCPUs))
	if n := 1 + len(l.nics); n > lim.interfaces {
		return apiErr("AttachmentLimitExceeded", "Interface count %d exceeds the limit for %s", n, l.itype.Name)
	}
	for _, n := range all {
		if 1+len(n.req.secondaries)+n.req.count > lim.ipsPerInterface {
			return errIPLimit()
		}
	}
	return nil
}

// resolvePrimaryENI takes an existing interface named for device 0: the
// instance launches into its subnet with its security groups.
func resolvePrimaryENI(ctx context.Context, tx *store.Tx, account string, l *launch) error {
	if l.primaryENI == "" {
		return nil
	}
	n, err := settledENI(ctx, tx, account, l.primaryENI)
	if err != nil {
		return err
	}
	if n.Attached() {
		return errENIInUse(n.ID)
	}
	l.subnetID, l.groupIDs = n.SubnetID, n.GroupIDs
	return nil
}

// attachPrimaryENI makes the existing interface l names the instance's
// primary; its groups become the instance's.
func attachPrimaryENI(ctx context.Context, tx *store.Tx, l *launch, inst store.Instance, sn store.Subnet) (store.NetworkInterface, error) {
	n, err := getENI(ctx, tx, inst.AccountID, l.primaryENI)
	if err != nil {
		return n, err
	}
	if n.SubnetID != sn.ID {
		return n, apiErr("InvalidParameterCombination", "The network interface %s is not in subnet %s.", n.ID, sn.ID)
	}
	n.InstanceID, n.DeviceIndex, n.AttachmentID, n.AttachTime, n.DeleteOnTermination = inst.ID, 0, ids.Resource("eni-attach"), inst.CreatedAt, false
	if err := tx.SetNetworkInterfaceGroups(ctx, n.ID, nil); err != nil {
		return n, err
	}
	return n, tx.UpdateNetworkInterface(ctx, n)
}

// finishPrimary gives a new primary interface what NetworkInterface.1
// asked beyond its address: a description, secondary addresses, and
// DeleteOnTermination=false (it then outlives the instance, detached).
func finishPrimary(ctx context.Context, tx *store.Tx, l *launch, n store.NetworkInterface) (store.NetworkInterface, error) {
	r := l.primary.req
	if r.description != "" || (l.primary.specified && !l.primary.deleteOnTermination) {
		n.Description, n.DeleteOnTermination = r.description, !l.primary.specified || l.primary.deleteOnTermination
		if err := tx.UpdateNetworkInterface(ctx, n); err != nil {
			return n, err
		}
	}
	if len(r.secondaries) == 0 && r.count == 0 {
		return n, nil
	}
	sn, err := findSubnet(ctx, tx, n.AccountID, n.SubnetID)
	if err != nil {
		return n, err
	}
	prefix, used, err := subnetSpace(ctx, tx, sn)
	if err != nil {
		return n, err
	}
	ips, err := pickIPs(prefix, used, r.secondaries, r.count)
	if err != nil {
		return n, err
	}
	n.SecondaryIPs = ips
	return n, tx.AddSecondaryIPs(ctx, n, ips)
}

// attachLaunchNICs creates or takes the further interfaces and attaches
// them to the new instance, in the instance's VPC and zone.
func attachLaunchNICs(ctx context.Context, tx *store.Tx, l *launch, inst store.Instance) ([]store.NetworkInterface, error) {
	var out []store.NetworkInterface
	for _, nic := range l.nics {
		n, err := launchNICInterface(ctx, tx, l, inst, nic)
		if err != nil {
			return nil, err
		}
		if n.Attached() {
			return nil, errENIInUse(n.ID)
		}
		if n.Zone != inst.AvailabilityZone {
			return nil, apiErr("InvalidParameterCombination",
				"You may not attach a network interface to an instance if they are not in the same availability zone")
		}
		if n.VPCID != inst.VPCID {
			return nil, invalid("The network interface %s and the instance %s are not in the same VPC.", n.ID, inst.ID)
		}
		n.InstanceID, n.DeviceIndex, n.AttachmentID, n.AttachTime = inst.ID, nic.index, ids.Resource("eni-attach"), inst.CreatedAt
		n.DeleteOnTermination = nic.deleteOnTermination
		if err := tx.UpdateNetworkInterface(ctx, n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func launchNICInterface(ctx context.Context, tx *store.Tx, l *launch, inst store.Instance, nic launchNIC) (store.NetworkInterface, error) {
	if nic.eniID != "" {
		return settledENI(ctx, tx, inst.AccountID, nic.eniID)
	}
	r := nic.req
	if r.subnetID == "" {
		r.subnetID = inst.SubnetID
	}
	r.tags = l.eniTags
	n, err := createENI(ctx, tx, inst.AccountID, r)
	if err != nil {
		return n, err
	}
	n.CreatedAt = time.Now().UTC()
	return n, nil
}
