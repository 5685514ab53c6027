package ec2

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/dnsname"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Resource types of what RunInstances creates, as tags name them.
const (
	typeInstance  = "instance"
	typeInterface = "network-interface"
)

func errInstanceNotFound(id string) error {
	return apiErr("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
}

func checkInstanceID(id string) error {
	if err := checkID(id, "i", "InvalidInstanceID.Malformed"); err != nil {
		return apiErr("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
	}
	return nil
}

// instanceView is an instance with what its API shape needs besides the row.
type instanceView struct {
	store.Instance
	tags   []store.Tag
	eni    store.NetworkInterface   // primary interface; zero when released
	enis   []store.NetworkInterface // every attached interface, by device index
	eip    store.Address            // elastic IP on the primary interface; zero when none
	eips   map[string]store.Address // elastic IPs by eipKey
	groups map[string]string        // security group id -> name
	owner  string
	// noHostnames: the VPC's enableDnsHostnames is off (no public names).
	noHostnames bool
	// vols are the instance's volume attachments by device (root included).
	vols []store.VolumeAttachment
}

// instanceData is one consistent read of an account's instances and what
// their shapes refer to.
type instanceData struct {
	instances []store.Instance
	tags      map[string][]store.Tag
	enis      map[string]store.NetworkInterface   // primary interfaces by instance id
	attached  map[string][]store.NetworkInterface // every attached interface by instance id, by device index
	eips      map[string]store.Address            // associated elastic IPs by eipKey
	groups    map[string]string
	nodes     map[string]store.Node
	// noHostnames are the VPCs whose enableDnsHostnames is off.
	noHostnames map[string]bool
	vols        map[string][]store.VolumeAttachment // by instance id, by device
}

func loadInstanceData(ctx context.Context, tx *store.Tx, account string) (instanceData, error) {
	var d instanceData
	var err error
	if d.instances, err = tx.ListInstances(ctx, account); err != nil {
		return d, err
	}
	if d.tags, err = tx.TagsByResource(ctx, account, typeInstance); err != nil {
		return d, err
	}
	enis, err := tx.ListNetworkInterfaces(ctx, account)
	if err != nil {
		return d, err
	}
	d.enis, d.attached = map[string]store.NetworkInterface{}, map[string][]store.NetworkInterface{}
	for _, n := range enis {
		if n.Primary() {
			d.enis[n.InstanceID] = n
		}
		if n.Attached() {
			d.attached[n.InstanceID] = append(d.attached[n.InstanceID], n)
		}
	}
	for _, list := range d.attached {
		slices.SortFunc(list, func(a, b store.NetworkInterface) int { return a.DeviceIndex - b.DeviceIndex })
	}
	if d.eips, err = eipsByAddress(ctx, tx, account); err != nil {
		return d, err
	}
	if d.noHostnames, err = vpcsWithoutHostnames(ctx, tx, account); err != nil {
		return d, err
	}
	groups, err := tx.ListSecurityGroups(ctx, account)
	if err != nil {
		return d, err
	}
	d.groups = map[string]string{}
	for _, g := range groups {
		d.groups[g.ID] = g.Name
	}
	atts, err := tx.ListVolumeAttachments(ctx, account)
	if err != nil {
		return d, err
	}
	d.vols = map[string][]store.VolumeAttachment{}
	for _, a := range atts {
		d.vols[a.InstanceID] = append(d.vols[a.InstanceID], a)
	}
	for _, list := range d.vols {
		slices.SortFunc(list, func(a, b store.VolumeAttachment) int { return compareStrings(a.Device, b.Device) })
	}
	nodes, err := tx.ListNodes(ctx)
	if err != nil {
		return d, err
	}
	d.nodes = map[string]store.Node{}
	for _, n := range nodes {
		d.nodes[n.ID] = n
	}
	return d, nil
}

func (d instanceData) view(i store.Instance) instanceView {
	eni := d.enis[i.ID]
	return instanceView{Instance: i, tags: d.tags[i.ID], eni: eni, enis: d.attached[i.ID], eip: d.eips[eipKey(eni.ID, eni.PrivateIP)],
		eips: d.eips, groups: d.groups, owner: i.AccountID, noHostnames: d.noHostnames[i.VPCID], vols: d.vols[i.ID]}
}

// visibleViews returns the instances DescribeInstances shows at now:
// terminated ones only for instancestate.TerminatedVisibility.
func (d instanceData) visibleViews(now time.Time) []instanceView {
	var out []instanceView
	for _, i := range d.instances {
		if instancestate.Visible(instancestate.State(i.State), i.StateChangedAt, now) {
			out = append(out, d.view(i))
		}
	}
	return out
}

// privateDNSName is the address's internal host name (dnsname.Private):
// ip-10-0-0-5.<region>.compute.internal, ip-10-0-0-5.ec2.internal in us-east-1.
func (s *Service) privateDNSName(ip string) string { return dnsname.Private(s.Cfg.Region, ip) }

// rootVolumeID names the root disk as a volume: vol- with the instance's hex.
func rootVolumeID(instanceID string) string { return "vol-" + strings.TrimPrefix(instanceID, "i-") }

func apiState(state string) *ec2api.InstanceState {
	st := instancestate.State(state)
	return &ec2api.InstanceState{Code: i32(int32(st.Code())), Name: str(state)}
}

func (v instanceView) groupIdentifiers() []ec2api.GroupIdentifier {
	out := []ec2api.GroupIdentifier{}
	for _, id := range v.SecurityGroupIDs {
		out = append(out, ec2api.GroupIdentifier{GroupId: str(id), GroupName: str(v.groups[id])})
	}
	return out
}

func (v instanceView) terminated() bool { return v.State == string(instancestate.Terminated) }

func (v instanceView) privateIP() string {
	if v.terminated() {
		return ""
	}
	return v.eni.PrivateIP
}

func (s *Service) apiInstance(v instanceView) ec2api.Instance {
	ip := v.privateIP()
	out := ec2api.Instance{
		InstanceId: str(v.ID), ImageId: str(v.ImageID), State: apiState(v.State), InstanceType: str(v.InstanceType),
		AmiLaunchIndex: i32(int32(v.LaunchIndex)), LaunchTime: timep(v.LaunchTime), KeyName: optional(v.KeyName),
		KernelId: optional(v.KernelID), RamdiskId: optional(v.RamdiskID),
		PrivateDnsName: str(s.privateDNSName(ip)), PrivateIpAddress: optional(ip),
		PublicIpAddress: optional(v.publicIP()), PublicDnsName: str(s.publicDNSName(v.publicIP())),
		StateTransitionReason: str(v.StateTransitionReason), ClientToken: str(v.ClientToken),
		Placement:    &ec2api.Placement{AvailabilityZone: str(v.AvailabilityZone), GroupName: str(""), Tenancy: str("default")},
		Monitoring:   &ec2api.Monitoring{State: str("disabled")},
		Architecture: str("x86_64"), Hypervisor: str("xen"), VirtualizationType: str("hvm"),
		RootDeviceName: str(v.RootDeviceName), RootDeviceType: str(v.RootDeviceType),
		EbsOptimized: boolp(false), EnaSupport: boolp(true), SourceDestCheck: boolp(v.eni.ID == "" || v.eni.SourceDestCheck()),
		CpuOptions: &ec2api.CpuOptions{CoreCount: i32(int32(v.VCPUs)), ThreadsPerCore: i32(1)},
		MetadataOptions: &ec2api.InstanceMetadataOptionsResponse{State: str("applied"), HttpTokens: str("optional"),
			HttpPutResponseHopLimit: i32(1), HttpEndpoint: str("enabled"), HttpProtocolIpv6: str("disabled"), InstanceMetadataTags: str("disabled")},
		PlatformDetails: str("Linux/UNIX"), UsageOperation: str("RunInstances"), UsageOperationUpdateTime: timep(v.CreatedAt),
		CapacityReservationSpecification: &ec2api.CapacityReservationSpecificationResponse{CapacityReservationPreference: str("open")},
		HibernationOptions:               &ec2api.HibernationOptions{Configured: boolp(false)},
		EnclaveOptions:                   &ec2api.EnclaveOptions{Enabled: boolp(false)},
		MaintenanceOptions:               &ec2api.InstanceMaintenanceOptions{AutoRecovery: str("default")},
		PrivateDnsNameOptions: &ec2api.PrivateDnsNameOptionsResponse{HostnameType: str("ip-name"),
			EnableResourceNameDnsARecord: boolp(false), EnableResourceNameDnsAAAARecord: boolp(false)},
		Tags: apiTags(v.tags),
	}
	switch {
	case v.StateReasonCode != "":
		out.StateReason = &ec2api.StateReason{Code: str(v.StateReasonCode), Message: str(v.StateReasonMessage)}
	case v.State == string(instancestate.Pending):
		out.StateReason = &ec2api.StateReason{Code: str("pending"), Message: str("pending")} // as EC2 shows a launch
	}
	if !v.terminated() {
		out.SubnetId, out.VpcId = str(v.SubnetID), str(v.VPCID)
		out.SecurityGroups = v.groupIdentifiers()
		out.BlockDeviceMappings = v.blockDeviceMappings()
		for _, n := range v.attachedInterfaces() {
			out.NetworkInterfaces = append(out.NetworkInterfaces, s.apiInterface(v, n))
		}
	}
	if v.noHostnames {
		dropPublicNames(&out)
	}
	return out
}

func (v instanceView) rootMapping() ec2api.InstanceBlockDeviceMapping {
	return ec2api.InstanceBlockDeviceMapping{DeviceName: str(v.RootDeviceName), Ebs: &ec2api.EbsInstanceBlockDevice{
		VolumeId: str(rootVolumeID(v.ID)), Status: str("attached"), AttachTime: timep(v.CreatedAt), DeleteOnTermination: boolp(true)}}
}

// attachedInterfaces are the instance's interfaces by device index (only
// the primary in a view RunInstances built).
func (v instanceView) attachedInterfaces() []store.NetworkInterface {
	if len(v.enis) == 0 && v.eni.ID != "" {
		return []store.NetworkInterface{v.eni}
	}
	return v.enis
}

// eipOn is the public address mapped to one private address of an
// interface (zero when none).
func (v instanceView) eipOn(n store.NetworkInterface, ip string) store.Address {
	if a, ok := v.eips[eipKey(n.ID, ip)]; ok {
		return a
	}
	if n.ID == v.eni.ID && ip == v.eni.PrivateIP {
		return v.eip
	}
	return store.Address{}
}

// apiInterface is one of the instance's attached interfaces as
// DescribeInstances shows it.
func (s *Service) apiInterface(v instanceView, n store.NetworkInterface) ec2api.InstanceNetworkInterface {
	ev := eniView{NetworkInterface: n, eips: v.eips, groups: v.groups}
	if len(n.GroupIDs) == 0 && n.ID == v.eni.ID {
		ev.GroupIDs = v.SecurityGroupIDs // a view RunInstances built
	}
	dns := s.privateDNSName(n.PrivateIP)
	var addrs []ec2api.InstancePrivateIpAddress
	for i, ip := range n.AllIPs() {
		addrs = append(addrs, ec2api.InstancePrivateIpAddress{Primary: boolp(i == 0), PrivateIpAddress: str(ip),
			PrivateDnsName: str(s.privateDNSName(ip)), Association: s.eipAssociation(v.eipOn(n, ip))})
	}
	return ec2api.InstanceNetworkInterface{
		NetworkInterfaceId: str(n.ID), MacAddress: str(n.MAC), OwnerId: str(v.owner), Description: str(n.Description),
		PrivateIpAddress: str(n.PrivateIP), PrivateDnsName: str(dns), SourceDestCheck: boolp(n.SourceDestCheck()), Status: str("in-use"),
		SubnetId: str(n.SubnetID), VpcId: str(n.VPCID), InterfaceType: str("interface"), Groups: ev.groupIdentifiers(),
		Association: s.eipAssociation(v.eipOn(n, n.PrivateIP)), PrivateIpAddresses: addrs,
		Attachment: &ec2api.InstanceNetworkInterfaceAttachment{AttachmentId: str(n.AttachmentID),
			AttachTime: timep(n.AttachTime), DeleteOnTermination: boolp(n.DeleteOnTermination), DeviceIndex: i32(int32(n.DeviceIndex)),
			Status: str("attached"), NetworkCardIndex: i32(0)},
	}
}

// interfaceValues collects a value of every attached interface.
func (v instanceView) interfaceValues(f func(store.NetworkInterface) []string) []string {
	if v.terminated() {
		return nil
	}
	var out []string
	for _, n := range v.enis {
		out = append(out, f(n)...)
	}
	return out
}

func (s *Service) instanceFields() filter.Fields[instanceView] {
	one := func(f func(instanceView) string) func(instanceView) []string {
		return func(v instanceView) []string { return filter.One(f(v)) }
	}
	groups := func(name bool) func(instanceView) []string {
		return func(v instanceView) []string {
			if v.terminated() {
				return nil // DescribeInstances no longer shows them
			}
			var out []string
			for _, id := range v.SecurityGroupIDs {
				if name {
					id = v.groups[id]
				}
				out = append(out, id)
			}
			return out
		}
	}
	// live: a field DescribeInstances drops once the instance is terminated.
	live := func(f func(instanceView) string) func(instanceView) []string {
		return func(v instanceView) []string {
			if v.terminated() {
				return nil
			}
			return []string{f(v)}
		}
	}
	return filter.Fields[instanceView]{
		"instance-id":          one(func(v instanceView) string { return v.ID }),
		"instance-state-name":  one(func(v instanceView) string { return v.State }),
		"instance-state-code":  one(func(v instanceView) string { return strconv.Itoa(instancestate.State(v.State).Code()) }),
		"image-id":             one(func(v instanceView) string { return v.ImageID }),
		"instance-type":        one(func(v instanceView) string { return v.InstanceType }),
		"availability-zone":    one(func(v instanceView) string { return v.AvailabilityZone }),
		"placement-group-name": func(instanceView) []string { return nil },
		"tenancy":              one(func(instanceView) string { return "default" }),
		"private-ip-address":   one(func(v instanceView) string { return v.privateIP() }),
		"private-dns-name":     one(func(v instanceView) string { return s.privateDNSName(v.privateIP()) }),
		"key-name":             one(func(v instanceView) string { return v.KeyName }),
		"vpc-id":               live(func(v instanceView) string { return v.VPCID }),
		"subnet-id":            live(func(v instanceView) string { return v.SubnetID }),
		"reservation-id":       one(func(v instanceView) string { return v.ReservationID }),
		"owner-id":             one(func(v instanceView) string { return v.owner }),
		"launch-index":         one(func(v instanceView) string { return strconv.Itoa(v.LaunchIndex) }),
		"instance.group-id":    groups(false),
		"instance.group-name":  groups(true),
		"group-id":             groups(false),
		"group-name":           groups(true),
		"network-interface.network-interface-id": func(v instanceView) []string {
			return v.interfaceValues(func(n store.NetworkInterface) []string { return []string{n.ID} })
		},
		"network-interface.mac-address": func(v instanceView) []string {
			return v.interfaceValues(func(n store.NetworkInterface) []string { return []string{n.MAC} })
		},
		"network-interface.subnet-id": func(v instanceView) []string {
			return v.interfaceValues(func(n store.NetworkInterface) []string { return []string{n.SubnetID} })
		},
		"network-interface.attachment.device-index": func(v instanceView) []string {
			return v.interfaceValues(func(n store.NetworkInterface) []string { return []string{strconv.Itoa(n.DeviceIndex)} })
		},
		"network-interface.attachment.attachment-id": func(v instanceView) []string {
			return v.interfaceValues(func(n store.NetworkInterface) []string { return []string{n.AttachmentID} })
		},
		"network-interface.source-dest-check": func(v instanceView) []string {
			return v.interfaceValues(func(n store.NetworkInterface) []string { return []string{strconv.FormatBool(n.SourceDestCheck())} })
		},
		"network-interface.private-dns-name": one(func(v instanceView) string { return s.privateDNSName(v.privateIP()) }),
		"network-interface.addresses.private-ip-address": func(v instanceView) []string {
			return v.interfaceValues(store.NetworkInterface.AllIPs)
		},
		"client-token":         one(func(v instanceView) string { return v.ClientToken }),
		"root-device-type":     one(func(v instanceView) string { return v.RootDeviceType }),
		"root-device-name":     one(func(v instanceView) string { return v.RootDeviceName }),
		"architecture":         one(func(instanceView) string { return "x86_64" }),
		"hypervisor":           one(func(instanceView) string { return "xen" }),
		"virtualization-type":  one(func(instanceView) string { return "hvm" }),
		"kernel-id":            one(func(v instanceView) string { return v.KernelID }),
		"ramdisk-id":           one(func(v instanceView) string { return v.RamdiskID }),
		"state-reason-code":    one(func(v instanceView) string { return v.StateReasonCode }),
		"state-reason-message": one(func(v instanceView) string { return v.StateReasonMessage }),
		"reason":               one(func(v instanceView) string { return v.StateTransitionReason }),
		"monitoring-state":     one(func(instanceView) string { return "disabled" }),
		"platform-details":     one(func(instanceView) string { return "Linux/UNIX" }),
		"launch-time":          one(func(v instanceView) string { return v.LaunchTime.UTC().Format("2006-01-02T15:04:05.000Z") }),
		"block-device-mapping.device-name": func(v instanceView) []string {
			return v.volumeValues(func(a store.VolumeAttachment) string { return a.Device })
		},
		"block-device-mapping.volume-id": func(v instanceView) []string {
			return v.volumeValues(func(a store.VolumeAttachment) string { return a.VolumeID })
		},
		"block-device-mapping.status": func(v instanceView) []string {
			return v.volumeValues(func(a store.VolumeAttachment) string { return a.State })
		},
		"block-device-mapping.attach-time": func(v instanceView) []string {
			return v.volumeValues(func(a store.VolumeAttachment) string { return a.AttachTime.Format(isoMillis) })
		},
		"block-device-mapping.delete-on-termination": func(v instanceView) []string {
			return v.volumeValues(func(a store.VolumeAttachment) string { return strconv.FormatBool(a.DeleteOnTermination) })
		},

		// Elastic IPs (addresses_describe.go).
		"ip-address": one(func(v instanceView) string { return v.publicIP() }),
		"dns-name":   one(func(v instanceView) string { return s.publicDNSName(v.publicIP()) }),
		"network-interface.addresses.association.public-ip": one(func(v instanceView) string { return v.publicIP() }),
		"network-interface.association.public-ip":           one(func(v instanceView) string { return v.publicIP() }),
		"network-interface.association.allocation-id":       one(func(v instanceView) string { return v.eip.AllocationID }),
		"network-interface.association.association-id":      one(func(v instanceView) string { return v.eip.AssociationID }),
	}
}

// selectInstances checks a Describe call's ids and returns the caller's
// instances visible at now (those ids only, when given: NotFound for any
// other), with the data they were built from.
func (s *Service) selectInstances(ctx context.Context, ids []string, maxResults *int32, now time.Time) ([]instanceView, instanceData, error) {
	var d instanceData
	if err := noIDsWithMaxResults("instanceIds", ids, maxResults); err != nil {
		return nil, d, err
	}
	for _, id := range ids {
		if err := checkInstanceID(id); err != nil {
			return nil, d, err
		}
	}
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		d, err = loadInstanceData(ctx, tx, account)
		return err
	})
	if err != nil {
		return nil, d, err
	}
	views, err := selectByID(d.visibleViews(now), ids, func(v instanceView) string { return v.ID }, errInstanceNotFound)
	return views, d, err
}

