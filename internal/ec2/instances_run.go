package ec2

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/scheduler"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Launch limits.
const (
	// MaxUserDataBytes is EC2's limit on decoded user data.
	MaxUserDataBytes = 16 * 1024
	// maxLaunchCount bounds one RunInstances call (EC2's default quota
	// answers InstanceLimitExceeded beyond what the account may run).
	maxLaunchCount = 1000
	// defaultRootGiB is the root disk of an image that maps none (a
	// kernel+ramdisk image), as EC2's default root volume size.
	defaultRootGiB = 8
	// defaultRootDevice names the root disk of an image that names none.
	defaultRootDevice = "/dev/xvda"
)

// launch is a validated RunInstances request.
type launch struct {
	min, max    int
	token       string
	itype       InstanceType
	userData    string // base64, canonical
	shutdown    string
	noTerminate bool
	zone        string // Placement.AvailabilityZone
	subnetID    string
	privateIP   string
	groupIDs    []string
	groupNames  []string
	instTags    []ec2api.Tag
	eniTags     []ec2api.Tag
	rootSize    int64       // from the request's mapping of the root device; 0 = image's
	publicIP    *bool       // NetworkInterface.1.AssociatePublicIpAddress; nil = the subnet's choice
	credits     string      // CreditSpecification.CpuCredits; '' = the type's default
	primaryENI  string      // an existing interface for device 0
	primary     launchNIC   // NetworkInterface with device 0, when given
	nics        []launchNIC // further interfaces, by device index

	// Resolved in the transaction.
	image   store.Image
	keyName string
	subnets map[string]store.Subnet // zone -> the subnet to use there
	vpcID   string
	groups  map[string]string // id -> name, of the whole account
	root    rootDisk
	volumes []launchVolume // further EBS volumes, by device
	volTags []ec2api.Tag   // TagSpecifications for volumes
	ipPool  *publicIPPool  // opened by the first instance given a public IP
}

type rootDisk struct {
	name, kind, snapshot string
	size                 int64
	perf                 volumePerf // the root volume's type and performance
}

// RunInstances launches MinCount..MaxCount instances of an image, placing
// each on a node in the same transaction that records it.
func (s *Service) RunInstances(ctx context.Context, in *ec2api.RunInstancesRequest) (*ec2api.Reservation, error) {
	l, err := s.parseLaunch(in)
	if err != nil {
		return nil, err
	}
	var views []instanceView
	var nodes []string
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		var done bool
		if views, done, err = s.replayLaunch(ctx, tx, account, l, in); done || err != nil {
			return err
		}
		if err := s.resolveLaunch(ctx, tx, account, l, in); err != nil {
			return err
		}
		views, err = s.createInstances(ctx, tx, account, l)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, v := range views {
		nodes = append(nodes, v.NodeID)
	}
	s.notify(nodes...)
	return &ec2api.Reservation{ReservationId: str(views[0].ReservationID), OwnerId: str(views[0].owner),
		Groups: []ec2api.GroupIdentifier{}, Instances: s.reservations(views)[0].Instances}, nil
}

