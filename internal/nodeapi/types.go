// Package nodeapi is the contract between `kumo server` and `kumo node`: the
// messages they exchange and the gRPC service (over mutual TLS) that carries
// them. The server streams each node its desired state; the node streams back
// its capacity and what it observes of its guests. Both sides are level
// triggered: every Desired message is complete, and every Report names every
// instance the node knows, so either side can restart at any moment.
package nodeapi

import "time"

// Power is what the server asks of one instance on a node.
type Power string

// Desired powers.
const (
	PowerRunning    Power = "running"    // the guest runs; start it if it does not
	PowerStopped    Power = "stopped"    // the guest is off; its root disk is kept
	PowerTerminated Power = "terminated" // the guest is off and its disks are deleted
)

// Observed is what a node reports of one instance.
type Observed string

// Observed states.
const (
	ObservedStarting Observed = "starting" // being prepared or booting (disk, network, QEMU)
	ObservedRunning  Observed = "running"  // QEMU runs the guest
	ObservedStopped  Observed = "stopped"  // QEMU is gone because the server asked for it; disks kept
	// ObservedShutdown: the guest powered itself off while it was meant to
	// run (InstanceInitiatedShutdownBehavior decides what follows).
	ObservedShutdown Observed = "shutdown"
	ObservedCrashed  Observed = "crashed" // guest panic, emulation error, or QEMU died on its own
	ObservedFailed   Observed = "failed"  // the node could not start it; Reason says why
	ObservedDeleted  Observed = "deleted" // terminated and cleaned up: nothing left on the node
)

// Capacity is what a node offers to guests.
type Capacity struct {
	VCPUs     int   `json:"vcpus"`
	MemoryMiB int64 `json:"memoryMiB"`
	DiskGiB   int64 `json:"diskGiB"`
}

// NodeInfo describes the node in every Report.
type NodeInfo struct {
	Name     string   `json:"name"`
	Zone     string   `json:"zone"`
	Address  string   `json:"address"` // underlay address for VXLAN (may be empty)
	Version  string   `json:"version"`
	Capacity Capacity `json:"capacity"`
	Accel    string   `json:"accel"` // kvm | tcg: what the node's start-up probe chose
	// AccelReason is why: what the KVM probe guest did ("kvm probe guest
	// ran", "kvm unusable, falling back to tcg: …", "tcg requested …").
	AccelReason string `json:"accelReason,omitempty"`
}

// InstanceStatus is a node's view of one instance.
type InstanceStatus struct {
	ID        string    `json:"id"`
	State     Observed  `json:"state"`
	Reason    string    `json:"reason,omitempty"` // for failed and crashed: a message a person understands
	RebootSeq int64     `json:"rebootSeq"`        // the last reboot request carried out
	BootedAt  time.Time `json:"bootedAt,omitzero"`
	// Console is the last 64 KiB of the serial console, sent only when it
	// changed since the node last sent it on this stream (nil: unchanged).
	Console []byte `json:"console,omitempty"`
	// Volumes are the EBS volumes the node has attached to this instance
	// or is attaching or detaching (root volume excluded).
	Volumes []VolumeAttachmentStatus `json:"volumes,omitempty"`
}

// Report is what a node sends: on connect, whenever something changes, and
// at least every ReportInterval.
type Report struct {
	Node      NodeInfo         `json:"node"`
	Instances []InstanceStatus `json:"instances"`
	// Volumes are the volumes whose data is on this node (embedded
	// backend) or that it has open (rbd): every one it knows.
	Volumes []VolumeStatus `json:"volumes,omitempty"`
	// Snapshots are the volume snapshots this node is taking or has
	// finished since it last reported them done.
	Snapshots []SnapshotStatus `json:"snapshots,omitempty"`
}

// ReportInterval is the longest a connected node stays silent. A node not
// heard from for StaleAfter is stale: nothing new is placed on it and its
// instances fail their system status check.
const (
	ReportInterval = 5 * time.Second
	StaleAfter     = 30 * time.Second
)

