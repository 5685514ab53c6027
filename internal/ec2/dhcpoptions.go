package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/dnsname"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

const (
	typeDHCPOptions = "dhcp-options"
	// amazonDNS names the VPC's own resolver in domain-name-servers.
	amazonDNS = "AmazonProvidedDNS"
	// noDHCPOptions is the id AssociateDhcpOptions and DescribeVpcs use for "no options set".
	noDHCPOptions = "default"
)

func errDHCPOptionsNotFound(id string) error {
	return apiErr("InvalidDhcpOptionID.NotFound", "The dhcpOption ID '%s' does not exist", id)
}

// defaultDomainName is the domain AWS's default options set carries in a region.
func defaultDomainName(region string) string { return dnsname.PrivateDomain(region) }

// createDefaultDHCPOptions makes the account's default options set, which new VPCs use.
func (s *Service) createDefaultDHCPOptions(ctx context.Context, tx *store.Tx, account string) (store.DHCPOptions, error) {
	o := store.DHCPOptions{ID: ids.Resource("dopt"), AccountID: account, IsDefault: true, CreatedAt: time.Now().UTC(),
		Configurations: []store.DHCPConfiguration{
			{Key: "domain-name", Values: []string{defaultDomainName(s.Cfg.Region)}},
			{Key: "domain-name-servers", Values: []string{amazonDNS}},
		}}
	return o, tx.InsertDHCPOptions(ctx, o)
}

// useDefaultDHCPOptions associates a new VPC with the account's default options set, if it still exists.
func useDefaultDHCPOptions(ctx context.Context, tx *store.Tx, vpc store.VPC) error {
	sets, err := tx.ListDHCPOptions(ctx, vpc.AccountID)
	if err != nil {
		return err
	}
	for _, o := range sets {
		if o.IsDefault {
			return tx.SetVPCDHCPOptions(ctx, vpc.ID, o.ID)
		}
	}
	return nil
}

// dhcpLimits is how many values each option takes.
var dhcpLimits = map[string]int{"domain-name": 1, "domain-name-servers": 4, "ntp-servers": 8, "netbios-name-servers": 4,
	"netbios-node-type": 1, "ipv6-address-preferred-lease-time": 1}

// parseDHCPConfigurations validates a CreateDhcpOptions request as EC2 does.
func parseDHCPConfigurations(in []ec2api.NewDhcpConfiguration) ([]store.DHCPConfiguration, error) {
	if len(in) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter dhcpConfiguration")
	}
	var out []store.DHCPConfiguration
	seen := map[string]bool{}
	for _, c := range in {
		key := deref(c.Key)
		limit, ok := dhcpLimits[key]
		if !ok {
			return nil, invalid("Value (%s) for parameter name is invalid. Unrecognized DHCP option.", key)
		}
		if seen[key] {
			return nil, invalid("Value (%s) for parameter name is invalid. The option is given more than once.", key)
		}
		seen[key] = true
		values := splitValues(c.Values)
		if len(values) == 0 {
			return nil, invalid("Value for parameter %s is invalid. A value is required.", key)
		}
		if len(values) > limit {
			return nil, invalid("Value (%s) for parameter %s is invalid. At most %d values are allowed.", strings.Join(values, ","), key, limit)
		}
		for _, v := range values {
			if err := checkDHCPValue(key, v); err != nil {
				return nil, err
			}
		}
		out = append(out, store.DHCPConfiguration{Key: key, Values: values})
	}
	return out, nil
}

