package ec2

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// noPaging is for actions EC2 does not paginate.
var noPaging = paginate.Limits{}

var regionFields = filter.Fields[ec2api.Region]{
	"endpoint":      func(r ec2api.Region) []string { return filter.One(deref(r.Endpoint)) },
	"region-name":   func(r ec2api.Region) []string { return filter.One(deref(r.RegionName)) },
	"opt-in-status": func(r ec2api.Region) []string { return filter.One(deref(r.OptInStatus)) },
}

// DescribeRegions reports the one region this Kumo is.
func (s *Service) DescribeRegions(ctx context.Context, in *ec2api.DescribeRegionsRequest) (*ec2api.DescribeRegionsResult, error) {
	regions := []ec2api.Region{{RegionName: str(s.Cfg.Region), Endpoint: str(s.Cfg.Endpoint), OptInStatus: str("opt-in-not-required")}}
	regions, err := selectByID(regions, in.RegionNames, func(r ec2api.Region) string { return deref(r.RegionName) }, func(name string) error {
		return invalid("Invalid region: %s", name)
	})
	if err != nil {
		return nil, err
	}
	page, _, err := describe(regions, in.Filters, regionFields, nil, func(r ec2api.Region) string { return deref(r.RegionName) }, nil, nil, noPaging)
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeRegionsResult{Regions: append([]ec2api.Region{}, page...)}, nil
}

func (s *Service) zones() []ec2api.AvailabilityZone {
	out := make([]ec2api.AvailabilityZone, 0, len(s.Cfg.Zones))
	for _, z := range s.Cfg.Zones {
		out = append(out, ec2api.AvailabilityZone{
			ZoneName: str(z), ZoneId: str(s.zoneID(z)), State: str("available"), OptInStatus: str("opt-in-not-required"),
			RegionName: str(s.Cfg.Region), GroupName: str(s.Cfg.Region), NetworkBorderGroup: str(s.Cfg.Region),
			ZoneType: str("availability-zone"), Messages: []ec2api.AvailabilityZoneMessage{},
		})
	}
	return out
}

var zoneFields = filter.Fields[ec2api.AvailabilityZone]{
	"group-name":           func(z ec2api.AvailabilityZone) []string { return filter.One(deref(z.GroupName)) },
	"network-border-group": func(z ec2api.AvailabilityZone) []string { return filter.One(deref(z.NetworkBorderGroup)) },
	"opt-in-status":        func(z ec2api.AvailabilityZone) []string { return filter.One(deref(z.OptInStatus)) },
	"region-name":          func(z ec2api.AvailabilityZone) []string { return filter.One(deref(z.RegionName)) },
	"state":                func(z ec2api.AvailabilityZone) []string { return filter.One(deref(z.State)) },
	"zone-id":              func(z ec2api.AvailabilityZone) []string { return filter.One(deref(z.ZoneId)) },
	"zone-name":            func(z ec2api.AvailabilityZone) []string { return filter.One(deref(z.ZoneName)) },
	"zone-type":            func(z ec2api.AvailabilityZone) []string { return filter.One(deref(z.ZoneType)) },
	"message":              func(z ec2api.AvailabilityZone) []string { return nil },
}

// DescribeAvailabilityZones lists the region's zones.
func (s *Service) DescribeAvailabilityZones(ctx context.Context, in *ec2api.DescribeAvailabilityZonesRequest) (*ec2api.DescribeAvailabilityZonesResult, error) {
	zones, err := selectByID(s.zones(), in.ZoneNames, func(z ec2api.AvailabilityZone) string { return deref(z.ZoneName) }, func(name string) error {
		return invalid("The zone '%s' does not exist.", name)
	})
	if err != nil {
		return nil, err
	}
	zones, err = selectByID(zones, in.ZoneIds, func(z ec2api.AvailabilityZone) string { return deref(z.ZoneId) }, func(id string) error {
		return invalid("The zone ID '%s' does not exist.", id)
	})
	if err != nil {
		return nil, err
	}
	page, _, err := describe(zones, in.Filters, zoneFields, nil, func(z ec2api.AvailabilityZone) string { return deref(z.ZoneName) }, nil, nil, noPaging)
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeAvailabilityZonesResult{AvailabilityZones: append([]ec2api.AvailabilityZone{}, page...)}, nil
}

// Account-wide limits reported by DescribeAccountAttributes. They match
// AWS's defaults; quotas become configurable with the quota work.
var accountLimits = map[string]string{
	"max-instances":                         "20",
	"vpc-max-security-groups-per-interface": "5",
	"max-elastic-ips":                       "5",
	"vpc-max-elastic-ips":                   "5",
}

var accountAttributeOrder = []string{"supported-platforms", "default-vpc", "max-instances", "vpc-max-security-groups-per-interface", "max-elastic-ips", "vpc-max-elastic-ips"}

// DescribeAccountAttributes reports the platform (VPC only) and the default VPC.
func (s *Service) DescribeAccountAttributes(ctx context.Context, in *ec2api.DescribeAccountAttributesRequest) (*ec2api.DescribeAccountAttributesResult, error) {
	defaultID := "none"
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		v, ok, err := defaultVPC(ctx, tx, account)
		if ok {
			defaultID = v.ID
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	values := map[string]string{"supported-platforms": "VPC", "default-vpc": defaultID}
	for k, v := range accountLimits {
		values[k] = v
	}
	names := in.AttributeNames
	if len(names) == 0 {
		names = accountAttributeOrder
	}
	out := &ec2api.DescribeAccountAttributesResult{AccountAttributes: []ec2api.AccountAttribute{}}
	for _, n := range names {
		v, ok := values[n]
		if !ok {
			return nil, invalid("Value (%s) for parameter attributeName is invalid. Valid values: %v.", n, accountAttributeOrder)
		}
		out.AccountAttributes = append(out.AccountAttributes, ec2api.AccountAttribute{
			AttributeName: str(n), AttributeValues: []ec2api.AccountAttributeValue{{AttributeValue: str(v)}},
		})
	}
	return out, nil
}