// Desired is the complete desired state of one node. Instances not named
// here and found on the node are left alone until the server names them
// (a node never deletes what it was not told to).
type Desired struct {
	NodeID    string         `json:"nodeId"`
	Draining  bool           `json:"draining"`
	Instances []InstanceSpec `json:"instances"`
	// VPCs are the networks of the VPCs this node hosts guests of (those
	// of Instances that are not terminated), complete like Instances.
	VPCs []VPCNetwork `json:"vpcs,omitempty"`
	// PublicPool is the operator's public address pool (CIDR blocks): a
	// node publishes on its uplink the addresses of its guests' elastic
	// IPs and withdraws any other of the pool it finds published there.
	PublicPool []string `json:"publicPool,omitempty"`
	// Volumes are the volumes homed on this node that are not attached
	// to one of its instances: kept, exported while another node copies
	// them, or deleted. Complete, like Instances; a volume the node holds
	// and that is named nowhere in Desired is left alone.
	Volumes []VolumeSpec `json:"volumes,omitempty"`
	// Snapshots are the volume snapshots the server asks of this node
	// (the volume's home or the node its instance runs on), complete.
	Snapshots []SnapshotTask `json:"snapshots,omitempty"`
}

// VPCNetwork is what a node needs to connect one VPC's guests to the other
// nodes and to filter their traffic.
type VPCNetwork struct {
	VPCID string `json:"vpcId"`
	VNI   uint32 `json:"vni"` // the VPC's VXLAN network identifier, unique in the region
	// Peers are the other nodes hosting running or starting guests of
	// this VPC, each with its guests' private addresses.
	Peers []OverlayPeer `json:"peers,omitempty"`
	// SecurityGroups are the groups of this node's interfaces in the VPC
	// and the groups their rules reference, with their members' addresses.
	SecurityGroups []SecurityGroup `json:"securityGroups,omitempty"`
	// NetworkACLs are the network ACLs of the VPC's subnets, one per
	// subnet, enforced statelessly on traffic entering or leaving it.
	NetworkACLs []SubnetNetworkACL `json:"networkAcls,omitempty"`
	// DNS is what the VPC's resolver answers (nil: no resolver).
	DNS *VPCDNS `json:"dns,omitempty"`
}

// VPCDNS is a VPC's resolver (AmazonProvidedDNS): it listens at CIDR's
// base address plus two and at 169.254.169.253 in the VPC's namespace.
type VPCDNS struct {
	Region    string `json:"region"`
	CIDR      string `json:"cidr"`
	Support   bool   `json:"support"`   // enableDnsSupport: off, the resolver answers nothing
	Hostnames bool   `json:"hostnames"` // enableDnsHostnames: off, public addresses have no names
	// Names are every private address of the VPC's interfaces (on every
	// node), each with the public address mapped to it.
	Names []DNSName `json:"names,omitempty"`
}

// DNSName is one private address of a VPC and its public address.
type DNSName struct {
	PrivateIP string `json:"privateIp"`
	PublicIP  string `json:"publicIp,omitempty"`
}

// OverlayPeer is another node of a VPC.
type OverlayPeer struct {
	Underlay string   `json:"underlay"` // the node's reported Address
	Guests   []string `json:"guests"`   // private IPv4 addresses
}

// SecurityGroup is one group's rules and current members (private IPs of
// the interfaces in it, on every node).
type SecurityGroup struct {
	ID      string   `json:"id"`
	Ingress []SGRule `json:"ingress,omitempty"`
	Egress  []SGRule `json:"egress,omitempty"`
	Members []string `json:"members,omitempty"`
}

