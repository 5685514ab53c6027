package authz

import (
	"context"
	"net/url"
	"sort"
	"strings"

	"github.com/kumo-cloud/kumo/internal/policy/actions"
	"github.com/kumo-cloud/kumo/internal/store"
)

// target is one (action, resource) pair a request is evaluated against,
// with the keys that pair adds to the request's context.
type target struct {
	action, resource string
	keys             map[string][]string
}

// ec2Params name, for each EC2 resource type, the request parameters
// (the last non-numeric part of a Query parameter's name:
// "InstanceId.1", "NetworkInterface.1.SubnetId") that hold its ids.
var ec2Params = map[string][]string{
	"instance":             {"InstanceId"},
	"volume":               {"VolumeId"},
	"snapshot":             {"SnapshotId", "SourceSnapshotId"},
	"image":                {"ImageId", "SourceImageId", "KernelId", "RamdiskId"},
	"key-pair":             {"KeyName"},
	"security-group":       {"GroupId", "SecurityGroupId"},
	"security-group-rule":  {"SecurityGroupRuleId"},
	"subnet":               {"SubnetId"},
	"vpc":                  {"VpcId"},
	"network-interface":    {"NetworkInterfaceId"},
	"elastic-ip":           {"AllocationId"},
	"internet-gateway":     {"InternetGatewayId"},
	"route-table":          {"RouteTableId"},
	"dhcp-options":         {"DhcpOptionsId"},
	"network-acl":          {"NetworkAclId"},
	"launch-template":      {"LaunchTemplateId"},
	"placement-group":      {"GroupName"},
	"import-image-task":    {"ImportTaskId"},
	"import-snapshot-task": {"ImportTaskId"},
}

// notResourceIDs are EC2 parameters named like ids that name no
// resource Kumo authorizes against (checked by the coverage test: every
// "...Id" parameter of an implemented operation is in ec2Params or here).
var notResourceIDs = map[string]string{
	"OwnerId":                     "an account id (a filter on Describe* results)",
	"ExecutableBy":                "an account id",
	"UserId":                      "an account id in a launch permission",
	"ResourceId":                  "any type: mapped by the id's prefix",
	"ImportTaskId":                "mapped by the id's prefix",
	"KeyPairId":                   "key pairs are authorized by name (key-pair/${KeyPairName})",
	"AvailabilityZoneId":          "zones are not resources",
	"ZoneId":                      "zones are not resources",
	"PrefixListId":                "no prefix-list resources in Kumo",
	"ReferencedGroupId":           "the peer of a rule, authorized on the group being changed",
	"GatewayId":                   "a route's target; the route table is the resource",
	"NatGatewayId":                "a route's target",
	"TransitGatewayId":            "a route's target",
	"VpcPeeringConnectionId":      "a route's target",
	"CarrierGatewayId":            "a route's target",
	"LocalGatewayId":              "a route's target",
	"EgressOnlyInternetGatewayId": "a route's target",
	"CoreNetworkArn":              "a route's target",
	"AssociationId":               "an association of a resource named elsewhere in the request",
	"RuleNumber":                  "not an id",
	"ClientToken":                 "idempotency token",
	"SourceSecurityGroupOwnerId":  "an account id",
	"KmsKeyId":                    "Kumo has no KMS keys",
	"DestinationPrefixListId":     "a route's destination",
	"VpcEndpointId":               "a route's target",
	"Ipv4IpamPoolId":              "no IPAM in Kumo",
	"Ipv6IpamPoolId":              "no IPAM in Kumo",
	"AttachmentId":                "an attachment: authorized as network-interface/* and instance/* (the request names neither)",
	"CapacityReservationId":       "no capacity reservations in Kumo",
	"HostId":                      "no dedicated hosts in Kumo",
	"ExcludeDataVolumeId":         "volumes CreateSnapshots leaves out: nothing is done to them",
}

