package ec2

import (
	"context"
	"strconv"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// eniData is one consistent read of an account's interfaces and what their
// shapes refer to.
type eniData struct {
	enis   []store.NetworkInterface
	tags   map[string][]store.Tag
	eips   map[string]store.Address // associated elastic IPs by eipKey
	groups map[string]string        // group id -> name
}

// eniView is an interface with what its API shape needs besides the row.
type eniView struct {
	store.NetworkInterface
	tags   []store.Tag
	eips   map[string]store.Address
	groups map[string]string
}

// eipKey indexes elastic IPs by the interface and private address they map to.
func eipKey(eniID, privateIP string) string { return eniID + " " + privateIP }

// eipsByAddress maps the public addresses of the account's interfaces by
// eipKey: the elastic IP, else the auto-assigned public IP.
func eipsByAddress(ctx context.Context, tx *store.Tx, account string) (map[string]store.Address, error) {
	list, err := tx.ListPublicAddresses(ctx, account)
	if err != nil {
		return nil, err
	}
	out := map[string]store.Address{}
	for _, a := range list {
		k := eipKey(a.NetworkInterfaceID, a.PrivateIP)
		if prev, ok := out[k]; a.Associated() && (!ok || prev.Auto) {
			out[k] = a
		}
	}
	return out, nil
}

func groupNames(ctx context.Context, tx *store.Tx, account string) (map[string]string, error) {
	groups, err := tx.ListSecurityGroups(ctx, account)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, g := range groups {
		out[g.ID] = g.Name
	}
	return out, nil
}

func readENIData(ctx context.Context, tx *store.Tx, account string) (eniData, error) {
	var d eniData
	var err error
	if d.enis, err = tx.ListNetworkInterfaces(ctx, account); err != nil {
		return d, err
	}
	if d.tags, err = tx.TagsByResource(ctx, account, typeInterface); err != nil {
		return d, err
	}
	if d.eips, err = eipsByAddress(ctx, tx, account); err != nil {
		return d, err
	}
	d.groups, err = groupNames(ctx, tx, account)
	return d, err
}

func (s *Service) loadENIData(ctx context.Context) (eniData, error) {
	var d eniData
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		d, err = readENIData(ctx, tx, account)
		return err
	})
	return d, err
}

func (d eniData) view(n store.NetworkInterface) eniView {
	return eniView{NetworkInterface: n, tags: d.tags[n.ID], eips: d.eips, groups: d.groups}
}

func (d eniData) views() []eniView {
	out := make([]eniView, 0, len(d.enis))
	for _, n := range d.enis {
		out = append(out, d.view(n))
	}
	return out
}

// eip is the elastic IP on one of the interface's private addresses (zero when none).
func (v eniView) eip(privateIP string) store.Address { return v.eips[eipKey(v.ID, privateIP)] }

func (v eniView) groupIdentifiers() []ec2api.GroupIdentifier {
	out := []ec2api.GroupIdentifier{}
	for _, id := range v.GroupIDs {
		out = append(out, ec2api.GroupIdentifier{GroupId: str(id), GroupName: str(v.groups[id])})
	}
	return out
}

func (s *Service) eniAssociation(a store.Address) *ec2api.NetworkInterfaceAssociation {
	if !a.Associated() {
		return nil
	}
	return &ec2api.NetworkInterfaceAssociation{PublicIp: str(a.PublicIP), PublicDnsName: str(s.publicDNSName(a.PublicIP)),
		IpOwnerId: str(ipOwner(a)), AllocationId: optional(a.AllocationID), AssociationId: optional(a.AssociationID)}
}

func (v eniView) apiAttachment() *ec2api.NetworkInterfaceAttachment {
	if !v.Attached() {
		return nil
	}
	return &ec2api.NetworkInterfaceAttachment{AttachTime: timep(v.AttachTime), AttachmentId: str(v.AttachmentID),
		DeleteOnTermination: boolp(v.DeleteOnTermination), DeviceIndex: i32(int32(v.DeviceIndex)), NetworkCardIndex: i32(0),
		InstanceId: str(v.InstanceID), InstanceOwnerId: str(v.AccountID), Status: str("attached")}
}

