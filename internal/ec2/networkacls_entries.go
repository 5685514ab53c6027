package ec2

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/store"
)

func errACLEntryNotFound(n int) error {
	return apiErr("InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d does not exist", n)
}

func errACLEntryExists(n int) error {
	return apiErr("NetworkAclEntryAlreadyExists", "The network acl entry identified by %d already exists.", n)
}

// aclEntryRequest is CreateNetworkAclEntry's and ReplaceNetworkAclEntry's input.
type aclEntryRequest struct {
	aclID, protocol, action, cidr, cidr6 *string
	egress                               *bool
	number                               *int32
	ports                                *ec2api.PortRange
	icmp                                 *ec2api.IcmpTypeCode
}

// aclProtocols are the names EC2 accepts for an entry's protocol; it
// stores and shows numbers.
var aclProtocols = map[string]string{"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "all": "-1"}

// parseACLEntry validates an entry as EC2 does.
func parseACLEntry(r aclEntryRequest) (store.NetworkACLEntry, error) {
	var e store.NetworkACLEntry
	if err := aclMissingParam([]string{"networkAclId", "ruleNumber", "egress", "protocol", "ruleAction"},
		r.aclID == nil, r.number == nil, r.egress == nil, r.protocol == nil, r.action == nil); err != nil {
		return e, err
	}
	e.NetworkACLID, e.Egress, e.RuleNumber = *r.aclID, *r.egress, int(*r.number)
	if err := checkACLRuleNumber(e.RuleNumber); err != nil {
		return e, err
	}
	e.RuleAction = strings.ToLower(*r.action)
	if e.RuleAction != "allow" && e.RuleAction != "deny" {
		return e, invalid("Value (%s) for parameter ruleAction is invalid. Valid values: allow, deny", *r.action)
	}
	var err error
	if e.Protocol, err = aclProtocol(*r.protocol); err != nil {
		return e, err
	}
	if e.CIDRBlock, e.IPv6CIDRBlock, err = aclEntryCIDR(r.cidr, r.cidr6); err != nil {
		return e, err
	}
	switch e.Protocol {
	case "6", "17":
		if r.ports == nil || r.ports.From == nil || r.ports.To == nil {
			return e, invalid("Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.")
		}
		from, to := int(*r.ports.From), int(*r.ports.To)
		if from < 0 || to > 65535 || from > to {
			return e, invalid("Invalid value '%d-%d' for portRange. Ports must be in the range 0-65535 and from must not exceed to.", from, to)
		}
		e.PortRange = &store.PortRange{From: from, To: to}
	case "1", "58":
		if r.icmp == nil || r.icmp.Type == nil || r.icmp.Code == nil {
			return e, invalid("Invalid value 'Must specify both type and code with ICMP.' for icmpTypeCode.")
		}
		typ, code := int(*r.icmp.Type), int(*r.icmp.Code)
		if typ < -1 || typ > 255 || code < -1 || code > 255 {
			return e, invalid("Invalid value '%d/%d' for icmpTypeCode. Type and code must be -1 or 0-255.", typ, code)
		}
		e.ICMP = &store.ICMPTypeCode{Type: typ, Code: code}
	}
	return e, nil
}

// aclMissingParam is MissingParameter for the first of names that is absent.
func aclMissingParam(names []string, absent ...bool) error {
	for i, a := range absent {
		if a {
			return apiErr("MissingParameter", "The request must contain the parameter %s", names[i])
		}
	}
	return nil
}

func checkACLRuleNumber(n int) error {
	if n < 1 || n > 32766 {
		return invalid("Value (%d) for parameter ruleNumber is invalid. Rulenumber must be in range 1..32766", n)
	}
	return nil
}

func aclProtocol(p string) (string, error) {
	if n, ok := aclProtocols[strings.ToLower(p)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < -1 || n > 255 {
		return "", invalid("Invalid value '%s' for IP protocol. Unknown protocol.", p)
	}
	return strconv.Itoa(n), nil
}

// aclEntryCIDR takes exactly one of the IPv4 and the IPv6 range.
func aclEntryCIDR(cidr, cidr6 *string) (string, string, error) {
	switch {
	case cidr != nil && cidr6 != nil:
		return "", "", apiErr("InvalidParameterCombination", "Only one of cidrBlock and ipv6CidrBlock may be specified.")
	case cidr != nil:
		c, err := parseRuleCIDR(*cidr, false)
		return c, "", err
	case cidr6 != nil:
		c, err := parseRuleCIDR(*cidr6, true)
		return "", c, err
	}
	return "", "", apiErr("MissingParameter", "The request must contain the parameter cidrBlock or ipv6CidrBlock")
}

// writeACLEntry parses r and, when the caller owns its ACL, hands the
// entry to write inside one network update (Create and Replace differ only
// in write).
func (s *Service) writeACLEntry(ctx context.Context, r aclEntryRequest, write func(context.Context, *store.Tx, store.NetworkACLEntry) error) error {
	e, err := parseACLEntry(r)
	if err != nil {
		return err
	}
	return s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if _, err := getNetworkACL(ctx, tx, account, e.NetworkACLID); err != nil {
			return err
		}
		return write(ctx, tx, e)
	})
}

