package imds

import (
	"strconv"
	"strings"
)

// The constant answers of AWS for an on-demand, EBS-backed HVM instance.
const (
	amiManifestPath   = "(unknown)"
	instanceAction    = "none"
	instanceLifeCycle = "on-demand"
	profile           = "default-hvm"
	servicesDomain    = "amazonaws.com"
	servicesPartition = "aws"
)

// metaData is the meta-data/ tree of one instance, in AWS's order.
func metaData(in *Instance) *node {
	md := newDir()
	md.file("ami-id", in.ImageID)
	md.file("ami-launch-index", strconv.Itoa(in.LaunchIndex))
	md.file("ami-manifest-path", amiManifestPath)
	bdm := md.dir("block-device-mapping")
	bdm.file("ami", in.rootDevice())
	bdm.file("root", in.rootDevice())
	md.file("hostname", in.hostname())
	md.file("instance-action", instanceAction)
	md.file("instance-id", in.ID)
	md.file("instance-life-cycle", instanceLifeCycle)
	md.file("instance-type", in.InstanceType)
	optional(md, "kernel-id", in.KernelID)
	md.file("local-hostname", in.localHostname())
	md.file("local-ipv4", in.PrivateIP)
	md.file("mac", mac(in))
	macs := md.dir("network").dir("interfaces").dir("macs")
	networkInterface(macs.dir(mac(in)), in)
	placement(md.dir("placement"), in)
	md.file("profile", profile)
	if in.PublicIP != "" {
		md.file("public-hostname", in.publicHostname())
		md.file("public-ipv4", in.PublicIP)
	}
	publicKeys(md, in)
	optional(md, "ramdisk-id", in.RamdiskID)
	md.file("reservation-id", in.ReservationID)
	md.file("security-groups", in.SecurityGroups...)
	services := md.dir("services")
	services.file("domain", servicesDomain)
	services.file("partition", servicesPartition)
	return md
}

func mac(in *Instance) string { return strings.ToLower(in.MAC) }

func optional(d *node, name, value string) {
	if value != "" {
		d.file(name, value)
	}
}

// networkInterface fills network/interfaces/macs/<mac>/.
func networkInterface(d *node, in *Instance) {
	d.file("device-number", "0")
	d.file("interface-id", in.InterfaceID)
	if in.PublicIP != "" {
		d.dir("ipv4-associations").file(in.PublicIP, in.PrivateIP)
	}
	d.file("local-hostname", in.localHostname())
	d.file("local-ipv4s", in.PrivateIP)
	d.file("mac", mac(in))
	d.file("owner-id", in.AccountID)
	if in.PublicIP != "" {
		d.file("public-hostname", in.publicHostname())
		d.file("public-ipv4s", in.PublicIP)
	}
	d.file("security-group-ids", in.SecurityGroupIDs...)
	d.file("security-groups", in.SecurityGroups...)
	d.file("subnet-id", in.SubnetID)
	d.file("subnet-ipv4-cidr-block", in.SubnetCIDR)
	d.file("vpc-id", in.VPCID)
	d.file("vpc-ipv4-cidr-block", in.VPCCIDR)
	d.file("vpc-ipv4-cidr-blocks", in.VPCCIDR)
}

func placement(d *node, in *Instance) {
	d.file("availability-zone", in.AvailabilityZone)
	optional(d, "availability-zone-id", in.AvailabilityZoneID)
	d.file("region", in.Region)
}

// publicKeys adds public-keys/ when the instance has a key: the listing says
// "0=keyname", and 0/ holds openssh-key.
func publicKeys(md *node, in *Instance) {
	key := strings.TrimSpace(in.PublicKey)
	if key == "" {
		return
	}
	keys := md.dir("public-keys")
	keys.dir("0").file("openssh-key", key)
	keys.setLabel("0", "0="+in.KeyName)
}