// ec2IDPrefixes map an id's prefix to its resource type (CreateTags and
// DeleteTags name resources of any type as ResourceId.N).
var ec2IDPrefixes = map[string]string{
	"i": "instance", "vol": "volume", "snap": "snapshot", "ami": "image", "aki": "image", "ari": "image",
	"key": "key-pair", "sg": "security-group", "sgr": "security-group-rule", "subnet": "subnet", "vpc": "vpc",
	"eni": "network-interface", "eipalloc": "elastic-ip", "igw": "internet-gateway", "rtb": "route-table",
	"dopt": "dhcp-options", "acl": "network-acl", "lt": "launch-template", "import-ami": "import-image-task",
	"import-snap": "import-snapshot-task",
}

// baseName is a Query parameter's name without list indexes and parents:
// "NetworkInterface.1.SubnetId" -> "SubnetId".
func baseName(param string) string {
	parts := strings.Split(param, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] != "" && (parts[i][0] < '0' || parts[i][0] > '9') {
			return parts[i]
		}
	}
	return ""
}

// ec2IDs collects the ids a request names, by resource type.
func ec2IDs(params url.Values) map[string][]string {
	byParam := map[string]string{}
	for typ, names := range ec2Params {
		for _, n := range names {
			if _, dup := byParam[n]; !dup {
				byParam[n] = typ
			}
		}
	}
	out := map[string][]string{}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable order: the first denial reported is the same each time
	for _, k := range keys {
		if strings.HasPrefix(k, "Filter.") || strings.HasPrefix(k, "TagSpecification.") {
			continue
		}
		base := baseName(k)
		for _, v := range params[k] {
			if v == "" {
				continue
			}
			typ := byParam[base]
			if base == "ResourceId" || base == "ImportTaskId" {
				typ = typeOfID(v)
			}
			if typ != "" {
				out[typ] = append(out[typ], v)
			}
		}
	}
	return out
}

// typeOfID names an EC2 resource type by its id's prefix ("" when unknown).
func typeOfID(id string) string {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return ""
	}
	return ec2IDPrefixes[id[:i]]
}

// requestTags reads Tag.N.Key/Value (CreateTags) or the tags of a
// TagSpecification for a resource type ("" = every specification).
func requestTags(params url.Values, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range params {
		if !strings.HasPrefix(k, prefix) || !strings.HasSuffix(k, ".Key") || len(v) == 0 {
			continue
		}
		out[v[0]] = params.Get(strings.TrimSuffix(k, ".Key") + ".Value")
	}
	return out
}

// tagSpecs returns the TagSpecification entries: resource type -> tags.
func tagSpecs(params url.Values) map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, v := range params {
		if !strings.HasPrefix(k, "TagSpecification.") || !strings.HasSuffix(k, ".ResourceType") || len(v) == 0 {
			continue
		}
		prefix := strings.TrimSuffix(k, "ResourceType") + "Tag."
		tags := requestTags(params, prefix)
		if len(tags) > 0 {
			out[v[0]] = tags
		}
	}
	return out
}

// tagKeys sets aws:RequestTag/* and aws:TagKeys for tags.
func tagKeys(keys map[string][]string, tags map[string]string) {
	if len(tags) == 0 {
		return
	}
	names := make([]string, 0, len(tags))
	for k, v := range tags {
		keys["aws:RequestTag/"+k] = []string{v}
		names = append(names, k)
	}
	sort.Strings(names)
	keys["aws:TagKeys"] = names
}