func (s *Service) parseLaunch(in *ec2api.RunInstancesRequest) (*launch, error) {
	l := &launch{token: deref(in.ClientToken), shutdown: deref(in.InstanceInitiatedShutdownBehavior), noTerminate: deref2(in.DisableApiTermination),
		subnetID: deref(in.SubnetId), privateIP: deref(in.PrivateIpAddress), groupIDs: in.SecurityGroupIds, groupNames: in.SecurityGroups}
	if err := parseCounts(l, in.MinCount, in.MaxCount); err != nil {
		return nil, err
	}
	if len(l.token) > 64 {
		return nil, invalid("Value (%s) for parameter clientToken is invalid. The length of the client token must not exceed 64 characters.", l.token)
	}
	if err := checkUnsupportedLaunch(in); err != nil {
		return nil, err
	}
	if err := mergeInterfaceSpec(l, in.NetworkInterfaces); err != nil {
		return nil, err
	}
	var err error
	if l.itype, err = s.instanceType(deref(in.InstanceType)); err != nil {
		return nil, err
	}
	if l.credits, err = launchCredits(in.CreditSpecification, l.itype); err != nil {
		return nil, err
	}
	if err := checkLaunchNICs(l); err != nil {
		return nil, err
	}
	if l.userData, err = parseUserData(in.UserData); err != nil {
		return nil, err
	}
	switch l.shutdown {
	case "":
		l.shutdown = string(instancestate.ShutdownStop)
	case string(instancestate.ShutdownStop), string(instancestate.ShutdownTerminate):
	default:
		return nil, invalid("Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values: stop, terminate.", l.shutdown)
	}
	if in.Placement != nil {
		l.zone = deref(in.Placement.AvailabilityZone)
		if l.zone != "" && !slices.Contains(s.Cfg.Zones, l.zone) {
			return nil, invalid("Invalid availability zone: [%s]", l.zone)
		}
		if t := deref(in.Placement.Tenancy); t != "" && t != "default" {
			return nil, apiErr("UnsupportedOperation", "Tenancy '%s' is not supported; Kumo offers default tenancy only.", t)
		}
	}
	if l.instTags, l.eniTags, l.volTags, err = launchTags(in.TagSpecifications); err != nil {
		return nil, err
	}
	if l.privateIP != "" && l.max > 1 {
		return nil, invalid("Value (%d) for parameter maxCount is invalid. Only one instance can be launched with a specific private IP address.", l.max)
	}
	return l, nil
}

func parseCounts(l *launch, min, max *int32) error {
	if min == nil {
		return apiErr("MissingParameter", "The request must contain the parameter MinCount")
	}
	if max == nil {
		return apiErr("MissingParameter", "The request must contain the parameter MaxCount")
	}
	switch {
	case *min < 1:
		return invalid("Value (%d) for parameter minCount is invalid. Expected a positive integer.", *min)
	case *max < 1:
		return invalid("Value (%d) for parameter maxCount is invalid. Expected a positive integer.", *max)
	case *max < *min:
		return invalid("Value (%d) for parameter maxCount is invalid. Expected a value greater than or equal to minCount (%d).", *max, *min)
	case *min > maxLaunchCount:
		return apiErr("InstanceLimitExceeded", "Your quota allows for %d more running instance(s). You requested at least %d.", maxLaunchCount, *min)
	}
	l.min, l.max = int(*min), int(min32(*max, maxLaunchCount))
	return nil
}

func min32(a, b int32) int32 {
	if a < b {
		return a
	}
	return b
}

// checkUnsupportedLaunch refuses options Kumo cannot honour rather than
// ignoring them silently.
func checkUnsupportedLaunch(in *ec2api.RunInstancesRequest) error {
	switch {
	case in.LaunchTemplate != nil:
		return apiErr("UnsupportedOperation", "Launch templates are not supported by Kumo yet.")
	case in.InstanceMarketOptions != nil:
		return apiErr("UnsupportedOperation", "Spot instances are not supported by Kumo.")
	case in.Ipv6AddressCount != nil && *in.Ipv6AddressCount > 0, len(in.Ipv6Addresses) > 0:
		return apiErr("UnsupportedOperation", "IPv6 addresses are not supported by Kumo yet.")
	case in.KernelId != nil || in.RamdiskId != nil:
		return apiErr("UnsupportedOperation", "KernelId and RamdiskId come from the image in Kumo; register an image with them instead.")
	}
	return nil
}

// instanceType finds a type in the catalogue; "" is t3.micro when the
// catalogue has it, else its first type.
func (s *Service) instanceType(name string) (InstanceType, error) {
	if name == "" {
		name = "t3.micro"
		if !slices.ContainsFunc(s.Cfg.InstanceTypes, func(t InstanceType) bool { return t.Name == name }) && len(s.Cfg.InstanceTypes) > 0 {
			name = s.Cfg.InstanceTypes[0].Name
		}
	}
	for _, t := range s.Cfg.InstanceTypes {
		if t.Name == name {
			return t, nil
		}
	}
	return InstanceType{}, invalid("Invalid value '%s' for InstanceType.", name)
}