// CreateNetworkAclEntry adds a numbered entry to one direction of an ACL.
func (s *Service) CreateNetworkAclEntry(ctx context.Context, in *ec2api.CreateNetworkAclEntryRequest) (*ec2api.CreateNetworkAclEntryOutput, error) {
	req := aclEntryRequest{aclID: in.NetworkAclId, protocol: in.Protocol, action: in.RuleAction, cidr: in.CidrBlock, cidr6: in.Ipv6CidrBlock,
		egress: in.Egress, number: in.RuleNumber, ports: in.PortRange, icmp: in.IcmpTypeCode}
	err := s.writeACLEntry(ctx, req, func(ctx context.Context, tx *store.Tx, e store.NetworkACLEntry) error {
		err := tx.InsertNetworkACLEntry(ctx, e)
		if errors.Is(err, store.ErrConflict) {
			return errACLEntryExists(e.RuleNumber)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateNetworkAclEntryOutput{}, nil
}

// ReplaceNetworkAclEntry changes an existing entry.
func (s *Service) ReplaceNetworkAclEntry(ctx context.Context, in *ec2api.ReplaceNetworkAclEntryRequest) (*ec2api.ReplaceNetworkAclEntryOutput, error) {
	req := aclEntryRequest{aclID: in.NetworkAclId, protocol: in.Protocol, action: in.RuleAction, cidr: in.CidrBlock, cidr6: in.Ipv6CidrBlock,
		egress: in.Egress, number: in.RuleNumber, ports: in.PortRange, icmp: in.IcmpTypeCode}
	err := s.writeACLEntry(ctx, req, func(ctx context.Context, tx *store.Tx, e store.NetworkACLEntry) error {
		if found, err := notFoundOK(tx.ReplaceNetworkACLEntry(ctx, e)); !found {
			if err != nil {
				return err
			}
			return errACLEntryNotFound(e.RuleNumber)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceNetworkAclEntryOutput{}, nil
}

// DeleteNetworkAclEntry removes an entry ("*" cannot be removed).
func (s *Service) DeleteNetworkAclEntry(ctx context.Context, in *ec2api.DeleteNetworkAclEntryRequest) (*ec2api.DeleteNetworkAclEntryOutput, error) {
	if err := aclMissingParam([]string{"networkAclId", "ruleNumber", "egress"}, in.NetworkAclId == nil, in.RuleNumber == nil, in.Egress == nil); err != nil {
		return nil, err
	}
	id, egress, n := *in.NetworkAclId, *in.Egress, int(*in.RuleNumber)
	if err := checkACLRuleNumber(n); err != nil {
		return nil, err
	}
	err := s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if _, err := getNetworkACL(ctx, tx, account, id); err != nil {
			return err
		}
		if found, err := notFoundOK(tx.DeleteNetworkACLEntry(ctx, id, egress, n)); !found {
			if err != nil {
				return err
			}
			return errACLEntryNotFound(n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteNetworkAclEntryOutput{}, nil
}