// splitValues accepts values given one by one or comma-separated in one parameter.
func splitValues(in []string) []string {
	var out []string
	for _, v := range in {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func checkDHCPValue(key, v string) error {
	bad := func(why string) error {
		return invalid("Value (%s) for parameter %s is invalid. %s", v, key, why)
	}
	switch key {
	case "domain-name":
		if len(v) > 255 {
			return bad("The domain name is too long.")
		}
	case "domain-name-servers":
		if _, err := netip.ParseAddr(v); err != nil && v != amazonDNS {
			return bad("Give IP addresses or AmazonProvidedDNS.")
		}
	case "ntp-servers", "netbios-name-servers":
		if _, err := netip.ParseAddr(v); err != nil {
			return bad("Give IP addresses.")
		}
	case "netbios-node-type":
		if !slices.Contains([]string{"1", "2", "4", "8"}, v) {
			return bad("Valid values: 1, 2, 4, 8.")
		}
	case "ipv6-address-preferred-lease-time":
		if n, err := strconv.Atoi(v); err != nil || n < 140 || n > 2147483647 {
			return bad("Give seconds between 140 and 2147483647.")
		}
	}
	return nil
}

// CreateDhcpOptions makes an options set.
func (s *Service) CreateDhcpOptions(ctx context.Context, in *ec2api.CreateDhcpOptionsRequest) (*ec2api.CreateDhcpOptionsResult, error) {
	conf, err := parseDHCPConfigurations(in.DhcpConfigurations)
	if err != nil {
		return nil, err
	}
	tags, err := specTags(in.TagSpecifications, typeDHCPOptions)
	if err != nil {
		return nil, err
	}
	o := store.DHCPOptions{ID: ids.Resource("dopt"), Configurations: conf, CreatedAt: time.Now().UTC()}
	var rows []store.Tag
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		o.AccountID = account
		if err := tx.InsertDHCPOptions(ctx, o); err != nil {
			return err
		}
		rows, err = putTags(ctx, tx, account, o.ID, typeDHCPOptions, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateDhcpOptionsResult{DhcpOptions: apiDHCPOptions(o, rows)}, nil
}

func getDHCPOptions(ctx context.Context, tx *store.Tx, account, id string) (store.DHCPOptions, error) {
	if err := checkID(id, "dopt", "InvalidDhcpOptionsId.Malformed"); err != nil {
		return store.DHCPOptions{}, err
	}
	sets, err := tx.ListDHCPOptions(ctx, account)
	return findOwned(sets, err, id, func(o store.DHCPOptions) string { return o.ID }, errDHCPOptionsNotFound)
}

// AssociateDhcpOptions makes a VPC use an options set, or none ("default").
func (s *Service) AssociateDhcpOptions(ctx context.Context, in *ec2api.AssociateDhcpOptionsRequest) (*ec2api.AssociateDhcpOptionsOutput, error) {
	id, vpcID := deref(in.DhcpOptionsId), deref(in.VpcId)
	err := s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if id != noDHCPOptions {
			if _, err := getDHCPOptions(ctx, tx, account, id); err != nil {
				return err
			}
		}
		if err := checkID(vpcID, "vpc", "InvalidVpcID.Malformed"); err != nil {
			return err
		}
		if _, err := tx.GetVPC(ctx, account, vpcID); err != nil {
			return vpcErr(err, vpcID)
		}
		if id == noDHCPOptions {
			id = ""
		}
		return tx.SetVPCDHCPOptions(ctx, vpcID, id)
	})
	return &ec2api.AssociateDhcpOptionsOutput{}, err
}

// DeleteDhcpOptions removes an options set no VPC uses.
func (s *Service) DeleteDhcpOptions(ctx context.Context, in *ec2api.DeleteDhcpOptionsRequest) (*ec2api.DeleteDhcpOptionsOutput, error) {
	id := deref(in.DhcpOptionsId)
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if _, err := getDHCPOptions(ctx, tx, account, id); err != nil {
			return err
		}
		used, err := tx.VPCDHCPOptionsIDs(ctx, account)
		if err != nil {
			return err
		}
		for _, opt := range used {
			if opt == id {
				return errDependency("The dhcpOptions '%s' has dependencies and cannot be deleted.", id)
			}
		}
		return tx.DeleteDHCPOptions(ctx, account, id)
	})
	return &ec2api.DeleteDhcpOptionsOutput{}, err
}

