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
	if in.IAM != nil {
		iamDir(md, in.IAM)
	}
	md.file("instance-action", instanceAction)
	md.file("instance-id", in.ID)
	md.file("instance-life-cycle", instanceLifeCycle)
	md.file("instance-type", in.InstanceType)
	optional(md, "kernel-id", in.KernelID)
	md.file("local-hostname", in.localHostname())
	md.file("local-ipv4", in.PrivateIP)
	md.file("mac", mac(in))
	macs := md.dir("network").dir("interfaces").dir("macs")
	networkInterface(macs.dir(mac(in)), in, in.primary())
	for _, x := range in.Interfaces {
		if m := strings.ToLower(x.MAC); m != "" && m != mac(in) {
			networkInterface(macs.dir(m), in, x)
		}
	}
	placement(md.dir("placement"), in)
	md.file("profile", profile)
	if in.PublicIP != "" {
		if !in.NoPublicHostname {
			md.file("public-hostname", in.publicHostname())
		}
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

// primary is the instance's primary interface as an Interface.
func (in *Instance) primary() Interface {
	return Interface{InterfaceID: in.InterfaceID, MAC: mac(in), PrivateIPs: append([]string{in.PrivateIP}, in.SecondaryIPs...),
		PublicIP: in.PublicIP, SubnetID: in.SubnetID, SubnetCIDR: in.SubnetCIDR, VPCID: in.VPCID, VPCCIDR: in.VPCCIDR,
		SecurityGroups: in.SecurityGroups, SecurityGroupIDs: in.SecurityGroupIDs}
}

// networkInterface fills network/interfaces/macs/<mac>/ for one interface.
func networkInterface(d *node, in *Instance, x Interface) {
	first := ""
	if len(x.PrivateIPs) > 0 {
		first = x.PrivateIPs[0]
	}
	names := &Instance{PrivateIP: first, PublicIP: x.PublicIP, Region: in.Region, NoPublicHostname: in.NoPublicHostname}
	if strings.ToLower(x.MAC) == mac(in) {
		names = in // the primary: the instance's own names
	}
	d.file("device-number", strconv.Itoa(x.DeviceNumber))
	d.file("interface-id", x.InterfaceID)
	if x.PublicIP != "" {
		d.dir("ipv4-associations").file(x.PublicIP, first)
	}
	d.file("local-hostname", names.localHostname())
	d.file("local-ipv4s", x.PrivateIPs...)
	d.file("mac", strings.ToLower(x.MAC))
	d.file("owner-id", in.AccountID)
	if x.PublicIP != "" {
		if !names.NoPublicHostname {
			d.file("public-hostname", names.publicHostname())
		}
		d.file("public-ipv4s", x.PublicIP)
	}
	d.file("security-group-ids", x.SecurityGroupIDs...)
	d.file("security-groups", x.SecurityGroups...)
	d.file("subnet-id", x.SubnetID)
	d.file("subnet-ipv4-cidr-block", x.SubnetCIDR)
	d.file("vpc-id", x.VPCID)
	d.file("vpc-ipv4-cidr-block", x.VPCCIDR)
	d.file("vpc-ipv4-cidr-blocks", x.VPCCIDR)
}

func placement(d *node, in *Instance) {
	d.file("availability-zone", in.AvailabilityZone)
	optional(d, "availability-zone-id", in.AvailabilityZoneID)
	d.file("region", in.Region)
}

// publicKeys adds public-keys/ when the instance has a key: the listing says
// "0=keyname", and 0/ holds openssh-key, the key followed by the key
// pair's name as AWS serves it ("ssh-ed25519 AAAA… my-key"; cloud-init
// shows it in its key table). A comment in the stored key gives way to
// the name.
func publicKeys(md *node, in *Instance) {
	key := strings.TrimSpace(in.PublicKey)
	if key == "" {
		return
	}
	if f := strings.Fields(key); len(f) >= 2 && in.KeyName != "" {
		key = f[0] + " " + f[1] + " " + in.KeyName
	}
	keys := md.dir("public-keys")
	keys.dir("0").file("openssh-key", key)
	keys.setLabel("0", "0="+in.KeyName)
}