func (s *Service) apiENI(v eniView) *ec2api.NetworkInterface {
	var addrs []ec2api.NetworkInterfacePrivateIpAddress
	for i, ip := range v.AllIPs() {
		addrs = append(addrs, ec2api.NetworkInterfacePrivateIpAddress{Primary: boolp(i == 0), PrivateIpAddress: str(ip),
			PrivateDnsName: str(s.privateDNSName(ip)), Association: s.eniAssociation(v.eip(ip))})
	}
	return &ec2api.NetworkInterface{
		Association: s.eniAssociation(v.eip(v.PrivateIP)), Attachment: v.apiAttachment(), AvailabilityZone: str(v.Zone),
		Description: str(v.Description), Groups: v.groupIdentifiers(), InterfaceType: str("interface"),
		MacAddress: str(v.MAC), NetworkInterfaceId: str(v.ID), OwnerId: str(v.AccountID),
		PrivateDnsName: str(s.privateDNSName(v.PrivateIP)), PrivateIpAddress: str(v.PrivateIP), PrivateIpAddresses: addrs,
		RequesterManaged: boolp(false), SourceDestCheck: boolp(v.SourceDestCheck()), Status: str(v.Status()),
		SubnetId: str(v.SubnetID), VpcId: str(v.VPCID), TagSet: apiTags(v.tags),
	}
}

func (s *Service) eniFields() filter.Fields[eniView] {
	one := func(f func(eniView) string) func(eniView) []string {
		return func(v eniView) []string { return filter.One(f(v)) }
	}
	attached := func(f func(eniView) string) func(eniView) []string {
		return func(v eniView) []string {
			if !v.Attached() {
				return nil
			}
			return filter.One(f(v))
		}
	}
	eipOf := func(f func(store.Address) string) func(eniView) []string {
		return func(v eniView) []string {
			var out []string
			for _, ip := range v.AllIPs() {
				if a := v.eip(ip); a.Associated() {
					out = append(out, f(a))
				}
			}
			return out
		}
	}
	return filter.Fields[eniView]{
		"network-interface-id":             one(func(v eniView) string { return v.ID }),
		"subnet-id":                        one(func(v eniView) string { return v.SubnetID }),
		"vpc-id":                           one(func(v eniView) string { return v.VPCID }),
		"availability-zone":                one(func(v eniView) string { return v.Zone }),
		"status":                           one(func(v eniView) string { return v.Status() }),
		"description":                      one(func(v eniView) string { return v.Description }),
		"mac-address":                      one(func(v eniView) string { return v.MAC }),
		"owner-id":                         one(func(v eniView) string { return v.AccountID }),
		"interface-type":                   one(func(eniView) string { return "interface" }),
		"requester-managed":                one(func(eniView) string { return "false" }),
		"source-dest-check":                one(func(v eniView) string { return strconv.FormatBool(v.SourceDestCheck()) }),
		"private-ip-address":               one(func(v eniView) string { return v.PrivateIP }),
		"private-dns-name":                 one(func(v eniView) string { return s.privateDNSName(v.PrivateIP) }),
		"addresses.private-ip-address":     func(v eniView) []string { return v.AllIPs() },
		"addresses.primary":                one(func(eniView) string { return "true" }),
		"group-id":                         func(v eniView) []string { return v.GroupIDs },
		"group-name":                       func(v eniView) []string { return namesOf(v.GroupIDs, v.groups) },
		"attachment.instance-id":           attached(func(v eniView) string { return v.InstanceID }),
		"attachment.instance-owner-id":     attached(func(v eniView) string { return v.AccountID }),
		"attachment.device-index":          attached(func(v eniView) string { return strconv.Itoa(v.DeviceIndex) }),
		"attachment.attachment-id":         attached(func(v eniView) string { return v.AttachmentID }),
		"attachment.status":                attached(func(eniView) string { return "attached" }),
		"attachment.delete-on-termination": attached(func(v eniView) string { return strconv.FormatBool(v.DeleteOnTermination) }),
		"association.public-ip":            eipOf(func(a store.Address) string { return a.PublicIP }),
		"addresses.association.public-ip":  eipOf(func(a store.Address) string { return a.PublicIP }),
		"association.allocation-id":        eipOf(func(a store.Address) string { return a.AllocationID }),
		"association.association-id":       eipOf(func(a store.Address) string { return a.AssociationID }),
		"association.ip-owner-id":          eipOf(func(a store.Address) string { return a.AccountID }),
		"association.public-dns-name":      eipOf(func(a store.Address) string { return s.publicDNSName(a.PublicIP) }),
	}
}