// ec2Targets maps an EC2 request to what it is authorized against: each
// resource the request names (with its stored tags and instance type),
// "type/*" for a required resource the request creates, "*" for an
// action with no resource type; plus, for tags given at creation,
// ec2:CreateTags on each tagged resource type with ec2:CreateAction.
func (a *Authorizer) ec2Targets(ctx context.Context, tx *store.Tx, c Call, acts []*actions.Action) ([]target, error) {
	ids := ec2IDs(c.Params)
	specs := tagSpecs(c.Params)
	reqTags := map[string]string{}
	for _, tags := range specs {
		for k, v := range tags {
			reqTags[k] = v
		}
	}
	if c.Operation == "CreateTags" || c.Operation == "DeleteTags" {
		reqTags = requestTags(c.Params, "Tag.")
	}
	var out []target
	for _, act := range acts {
		ts, err := a.ec2ActionTargets(ctx, tx, c, act, ids, reqTags)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	if c.Operation != "CreateTags" && len(specs) > 0 {
		out = append(out, a.createTagTargets(c, specs)...)
	}
	return out, nil
}

func (a *Authorizer) ec2ActionTargets(ctx context.Context, tx *store.Tx, c Call, act *actions.Action, ids map[string][]string, reqTags map[string]string) ([]target, error) {
	if len(act.Resources) == 0 {
		keys := map[string][]string{}
		tagKeys(keys, reqTags)
		return []target{{action: act.Name, resource: "*", keys: keys}}, nil
	}
	var out []target
	for _, ref := range act.Resources {
		for _, id := range ids[ref.Type.Name] {
			t, err := a.existing(ctx, tx, c, act.Name, ref.Type, id)
			if err != nil {
				return nil, err
			}
			tagKeys(t.keys, reqTags)
			out = append(out, t)
		}
		if len(ids[ref.Type.Name]) == 0 && ref.Required {
			keys := map[string][]string{}
			tagKeys(keys, reqTags)
			if ref.Type.Name == "instance" && c.Params.Get("InstanceType") != "" {
				keys["ec2:InstanceType"] = []string{c.Params.Get("InstanceType")}
			}
			out = append(out, target{action: act.Name, resource: a.arn(ref.Type, c.Principal.AccountID, "*"), keys: keys})
		}
	}
	if len(out) == 0 {
		// Resource types are all optional and the request names none.
		keys := map[string][]string{}
		tagKeys(keys, reqTags)
		out = append(out, target{action: act.Name, resource: "*", keys: keys})
	}
	return out, nil
}

// existing is a resource the request names: its ARN, stored tags
// (aws:ResourceTag/*, ec2:ResourceTag/*) and, for an instance, its type.
func (a *Authorizer) existing(ctx context.Context, tx *store.Tx, c Call, action string, rt *actions.ResourceType, id string) (target, error) {
	t := target{action: action, resource: a.arn(rt, c.Principal.AccountID, id), keys: map[string][]string{}}
	tags, err := tx.TagsOf(ctx, c.Principal.AccountID, id)
	if err != nil {
		return t, err
	}
	for k, v := range tags {
		t.keys["aws:ResourceTag/"+k] = []string{v}
		t.keys["ec2:ResourceTag/"+k] = []string{v}
	}
	if rt.Name == "instance" {
		if inst, err := tx.GetInstance(ctx, c.Principal.AccountID, id); err == nil {
			t.keys["ec2:InstanceType"] = []string{inst.InstanceType}
		}
	}
	return t, nil
}

// createTagTargets: tagging a resource at creation is also ec2:CreateTags
// on it, with ec2:CreateAction naming the creating operation.
func (a *Authorizer) createTagTargets(c Call, specs map[string]map[string]string) []target {
	types := make([]string, 0, len(specs))
	for rt := range specs {
		types = append(types, rt)
	}
	sort.Strings(types)
	var out []target
	for _, name := range types {
		keys := map[string][]string{"ec2:CreateAction": {c.Operation}}
		tagKeys(keys, specs[name])
		resource := "*"
		if rt, ok := a.Table.ResourceType("ec2", name); ok {
			resource = a.arn(rt, c.Principal.AccountID, "*")
		}
		out = append(out, target{action: "ec2:CreateTags", resource: resource, keys: keys})
	}
	return out
}

// arn expands a resource type's ARN for one id (every ${...Id/Name}
// variable takes it).
func (a *Authorizer) arn(rt *actions.ResourceType, account, id string) string {
	vars := map[string]string{"Region": a.Region, "Account": account}
	tmpl := rt.ARN
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			break
		}
		name := tmpl[i+2 : i+j]
		if _, set := vars[name]; !set && name != "Partition" {
			vars[name] = id
		}
		tmpl = tmpl[i+j+1:]
	}
	return rt.ARNFor(vars)
}