func apiDHCPOptions(o store.DHCPOptions, tags []store.Tag) *ec2api.DhcpOptions {
	out := &ec2api.DhcpOptions{DhcpOptionsId: str(o.ID), OwnerId: str(o.AccountID), DhcpConfigurations: []ec2api.DhcpConfiguration{}, Tags: apiTags(tags)}
	for _, c := range o.Configurations {
		dc := ec2api.DhcpConfiguration{Key: str(c.Key)}
		for _, v := range c.Values {
			dc.Values = append(dc.Values, ec2api.AttributeValue{Value: str(v)})
		}
		out.DhcpConfigurations = append(out.DhcpConfigurations, dc)
	}
	return out
}

var dhcpFields = filter.Fields[store.DHCPOptions]{
	"dhcp-options-id": func(o store.DHCPOptions) []string { return filter.One(o.ID) },
	"owner-id":        func(o store.DHCPOptions) []string { return filter.One(o.AccountID) },
	"key": func(o store.DHCPOptions) []string {
		var out []string
		for _, c := range o.Configurations {
			out = append(out, c.Key)
		}
		return out
	},
	"value": func(o store.DHCPOptions) []string {
		var out []string
		for _, c := range o.Configurations {
			out = append(out, c.Values...)
		}
		return out
	},
}

// DescribeDhcpOptions lists the caller's options sets.
func (s *Service) DescribeDhcpOptions(ctx context.Context, in *ec2api.DescribeDhcpOptionsRequest) (*ec2api.DescribeDhcpOptionsResult, error) {
	q := taggedQuery[store.DHCPOptions]{rtype: typeDHCPOptions, idsParam: "dhcpOptionsIds", fields: dhcpFields, notFound: errDHCPOptionsNotFound,
		list: func(tx *store.Tx) func(context.Context, string) ([]store.DHCPOptions, error) {
			return tx.ListDHCPOptions
		},
		id: func(o store.DHCPOptions) string { return o.ID }}
	page, tags, next, err := q.run(ctx, s, in.DhcpOptionsIds, in.Filters, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeDhcpOptionsResult{DhcpOptions: []ec2api.DhcpOptions{}, NextToken: next}
	for _, o := range page {
		out.DhcpOptions = append(out.DhcpOptions, *apiDHCPOptions(o, tags[o.ID]))
	}
	return out, nil
}

// dhcpOptionsOf is a VPC's options set id as DescribeVpcs shows it.
func dhcpOptionsOf(dopts map[string]string, vpcID string) string {
	if id := dopts[vpcID]; id != "" {
		return id
	}
	return noDHCPOptions
}

// vpcDHCPOptionsID reads one VPC's options set id ("default" when none).
func vpcDHCPOptionsID(ctx context.Context, tx *store.Tx, account, vpcID string) (string, error) {
	dopts, err := tx.VPCDHCPOptionsIDs(ctx, account)
	if err != nil {
		return "", err
	}
	return dhcpOptionsOf(dopts, vpcID), nil
}

// listVPCsWithDHCP lists VPCs and fills dopts with their options sets, in the same transaction.
func listVPCsWithDHCP(tx *store.Tx, dopts map[string]string) func(context.Context, string) ([]store.VPC, error) {
	return func(ctx context.Context, account string) ([]store.VPC, error) {
		m, err := tx.VPCDHCPOptionsIDs(ctx, account)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			dopts[k] = v
		}
		return tx.ListVPCs(ctx, account)
	}
}

// defaultVPCRouting gives the default VPC what AWS gives it: a main route
// table with a route to an attached internet gateway, and the account's
// default DHCP options set.
func (s *Service) defaultVPCRouting(ctx context.Context, tx *store.Tx, vpc store.VPC) error {
	main, err := createMainRouteTable(ctx, tx, vpc)
	if err != nil {
		return err
	}
	if err := attachDefaultGateway(ctx, tx, vpc, main); err != nil {
		return err
	}
	o, err := s.createDefaultDHCPOptions(ctx, tx, vpc.AccountID)
	if err != nil {
		return err
	}
	return tx.SetVPCDHCPOptions(ctx, vpc.ID, o.ID)
}