// SGRule is one permission: Protocol "-1", "tcp", "udp", "icmp" or a number;
// ports (or ICMP type/code) as EC2 stores them; sources/destinations as
// CIDRs and referenced group ids.
type SGRule struct {
	Protocol string   `json:"protocol"`
	FromPort int      `json:"fromPort"`
	ToPort   int      `json:"toPort"`
	CIDRs    []string `json:"cidrs,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

// InstanceSpec is everything a node needs to run one instance and to answer
// its DHCP and metadata requests.
type InstanceSpec struct {
	ID            string `json:"id"`
	AccountID     string `json:"accountId"`
	ReservationID string `json:"reservationId"`
	LaunchIndex   int    `json:"launchIndex"`
	ImageID       string `json:"imageId"`
	InstanceType  string `json:"instanceType"`
	VCPUs         int    `json:"vcpus"`
	MemoryMiB     int    `json:"memoryMiB"`

	Power     Power `json:"power"`
	ForceStop bool  `json:"forceStop,omitempty"`
	RebootSeq int64 `json:"rebootSeq"` // reboot once each time this grows

	// Boot: a kernel (direct kernel boot, with an optional ramdisk) or the
	// root disk through the firmware. Keys name objects GetObject serves.
	KernelID       string `json:"kernelId,omitempty"`
	KernelKey      string `json:"kernelKey,omitempty"`
	RamdiskID      string `json:"ramdiskId,omitempty"`
	RamdiskKey     string `json:"ramdiskKey,omitempty"`
	RootSnapshotID string `json:"rootSnapshotId,omitempty"` // '' = a blank root disk
	RootSizeGiB    int64  `json:"rootSizeGiB"`
	RootDeviceName string `json:"rootDeviceName"`
	SMBIOSUUID     string `json:"smbiosUuid"`

	Region           string    `json:"region"`
	AvailabilityZone string    `json:"availabilityZone"`
	LaunchTime       time.Time `json:"launchTime"`

	Network NetworkInterface `json:"network"`
	// Extra are the interfaces attached beyond the primary one (DeviceIndex
	// 1 and up), hot-plugged into a running guest as they come and removed
	// as they go.
	Extra []NetworkInterface `json:"extra,omitempty"`

	SecurityGroups   []string `json:"securityGroups"`   // names
	SecurityGroupIDs []string `json:"securityGroupIds"` // ids
	KeyName          string   `json:"keyName,omitempty"`
	PublicKey        string   `json:"publicKey,omitempty"` // one OpenSSH line
	UserData         []byte   `json:"userData,omitempty"`  // decoded

	// IAMInstanceProfileARN is the instance profile associated with the
	// instance ("" : none); the node fetches its role's credentials with
	// Client.InstanceCredentials for the metadata service.
	IAMInstanceProfileARN string `json:"iamInstanceProfileArn,omitempty"`

	// RootVolumeID is the EBS volume id of the root disk ("" when the
	// root is instance store). The root disk stays the node's file.
	RootVolumeID string `json:"rootVolumeId,omitempty"`
	// Volumes are the EBS volumes attached to the instance beyond its
	// root disk, complete: a running guest has them hot-plugged as they
	// come and removed as they go (Detach); a starting guest gets them at
	// boot.
	Volumes []VolumeAttachment `json:"volumes,omitempty"`
}

// Volume backends.
const (
	VolumeBackendLocal = "local" // a file on its home node (the embedded default)
	VolumeBackendRBD   = "rbd"   // a Ceph RBD image, opened by QEMU's rbd driver
)

// VolumeData is where one volume's bytes are and how they start.
type VolumeData struct {
	VolumeID  string `json:"volumeId"`
	SizeBytes int64  `json:"sizeBytes"` // exact; a larger value than the node has grows the volume (online when attached)
	Backend   string `json:"backend"`   // VolumeBackendLocal or VolumeBackendRBD
	// SnapshotID is the snapshot the volume starts as when the node
	// creates its data ("" : zeros). Its chunks are read through the
	// node's object access like a root disk's snapshot.
	SnapshotID string `json:"snapshotId,omitempty"`
	// Source, for a local volume whose data is still on another node, is
	// that node's NBD export of it (nbd://host:port/export, from that
	// node's VolumeStatus.Export): the node copies it before attaching
	// and reports the volume as its own. Empty: the data is here, or the
	// volume is new.
	Source string `json:"source,omitempty"`
	// Limits QEMU enforces on the guest's I/O (0: unlimited); changed
	// live when they change.
	IOPS          int `json:"iops,omitempty"`
	ThroughputMiB int `json:"throughputMiB,omitempty"` // MiB/s
}

// VolumeAttachment is one volume attached to an instance.
type VolumeAttachment struct {
	VolumeData
	Device string `json:"device"` // as the API was given it: /dev/sdf, /dev/xvdb
	// Detach asks the node to remove it from the guest; Force without
	// waiting for the guest to let go.
	Detach bool `json:"detach,omitempty"`
	Force  bool `json:"force,omitempty"`
}

// Attachment states a node reports, as EC2 names them.
const (
	AttachAttaching = "attaching"
	AttachAttached  = "attached"
	AttachDetaching = "detaching"
	AttachDetached  = "detached" // gone from the guest: the server may drop it from Desired
	AttachFailed    = "failed"   // Reason says why
)

// VolumeAttachmentStatus is a node's view of one attachment.
type VolumeAttachmentStatus struct {
	VolumeID  string `json:"volumeId"`
	State     string `json:"state"`
	SizeBytes int64  `json:"sizeBytes"` // what the guest sees now
	Reason    string `json:"reason,omitempty"`
}

// VolumeSpec is a volume homed on a node and not attached there.
type VolumeSpec struct {
	VolumeData
	Export bool `json:"export,omitempty"` // serve it over NBD (another node is copying it)
	Delete bool `json:"delete,omitempty"` // remove its data (DeleteVolume, or it moved away)
}

// VolumeStatus is one volume whose data a node holds.
type VolumeStatus struct {
	VolumeID  string `json:"volumeId"`
	SizeBytes int64  `json:"sizeBytes"`
	Export    string `json:"export,omitempty"`  // nbd://host:port/name while exported
	Deleted   bool   `json:"deleted,omitempty"` // its data is gone (after Delete)
	Reason    string `json:"reason,omitempty"`  // a failure a person understands
}

// SnapshotTask asks a node for a point-in-time snapshot of one volume
// into the snapshot store (content-addressed 512 KiB chunks and a
// manifest), uploading only chunks the store lacks.
type SnapshotTask struct {
	SnapshotID string `json:"snapshotId"`
	VolumeID   string `json:"volumeId"`
	// Parent is the volume's previous completed snapshot ("" : none): a
	// node may use it to read only what changed.
	Parent string `json:"parent,omitempty"`
}

// Snapshot states a node reports, as EC2 names them.
const (
	SnapshotPending   = "pending"
	SnapshotCompleted = "completed"
	SnapshotError     = "error"
)

// SnapshotStatus is a node's progress on one SnapshotTask.
type SnapshotStatus struct {
	SnapshotID string `json:"snapshotId"`
	State      string `json:"state"`
	Progress   int    `json:"progress"`            // percent
	SizeBytes  int64  `json:"sizeBytes,omitempty"` // the volume's size at the snapshot
	Uploaded   int64  `json:"uploaded,omitempty"`  // bytes of new chunks written to the store
	Reason     string `json:"reason,omitempty"`    // for error
}

// NetworkInterface is one of an instance's interfaces on its subnet.
type NetworkInterface struct {
	InterfaceID string `json:"interfaceId"`
	DeviceIndex int    `json:"deviceIndex"` // 0 for the primary interface
	MAC         string `json:"mac"`         // lower case
	PrivateIP   string `json:"privateIp"`
	SubnetID    string `json:"subnetId"`
	SubnetCIDR  string `json:"subnetCidr"`
	Gateway     string `json:"gateway"` // the subnet's first address: the bridge's address on the node
	VPCID       string `json:"vpcId"`
	VPCCIDR     string `json:"vpcCidr"`
	// SecondaryIPs are the interface's other private addresses
	// (AssignPrivateIpAddresses): the guest may use them as sources.
	SecondaryIPs []string `json:"secondaryIps,omitempty"`
	// SecurityGroupIDs are the interface's groups; empty on the primary
	// interface means the instance's SecurityGroupIDs.
	SecurityGroupIDs []string `json:"securityGroupIds,omitempty"`
	// SecurityGroupNames are their names, in the same order (the
	// metadata service lists them).
	SecurityGroupNames []string `json:"securityGroupNames,omitempty"`
	// NoSourceDestCheck is EC2's SourceDestCheck=false: the guest may send
	// with any source address and receive for any destination.
	NoSourceDestCheck bool `json:"noSourceDestCheck,omitempty"`
	// PublicIP is the elastic IP mapped 1:1 to PrivateIP (empty when none).
	PublicIP string `json:"publicIp,omitempty"`
	// PublicIPs maps further elastic IPs to secondary private addresses
	// (public → private).
	PublicIPs map[string]string `json:"publicIps,omitempty"`
	// InternetRoutes are the destinations the subnet's route table sends
	// to an attached internet gateway (e.g. 0.0.0.0/0): the only places
	// the interface's public addresses may reach, and be reached from.
	InternetRoutes []string `json:"internetRoutes,omitempty"`
	// Routes are the subnet route table's other routes that leave the
	// VPC's own addresses: to an instance or a network interface (NextHop
	// is its primary private address) or blackholes (NextHop empty: the
	// target is gone, or the route is a blackhole).
	Routes []Route `json:"routes,omitempty"`
	// DNS servers and domain name handed out by DHCP, from the VPC's DHCP
	// options set (empty: none).
	DNS        []string `json:"dns,omitempty"`
	DomainName string   `json:"domainName,omitempty"`
}

// Route is one route of a subnet's route table.
type Route struct {
	Destination string `json:"destination"` // a CIDR
	NextHop     string `json:"nextHop,omitempty"`
}

// Session is one node's side of a connected stream.
type Session interface {
	Send(*Report) error
	Recv() (*Desired, error)
}
