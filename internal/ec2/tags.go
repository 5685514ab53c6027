package ec2

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Resource types as EC2 names them in tags and TagSpecifications.
const (
	typeVPC       = "vpc"
	typeSubnet    = "subnet"
	typeGroup     = "security-group"
	typeGroupRule = "security-group-rule"
	typeKeyPair   = "key-pair"
)

// MaxTagsPerResource is EC2's limit.
const MaxTagsPerResource = 50

// resourceTypeOf maps an id's prefix to its resource type.
func resourceTypeOf(id string) (string, bool) {
	switch {
	case strings.HasPrefix(id, "import-ami-"):
		return "import-image-task", true
	case strings.HasPrefix(id, "import-snap-"):
		return "import-snapshot-task", true
	}
	prefix, _, ok := strings.Cut(id, "-")
	if !ok {
		return "", false
	}
	t, ok := map[string]string{"vpc": typeVPC, "subnet": typeSubnet, "sg": typeGroup, "sgr": typeGroupRule, "key": typeKeyPair,
		"ami": typeImage, "aki": typeImage, "ari": typeImage, "snap": typeSnapshot, "i": typeInstance, "eni": typeInterface, "eipalloc": typeAddress,
		"igw": typeInternetGateway, "rtb": typeRouteTable, "dopt": typeDHCPOptions,
		"acl": typeNetworkACL, "vol": typeVolume}[prefix]
	return t, ok
}

// apiTags converts stored tags to the API shape (nil when none, as AWS omits tagSet).
func apiTags(tags []store.Tag) []ec2api.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]ec2api.Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, ec2api.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return out
}