func namesOf(ids []string, names map[string]string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, names[id])
	}
	return out
}

// DescribeNetworkInterfaces lists the caller's interfaces: by id, filters, pages.
func (s *Service) DescribeNetworkInterfaces(ctx context.Context, in *ec2api.DescribeNetworkInterfacesRequest) (*ec2api.DescribeNetworkInterfacesResult, error) {
	if err := noIDsWithMaxResults("networkInterfaceIds", in.NetworkInterfaceIds, in.MaxResults); err != nil {
		return nil, err
	}
	for _, id := range in.NetworkInterfaceIds {
		if err := checkENIID(id); err != nil {
			return nil, err
		}
	}
	d, err := s.loadENIData(ctx)
	if err != nil {
		return nil, err
	}
	views, err := selectByID(d.views(), in.NetworkInterfaceIds, func(v eniView) string { return v.ID }, errENINotFound)
	if err != nil {
		return nil, err
	}
	page, next, err := describe(views, in.Filters, s.eniFields(), func(v eniView) map[string]string { return tagMap(v.tags) },
		func(v eniView) string { return v.ID }, in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	noNames, err := s.vpcsWithoutHostnames(ctx)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeNetworkInterfacesResult{NetworkInterfaces: []ec2api.NetworkInterface{}, NextToken: next}
	for _, v := range page {
		out.NetworkInterfaces = append(out.NetworkInterfaces, *s.apiENI(v))
		if noNames[v.VPCID] {
			dropENIPublicNames(&out.NetworkInterfaces[len(out.NetworkInterfaces)-1])
		}
	}
	return out, nil
}

// DescribeNetworkInterfaceAttribute answers one attribute of an interface.
func (s *Service) DescribeNetworkInterfaceAttribute(ctx context.Context, in *ec2api.DescribeNetworkInterfaceAttributeRequest) (*ec2api.DescribeNetworkInterfaceAttributeResult, error) {
	attr := deref(in.Attribute)
	switch attr {
	case "":
		return nil, apiErr("InvalidParameterCombination", "No attributes specified.")
	case "description", "groupSet", "sourceDestCheck", "attachment", "associatePublicIpAddress":
	default:
		return nil, invalid("Value (%s) for parameter attribute is invalid. Unknown network interface attribute.", attr)
	}
	var v eniView
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		n, err := getENI(ctx, tx, account, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		d, err := readENIData(ctx, tx, account)
		v = d.view(n)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeNetworkInterfaceAttributeResult{NetworkInterfaceId: str(v.ID)}
	switch attr {
	case "description":
		out.Description = attrValue(v.Description)
	case "groupSet":
		out.Groups = v.groupIdentifiers()
	case "sourceDestCheck":
		out.SourceDestCheck = attrBool(v.SourceDestCheck())
	case "attachment":
		out.Attachment = v.apiAttachment()
	case "associatePublicIpAddress":
		out.AssociatePublicIpAddress = boolp(false)
	}
	return out, nil
}
