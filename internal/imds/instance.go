package imds

import (
	"net/http"
	"time"

	"github.com/kumo-cloud/kumo/internal/dnsname"
)

// Instance is what the metadata service tells one guest about itself. The
// node agent fills it from the server's desired state for the network
// interface behind the tap the request came in on.
type Instance struct {
	ID, AccountID, ImageID, InstanceType string
	Region, AvailabilityZone             string
	AvailabilityZoneID                   string // optional: placement/availability-zone-id
	PrivateIP                            string
	MAC                                  string // the guest NIC's, lower case
	Hostname, LocalHostname              string // derived from PrivateIP when empty
	SubnetID, SubnetCIDR                 string
	VPCID, VPCCIDR                       string
	InterfaceID, ReservationID           string
	PublicIP                             string // optional: public-ipv4 and public-hostname
	PublicHostname                       string // optional: defaults to dnsname.Public of PublicIP
	NoPublicHostname                     bool   // the VPC's enableDnsHostnames is off: no public-hostname
	RootDeviceName                       string // block-device-mapping/ami and root; /dev/xvda when empty
	SecurityGroups, SecurityGroupIDs     []string
	KeyName, PublicKey                   string // PublicKey: one OpenSSH line; public-keys/ only when set, followed by KeyName
	UserData                             []byte // 404 when empty
	KernelID, RamdiskID                  string // optional
	PendingTime                          time.Time
	LaunchIndex                          int
	HTTPTokensRequired                   bool // IMDSv1 refused (HttpTokens=required)
	HTTPPutResponseHopLimit              int  // 1..64: IP TTL of the token's response (see ConnContext); 0: unchanged
	// SecondaryIPs are the primary interface's further private addresses
	// (local-ipv4s lists them after PrivateIP).
	SecondaryIPs []string
	// Interfaces are the instance's further network interfaces, each
	// under network/interfaces/macs/<mac>/ as cloud-init reads them.
	Interfaces []Interface
	// IAM is the instance profile and its role's credentials (meta-data/iam/);
	// nil without a profile.
	IAM *IAM
}

// Interface is one of an instance's further network interfaces.
type Interface struct {
	DeviceNumber                     int
	InterfaceID, MAC                 string // MAC lower case
	PrivateIPs                       []string
	PublicIP                         string // optional
	SubnetID, SubnetCIDR             string
	VPCID, VPCCIDR                   string
	SecurityGroups, SecurityGroupIDs []string
}

// Lookup returns the instance behind the tap r arrived on. It must not trust
// r.RemoteAddr alone. ErrUnknownInstance (or a nil instance) gives 404; any
// other error gives 500.
type Lookup func(r *http.Request) (*Instance, error)

type lookupError string

func (e lookupError) Error() string { return string(e) }

// ErrUnknownInstance is what a Lookup returns when no instance is behind the
// request's tap.
const ErrUnknownInstance = lookupError("imds: no instance behind this interface")

const defaultRootDevice = "/dev/xvda"

// localHostname is the instance's name in its VPC, dnsname.Private:
// ip-10-0-0-5.<region>.compute.internal (ec2.internal in us-east-1), as
// AWS names them, unless one was given.
func (in *Instance) localHostname() string {
	if in.LocalHostname != "" {
		return in.LocalHostname
	}
	return dnsname.Private(in.Region, in.PrivateIP)
}

func (in *Instance) hostname() string {
	if in.Hostname != "" {
		return in.Hostname
	}
	return in.localHostname()
}

// publicHostname is the public address's name, dnsname.Public, as
// DescribeInstances' PublicDnsName: ec2-198-51-100-2.<region>.compute.kumo.
func (in *Instance) publicHostname() string {
	if in.PublicHostname != "" {
		return in.PublicHostname
	}
	if in.Region == "" {
		return in.PublicIP
	}
	return dnsname.Public(in.Region, in.PublicIP)
}

func (in *Instance) rootDevice() string {
	if in.RootDeviceName != "" {
		return in.RootDeviceName
	}
	return defaultRootDevice
}