// parseUserData checks base64 user data and its decoded size.
func parseUserData(p *string) (string, error) {
	if p == nil || *p == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(*p), ""))
	if err != nil {
		return "", invalid("Invalid BASE64 encoding of user data.")
	}
	if len(raw) > MaxUserDataBytes {
		return "", invalid("User data is limited to %d bytes", MaxUserDataBytes)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// launchTags splits TagSpecifications by resource type: the instance's,
// its interface's and its volumes'.
func launchTags(specs []ec2api.TagSpecification) (inst, eni, vol []ec2api.Tag, err error) {
	for _, sp := range specs {
		var dst *[]ec2api.Tag
		switch deref(sp.ResourceType) {
		case typeInstance:
			dst = &inst
		case typeInterface:
			dst = &eni
		case typeVolume:
			dst = &vol
		default:
			return nil, nil, nil, invalid("'%s' is not a valid taggable resource type for this operation.", deref(sp.ResourceType))
		}
		checked, err := specTags([]ec2api.TagSpecification{{ResourceType: sp.ResourceType, Tags: sp.Tags}}, deref(sp.ResourceType))
		if err != nil {
			return nil, nil, nil, err
		}
		*dst = append(*dst, checked...)
	}
	if len(inst) > MaxTagsPerResource || len(eni) > MaxTagsPerResource || len(vol) > MaxTagsPerResource {
		return nil, nil, nil, apiErr("TagLimitExceeded", "The maximum number of tags for a resource is %d.", MaxTagsPerResource)
	}
	return inst, eni, vol, nil
}

// replayLaunch answers a repeated ClientToken with the original
// reservation, or IdempotentParameterMismatch when the request differs.
func (s *Service) replayLaunch(ctx context.Context, tx *store.Tx, account string, l *launch, in *ec2api.RunInstancesRequest) ([]instanceView, bool, error) {
	if l.token == "" {
		return nil, false, nil
	}
	prior, err := tx.ListInstancesByClientToken(ctx, account, l.token)
	if err != nil || len(prior) == 0 {
		return nil, false, err
	}
	first := prior[0]
	same := first.ImageID == deref(in.ImageId) && first.KeyName == deref(in.KeyName) &&
		(in.InstanceType == nil || first.InstanceType == l.itype.Name) &&
		(l.subnetID == "" || first.SubnetID == l.subnetID) && (l.zone == "" || first.AvailabilityZone == l.zone) &&
		len(prior) >= l.min && len(prior) <= l.max
	if !same {
		return nil, true, apiErr("IdempotentParameterMismatch", "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
	}
	d, err := loadInstanceData(ctx, tx, account)
	if err != nil {
		return nil, true, err
	}
	var views []instanceView
	for _, i := range prior {
		views = append(views, d.view(i))
	}
	return views, true, nil
}

// resolveLaunch checks what the request names against the account's resources.
func (s *Service) resolveLaunch(ctx context.Context, tx *store.Tx, account string, l *launch, in *ec2api.RunInstancesRequest) error {
	if in.ImageId == nil || *in.ImageId == "" {
		return apiErr("MissingParameter", "The request must contain the parameter ImageId")
	}
	im, err := launchableImage(ctx, tx, account, *in.ImageId)
	if err != nil {
		return err
	}
	if im.ImageType != "machine" {
		return invalid("Value (%s) for parameter imageId is invalid. A kernel or ramdisk image cannot be launched.", im.ID)
	}
	if im.State != "available" {
		return apiErr("InvalidAMIID.Unavailable", "The image id '[%s]' is not available (state: %s)", im.ID, im.State)
	}
	l.image = im
	if l.root, l.volumes, err = launchDisks(ctx, tx, account, im, in.BlockDeviceMappings); err != nil {
		return err
	}
	if err := resolveKey(ctx, tx, account, l, in.KeyName); err != nil {
		return err
	}
	if err := resolvePrimaryENI(ctx, tx, account, l); err != nil {
		return err
	}
	if err := s.resolveSubnets(ctx, tx, account, l); err != nil {
		return err
	}
	return resolveGroups(ctx, tx, account, l)
}

func resolveKey(ctx context.Context, tx *store.Tx, account string, l *launch, name *string) error {
	if name == nil || *name == "" {
		return nil
	}
	keys, err := tx.ListKeyPairs(ctx, account)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Name == *name {
			l.keyName = k.Name
			return nil
		}
	}
	return errKeyPairNotFound(*name)
}

// resolveSubnets picks the subnet: the one named, or the default subnet
// of the requested zone, or (no zone) every default subnet, one per zone,
// and the scheduler chooses the zone.
func (s *Service) resolveSubnets(ctx context.Context, tx *store.Tx, account string, l *launch) error {
	subnets, err := tx.ListSubnets(ctx, account)
	if err != nil {
		return err
	}
	l.subnets = map[string]store.Subnet{}
	if l.subnetID != "" {
		if err := checkID(l.subnetID, "subnet", "InvalidSubnetID.Malformed"); err != nil {
			return err
		}
		i := slices.IndexFunc(subnets, func(sn store.Subnet) bool { return sn.ID == l.subnetID })
		if i < 0 {
			return errSubnetNotFound(l.subnetID)
		}
		sn := subnets[i]
		if l.zone != "" && l.zone != sn.AvailabilityZone {
			return invalid("The subnet '%s' is in %s, not in the requested Availability Zone %s.", sn.ID, sn.AvailabilityZone, l.zone)
		}
		l.subnets[sn.AvailabilityZone], l.vpcID = sn, sn.VPCID
		return nil
	}
	vpc, ok, err := defaultVPC(ctx, tx, account)
	if err != nil {
		return err
	}
	if !ok {
		return apiErr("VPCIdNotSpecified", "No default VPC for this user")
	}
	l.vpcID = vpc.ID
	for _, sn := range subnets {
		if sn.VPCID == vpc.ID && sn.DefaultForAZ && (l.zone == "" || sn.AvailabilityZone == l.zone) {
			l.subnets[sn.AvailabilityZone] = sn
		}
	}
	if len(l.subnets) == 0 {
		return apiErr("MissingInput", "No default subnet for availability zone: '%s'.", l.zone)
	}
	return nil
}

// resolveGroups checks the security groups (by id, or by name in the
// default VPC); none given means the VPC's default group.
func resolveGroups(ctx context.Context, tx *store.Tx, account string, l *launch) error {
	groups, err := tx.ListSecurityGroups(ctx, account)
	if err != nil {
		return err
	}
	l.groups = map[string]string{}
	for _, g := range groups {
		l.groups[g.ID] = g.Name
	}
	var chosen []string
	for _, id := range l.groupIDs {
		if err := checkID(id, "sg", "InvalidGroupId.Malformed"); err != nil {
			return err
		}
		i := slices.IndexFunc(groups, func(g store.SecurityGroup) bool { return g.ID == id })
		if i < 0 {
			return errGroupNotFound(id)
		}
		if groups[i].VPCID != l.vpcID {
			return apiErr("InvalidParameter", "Security group %s and subnet %s belong to different networks.", id, l.anySubnet())
		}
		chosen = append(chosen, id)
	}
	for _, name := range l.groupNames {
		i := slices.IndexFunc(groups, func(g store.SecurityGroup) bool { return g.Name == name && g.VPCID == l.vpcID })
		if i < 0 {
			return errGroupNameNotFound(name, l.vpcID)
		}
		chosen = append(chosen, groups[i].ID)
	}
	if len(chosen) == 0 {
		i := slices.IndexFunc(groups, func(g store.SecurityGroup) bool { return g.Name == "default" && g.VPCID == l.vpcID })
		if i < 0 {
			return errGroupNameNotFound("default", l.vpcID)
		}
		chosen = append(chosen, groups[i].ID)
	}
	slices.Sort(chosen)
	l.groupIDs = slices.Compact(chosen)
	return nil
}

func (l *launch) anySubnet() string {
	for _, sn := range l.subnets {
		return sn.ID
	}
	return ""
}

// createInstances places the batch and records every placed instance with
// its interface, groups and tags; nothing is stored when fewer than
// MinCount fit.
func (s *Service) createInstances(ctx context.Context, tx *store.Tx, account string, l *launch) ([]instanceView, error) {
	now := time.Now().UTC()
	p, err := loadPlacement(ctx, tx, now, nil, s.Cfg.VCPUOvercommit)
	if err != nil {
		return nil, err
	}
	rows := make([]store.Instance, l.max)
	reqs := make([]scheduler.Request, l.max)
	reservation := ids.Resource("r")
	zones := map[string]bool{}
	for z := range l.subnets {
		zones[z] = true
	}
	for n := range rows {
		rows[n] = s.newInstanceRow(account, reservation, n, l, now)
		reqs[n] = scheduler.Request{InstanceID: rows[n].ID, Zone: l.zone, Need: instanceNeed(rows[n]), SpreadKey: reservation}
	}
	placed := p.place(reqs, l.min, zones)
	if len(placed) < l.min {
		return nil, errInsufficientCapacity(l.itype.Name, l.zone)
	}
	var views []instanceView
	for _, row := range rows {
		node, ok := placed[row.ID]
		if !ok {
			continue
		}
		row.LaunchIndex = len(views) // 0..n-1 over the instances that fit
		v, err := s.insertInstance(ctx, tx, l, row, p.zoneOf(node), node)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

func (p *placement) zoneOf(nodeID string) string {
	for _, n := range p.nodes {
		if n.ID == nodeID {
			return n.Zone
		}
	}
	return ""
}

func (s *Service) newInstanceRow(account, reservation string, n int, l *launch, now time.Time) store.Instance {
	uuid, _ := qemu.NewSMBIOSUUID(nil)
	return store.Instance{ID: ids.Resource("i"), AccountID: account, ReservationID: reservation, LaunchIndex: n, ClientToken: l.token,
		ImageID: l.image.ID, KernelID: l.image.KernelID, RamdiskID: l.image.RamdiskID,
		RootDeviceName: l.root.name, RootDeviceType: l.root.kind, RootSnapshotID: l.root.snapshot, RootSizeGiB: l.root.size,
		InstanceType: l.itype.Name, VCPUs: int(l.itype.VCPUs), MemoryMiB: int(l.itype.MemoryMiB), VPCID: l.vpcID,
		KeyName: l.keyName, UserData: l.userData, SMBIOSUUID: uuid, State: string(instancestate.Pending), StateChangedAt: now,
		ShutdownBehavior: l.shutdown, DisableAPITermination: l.noTerminate, DesiredPower: "running",
		LaunchTime: now, CreatedAt: now, SecurityGroupIDs: l.groupIDs, CPUCredits: l.credits}
}

// insertInstance stores one placed instance with its primary interface
// and, when it is to have one, its public IP.
func (s *Service) insertInstance(ctx context.Context, tx *store.Tx, l *launch, row store.Instance, zone, node string) (instanceView, error) {
	sn := l.subnets[zone]
	row.AvailabilityZone, row.SubnetID, row.NodeID = sn.AvailabilityZone, sn.ID, node
	var eni store.NetworkInterface
	var err error
	if l.primaryENI != "" {
		eni, err = attachPrimaryENI(ctx, tx, l, row, sn)
	} else if eni, err = allocateInterface(ctx, tx, row, sn, l.privateIP); err == nil {
		eni, err = finishPrimary(ctx, tx, l, eni)
	}
	if err != nil {
		return instanceView{}, err
	}
	if err := tx.InsertInstance(ctx, row); err != nil {
		return instanceView{}, err
	}
	vols, err := s.insertLaunchVolumes(ctx, tx, l, row)
	if err != nil {
		return instanceView{}, err
	}
	more, err := attachLaunchNICs(ctx, tx, l, row)
	if err != nil {
		return instanceView{}, err
	}
	pub, err := s.launchPublicIP(ctx, tx, l, sn, eni)
	if err != nil {
		return instanceView{}, err
	}
	if _, err := putTags(ctx, tx, row.AccountID, eni.ID, typeInterface, l.eniTags); err != nil {
		return instanceView{}, err
	}
	tags, err := putTags(ctx, tx, row.AccountID, row.ID, typeInstance, l.instTags)
	if err != nil {
		return instanceView{}, err
	}
	v := instanceView{Instance: row, tags: tags, eni: eni, eip: pub, groups: l.groups, owner: row.AccountID, vols: vols}
	if len(more) > 0 {
		v.enis = append([]store.NetworkInterface{eni}, more...)
	}
	return v, nil
}