// DescribeInstances lists the caller's instances grouped by reservation.
func (s *Service) DescribeInstances(ctx context.Context, in *ec2api.DescribeInstancesRequest) (*ec2api.DescribeInstancesResult, error) {
	views, _, err := s.selectInstances(ctx, in.InstanceIds, in.MaxResults, time.Now())
	if err != nil {
		return nil, err
	}
	page, next, err := describe(views, in.Filters, s.instanceFields(), func(v instanceView) map[string]string { return tagMap(v.tags) },
		func(v instanceView) string { return v.ID }, in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeInstancesResult{Reservations: s.reservations(page), NextToken: next}, nil
}

// reservations groups instances by reservation, in the order they come.
func (s *Service) reservations(views []instanceView) []ec2api.Reservation {
	out := []ec2api.Reservation{}
	index := map[string]int{}
	for _, v := range views {
		i, ok := index[v.ReservationID]
		if !ok {
			i = len(out)
			index[v.ReservationID] = i
			out = append(out, ec2api.Reservation{ReservationId: str(v.ReservationID), OwnerId: str(v.owner), Groups: []ec2api.GroupIdentifier{}})
		}
		out[i].Instances = append(out[i].Instances, s.apiInstance(v))
	}
	return out
}

// accountInstances reads the listed instances of the caller in a write
// transaction; an unknown or malformed id fails the whole request.
func accountInstances(ctx context.Context, tx *store.Tx, account string, ids []string) ([]store.Instance, error) {
	if len(ids) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter InstanceId")
	}
	var out []store.Instance
	seen := map[string]bool{}
	for _, id := range ids {
		if err := checkInstanceID(id); err != nil {
			return nil, err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		i, err := tx.GetInstance(ctx, account, id)
		found, e := notFoundOK(err)
		if found && !instancestate.Visible(instancestate.State(i.State), i.StateChangedAt, time.Now()) {
			found = false
		}
		if !found {
			if e != nil {
				return nil, fmt.Errorf("instance %s: %w", id, e)
			}
			return nil, errInstanceNotFound(id)
		}
		out = append(out, i)
	}
	return out, nil
}

// instanceResourceExists checks an instance or network interface id for
// CreateTags and DeleteTags.
func instanceResourceExists(ctx context.Context, tx *store.Tx, account, rtype, id string) error {
	if rtype == typeInstance {
		_, err := accountInstances(ctx, tx, account, []string{id})
		return err
	}
	return findIn(ctx, tx.ListNetworkInterfaces, account, id, func(n store.NetworkInterface) string { return n.ID }, func(id string) error {
		return apiErr("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
	})
}