// tagMap is the filter view of a resource's tags.
func tagMap(tags []store.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

func validateTag(t ec2api.Tag) error {
	k := deref(t.Key)
	switch {
	case t.Key == nil || k == "":
		return invalid("Tag key cannot be empty")
	case len(k) > 128:
		return invalid("Tag key exceeds the maximum length of 128 characters")
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return invalid("Tag keys starting with 'aws:' are reserved for internal use")
	case len(deref(t.Value)) > 256:
		return invalid("Tag value exceeds the maximum length of 256 characters")
	}
	return nil
}

// specTags returns the tags a request's TagSpecifications ask for on a new
// resource of type rtype; a specification for another type is an error.
func specTags(specs []ec2api.TagSpecification, rtype string) ([]ec2api.Tag, error) {
	var out []ec2api.Tag
	for _, s := range specs {
		if deref(s.ResourceType) != rtype {
			return nil, invalid("'%s' is not a valid taggable resource type for this operation.", deref(s.ResourceType))
		}
		for _, t := range s.Tags {
			if err := validateTag(t); err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	if len(out) > MaxTagsPerResource {
		return nil, apiErr("TagLimitExceeded", "The maximum number of tags for a resource is %d.", MaxTagsPerResource)
	}
	return out, nil
}

// putTags stores tags on one resource and returns them as stored rows.
func putTags(ctx context.Context, tx *store.Tx, account, id, rtype string, tags []ec2api.Tag) ([]store.Tag, error) {
	var rows []store.Tag
	for _, t := range tags {
		row := store.Tag{AccountID: account, ResourceID: id, ResourceType: rtype, Key: deref(t.Key), Value: deref(t.Value)}
		if err := tx.PutTag(ctx, row); err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// resourceExists checks that id names a resource of the account.
func resourceExists(ctx context.Context, tx *store.Tx, account, id string) (string, error) {
	rtype, ok := resourceTypeOf(id)
	if !ok {
		return "", apiErr("InvalidID", "The ID '%s' is not valid", id)
	}
	var found bool
	var err error
	switch rtype {
	case typeVPC:
		_, err = tx.GetVPC(ctx, account, id)
		found, err = notFoundOK(err)
		if !found && err == nil {
			err = errVPCNotFound(id)
		}
	case typeSubnet:
		err = findIn(ctx, tx.ListSubnets, account, id, func(s store.Subnet) string { return s.ID }, errSubnetNotFound)
	case typeGroup:
		err = findIn(ctx, tx.ListSecurityGroups, account, id, func(g store.SecurityGroup) string { return g.ID }, errGroupNotFound)
	case typeGroupRule:
		err = findIn(ctx, tx.ListSecurityGroupRules, account, id, func(r store.SecurityGroupRule) string { return r.ID }, errRuleNotFound)
	case typeImage:
		_, err = ownedImage(ctx, tx, account, id)
	case typeSnapshot:
		_, err = ownedSnapshot(ctx, tx, account, id)
	case typeVolume:
		_, err = ownedVolume(ctx, tx, account, id)
	case "import-image-task", "import-snapshot-task":
		_, err = tx.GetImportTask(ctx, account, id)
		if found, e := notFoundOK(err); !found {
			err = e
			if e == nil {
				err = errImportTaskNotFound(id)
			}
		}
	case typeInternetGateway, typeRouteTable, typeDHCPOptions:
		err = routingResourceExists(ctx, tx, account, rtype, id)
	case typeNetworkACL:
		err = networkACLExists(ctx, tx, account, id)
	case typeInstance, typeInterface:
		err = instanceResourceExists(ctx, tx, account, rtype, id)
	case typeAddress:
		err = findIn(ctx, tx.ListAddresses, account, id, func(a store.Address) string { return a.AllocationID }, errEIPAllocationNotFound)
	case typeKeyPair:
		err = findIn(ctx, tx.ListKeyPairs, account, id, func(k store.KeyPair) string { return k.ID }, func(id string) error {
			return apiErr("InvalidKeyPair.NotFound", "The key pair ID '%s' does not exist", id)
		})
	}
	return rtype, err
}

func notFoundOK(err error) (bool, error) {
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func findIn[T any](ctx context.Context, list func(context.Context, string) ([]T, error), account, id string, idOf func(T) string, notFound func(string) error) error {
	items, err := list(ctx, account)
	if err != nil {
		return err
	}
	for _, it := range items {
		if idOf(it) == id {
			return nil
		}
	}
	return notFound(id)
}

// CreateTags adds or overwrites tags on resources of the caller's account.
func (s *Service) CreateTags(ctx context.Context, in *ec2api.CreateTagsRequest) (*ec2api.CreateTagsOutput, error) {
	if len(in.Resources) > 1000 {
		return nil, invalid("You can tag at most 1000 resources in one request")
	}
	for _, t := range in.Tags {
		if err := validateTag(t); err != nil {
			return nil, err
		}
	}
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		for _, id := range in.Resources {
			rtype, err := resourceExists(ctx, tx, account, id)
			if err != nil {
				return err
			}
			if _, err := putTags(ctx, tx, account, id, rtype, in.Tags); err != nil {
				return err
			}
			if err := checkTagCount(ctx, tx, account, id, rtype); err != nil {
				return err
			}
		}
		return nil
	})
	return &ec2api.CreateTagsOutput{}, err
}

func checkTagCount(ctx context.Context, tx *store.Tx, account, id, rtype string) error {
	byRes, err := tx.TagsByResource(ctx, account, rtype)
	if err != nil {
		return err
	}
	if len(byRes[id]) > MaxTagsPerResource {
		return apiErr("TagLimitExceeded", "The maximum number of tags for a resource is %d.", MaxTagsPerResource)
	}
	return nil
}

// DeleteTags removes tags; a tag given with a value is removed only when the value matches.
func (s *Service) DeleteTags(ctx context.Context, in *ec2api.DeleteTagsRequest) (*ec2api.DeleteTagsOutput, error) {
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		for _, id := range in.Resources {
			if _, err := resourceExists(ctx, tx, account, id); err != nil {
				return err
			}
			if len(in.Tags) == 0 {
				if err := tx.DeleteAllTags(ctx, account, id); err != nil {
					return err
				}
			}
			for _, t := range in.Tags {
				if err := tx.DeleteTag(ctx, account, id, deref(t.Key), t.Value); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return &ec2api.DeleteTagsOutput{}, err
}

var tagFields = filter.Fields[store.Tag]{
	"key":           func(t store.Tag) []string { return filter.One(t.Key) },
	"value":         func(t store.Tag) []string { return filter.One(t.Value) },
	"resource-id":   func(t store.Tag) []string { return filter.One(t.ResourceID) },
	"resource-type": func(t store.Tag) []string { return filter.One(t.ResourceType) },
}

// DescribeTags lists the caller's tags, never another account's.
func (s *Service) DescribeTags(ctx context.Context, in *ec2api.DescribeTagsRequest) (*ec2api.DescribeTagsResult, error) {
	var tags []store.Tag
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		tags, err = tx.ListTags(ctx, account, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	byRes := map[string]map[string]string{}
	for _, t := range tags {
		if byRes[t.ResourceID] == nil {
			byRes[t.ResourceID] = map[string]string{}
		}
		byRes[t.ResourceID][t.Key] = t.Value
	}
	page, next, err := describe(tags, in.Filters, tagFields, func(t store.Tag) map[string]string { return byRes[t.ResourceID] },
		func(t store.Tag) string { return t.ResourceID + "\x00" + t.Key }, in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeTagsResult{Tags: []ec2api.TagDescription{}, NextToken: next}
	for _, t := range page {
		out.Tags = append(out.Tags, ec2api.TagDescription{Key: str(t.Key), Value: str(t.Value), ResourceId: str(t.ResourceID), ResourceType: str(t.ResourceType)})
	}
	return out, nil
}

// listTagged reads the caller's resources of one type with their tags, in one snapshot.
func listTagged[T any](ctx context.Context, s *Service, rtype string, list func(*store.Tx) func(context.Context, string) ([]T, error)) ([]T, map[string][]store.Tag, error) {
	var items []T
	var tags map[string][]store.Tag
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		if items, err = list(tx)(ctx, account); err != nil {
			return err
		}
		tags, err = tx.TagsByResource(ctx, account, rtype)
		return err
	})
	return items, tags, err
}

// describe filters and pages a Describe action's resources.
func describe[T any](items []T, filters []ec2api.Filter, fields filter.Fields[T], tags filter.Tags[T], id func(T) string, max *int32, token *string, lim paginate.Limits) ([]T, *string, error) {
	pred, err := filter.Compile(convertFilters(filters), fields, tags)
	if err != nil {
		return nil, nil, listErr(err)
	}
	var kept []T
	for _, it := range items {
		if pred(it) {
			kept = append(kept, it)
		}
	}
	page, next, err := paginate.Page(kept, id, max, token, lim)
	if err != nil {
		return nil, nil, listErr(err)
	}
	return page, next, nil
}

func convertFilters(in []ec2api.Filter) []filter.Filter {
	out := make([]filter.Filter, 0, len(in))
	for _, f := range in {
		out = append(out, filter.Filter{Name: deref(f.Name), Values: f.Values})
	}
	return out
}

// selectByID keeps the items whose id is listed (all when ids is empty);
// an id that matches nothing is reported through notFound.
func selectByID[T any](items []T, ids []string, idOf func(T) string, notFound func(string) error) ([]T, error) {
	if len(ids) == 0 {
		return items, nil
	}
	byID := make(map[string]T, len(items))
	for _, it := range items {
		byID[idOf(it)] = it
	}
	var out []T
	seen := map[string]bool{}
	for _, id := range ids {
		it, ok := byID[id]
		if !ok {
			return nil, notFound(id)
		}
		if !seen[id] {
			out = append(out, it)
			seen[id] = true
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return idOf(out[i]) < idOf(out[j]) })
	return out, nil
}

// noIDsWithMaxResults mirrors EC2's rule that ids and MaxResults exclude each other.
func noIDsWithMaxResults(param string, ids []string, max *int32) error {
	if len(ids) > 0 && max != nil {
		return apiErr("InvalidParameterCombination", "The parameter %s cannot be used with the parameter maxResults", param)
	}
	return nil
}

// taggedQuery is a Describe action over one kind of tagged resource: ids
// (with EC2's rule against also giving MaxResults), filters, pages.
type taggedQuery[T any] struct {
	rtype    string
	idsParam string
	list     func(*store.Tx) func(context.Context, string) ([]T, error)
	id       func(T) string
	notFound func(string) error
	fields   filter.Fields[T]
}

// run returns one page of the caller's resources, their tags, and the next token.
func (q taggedQuery[T]) run(ctx context.Context, s *Service, ids []string, filters []ec2api.Filter, max *int32, token *string) ([]T, map[string][]store.Tag, *string, error) {
	if err := noIDsWithMaxResults(q.idsParam, ids, max); err != nil {
		return nil, nil, nil, err
	}
	items, tags, err := listTagged(ctx, s, q.rtype, q.list)
	if err != nil {
		return nil, nil, nil, err
	}
	if items, err = selectByID(items, ids, q.id, q.notFound); err != nil {
		return nil, nil, nil, err
	}
	page, next, err := describe(items, filters, q.fields, func(it T) map[string]string { return tagMap(tags[q.id(it)]) },
		q.id, max, token, paginate.Limits{Min: 5, Max: 1000})
	return page, tags, next, err
}
