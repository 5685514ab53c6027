package ec2

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// CPU credit options of burstable instances.
const (
	creditsStandard  = "standard"
	creditsUnlimited = "unlimited"
)

// defaultCredits is a type's credit option when none was chosen: standard
// for t2 (and every type that is not burstable), unlimited for t3, t3a, t4g.
func defaultCredits(t InstanceType) string {
	if !t.Burstable || strings.HasPrefix(t.Name, "t2.") {
		return creditsStandard
	}
	return creditsUnlimited
}

// parseCredits checks a CpuCredits value (case-insensitive, as EC2).
func parseCredits(v string) (string, error) {
	switch c := strings.ToLower(v); c {
	case creditsStandard, creditsUnlimited:
		return c, nil
	}
	return "", invalid("Value (%s) for parameter CpuCredits is invalid. Valid values: standard, unlimited.", v)
}

// launchCredits validates RunInstances' CreditSpecification for a type:
// "unlimited" on a type that is not burstable is refused as EC2 does.
func launchCredits(spec *ec2api.CreditSpecificationRequest, t InstanceType) (string, error) {
	if spec == nil {
		return "", nil
	}
	c, err := parseCredits(deref(spec.CpuCredits))
	if err != nil {
		return "", err
	}
	if !t.Burstable {
		if c == creditsUnlimited {
			return "", apiErr("InstanceCreditSpecification.NotSupported", "The %s instance type does not support unlimited CPU credits.", t.Name)
		}
		return "", nil
	}
	return c, nil
}

// creditsOf is an instance's credit option as EC2 reports it.
func (s *Service) creditsOf(i store.Instance) string {
	if i.CPUCredits != "" {
		return i.CPUCredits
	}
	t, err := s.instanceType(i.InstanceType)
	if err != nil {
		return creditsStandard
	}
	return defaultCredits(t)
}

// DescribeInstanceCreditSpecifications reports the credit option of the
// named instances (a type that is not burstable reports standard), or,
// with no ids, of every instance whose option is unlimited.
func (s *Service) DescribeInstanceCreditSpecifications(ctx context.Context, in *ec2api.DescribeInstanceCreditSpecificationsRequest) (*ec2api.DescribeInstanceCreditSpecificationsResult, error) {
	views, _, err := s.selectInstances(ctx, in.InstanceIds, in.MaxResults, time.Now())
	if err != nil {
		return nil, err
	}
	if len(in.InstanceIds) == 0 {
		var unlimited []instanceView
		for _, v := range views {
			if s.creditsOf(v.Instance) == creditsUnlimited {
				unlimited = append(unlimited, v)
			}
		}
		views = unlimited
	}
	fields := filter.Fields[instanceView]{"instance-id": func(v instanceView) []string { return []string{v.ID} }}
	page, next, err := describe(views, in.Filters, fields, func(v instanceView) map[string]string { return tagMap(v.tags) }, func(v instanceView) string { return v.ID },
		in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceCreditSpecificationsResult{InstanceCreditSpecifications: []ec2api.InstanceCreditSpecification{}, NextToken: next}
	for _, v := range page {
		out.InstanceCreditSpecifications = append(out.InstanceCreditSpecifications,
			ec2api.InstanceCreditSpecification{InstanceId: str(v.ID), CpuCredits: str(s.creditsOf(v.Instance))})
	}
	return out, nil
}

// ModifyInstanceCreditSpecification sets the credit option of burstable
// instances; each instance that cannot take it is reported unsuccessful.
// A retry with the same ClientToken and request changes nothing more.
func (s *Service) ModifyInstanceCreditSpecification(ctx context.Context, in *ec2api.ModifyInstanceCreditSpecificationRequest) (*ec2api.ModifyInstanceCreditSpecificationResult, error) {
	if len(in.InstanceCreditSpecifications) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter InstanceCreditSpecification")
	}
	wants := make([]string, len(in.InstanceCreditSpecifications))
	for n, spec := range in.InstanceCreditSpecifications {
		c, err := parseCredits(deref(spec.CpuCredits))
		if err != nil {
			return nil, err
		}
		wants[n] = c
	}
	out := &ec2api.ModifyInstanceCreditSpecificationResult{
		SuccessfulInstanceCreditSpecifications:   []ec2api.SuccessfulInstanceCreditSpecificationItem{},
		UnsuccessfulInstanceCreditSpecifications: []ec2api.UnsuccessfulInstanceCreditSpecificationItem{},
	}
	token := deref(in.ClientToken)
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if _, err := priorToken(ctx, tx, account, "ModifyInstanceCreditSpecification", token, in); err != nil {
			return err
		}
		for n, spec := range in.InstanceCreditSpecifications {
			id := deref(spec.InstanceId)
			code, msg, err := s.setCredits(ctx, tx, account, id, wants[n])
			if err != nil {
				return err
			}
			if code != "" {
				out.UnsuccessfulInstanceCreditSpecifications = append(out.UnsuccessfulInstanceCreditSpecifications,
					ec2api.UnsuccessfulInstanceCreditSpecificationItem{InstanceId: str(id),
						Error: &ec2api.UnsuccessfulInstanceCreditSpecificationItemError{Code: str(code), Message: str(msg)}})
				continue
			}
			out.SuccessfulInstanceCreditSpecifications = append(out.SuccessfulInstanceCreditSpecifications,
				ec2api.SuccessfulInstanceCreditSpecificationItem{InstanceId: str(id)})
		}
		return recordToken(ctx, tx, account, "ModifyInstanceCreditSpecification", token, in, "")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// setCredits changes one instance's option; a refusal is returned as the
// code and message of an unsuccessful item (code "" on success).
func (s *Service) setCredits(ctx context.Context, tx *store.Tx, account, id, credits string) (string, string, error) {
	if err := checkInstanceID(id); err != nil {
		return "InvalidInstanceID.Malformed", "Invalid id: \"" + id + "\"", nil
	}
	i, err := tx.GetInstance(ctx, account, id)
	if errors.Is(err, store.ErrNotFound) {
		return "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist", nil
	}
	if err != nil {
		return "", "", err
	}
	switch instancestate.State(i.State) {
	case instancestate.Terminated, instancestate.ShuttingDown:
		return "IncorrectInstanceState", "The instance '" + id + "' is not in a valid state for this operation.", nil
	}
	t, err := s.instanceType(i.InstanceType)
	if err != nil || !t.Burstable {
		return "InstanceCreditSpecification.NotSupported", "The " + i.InstanceType + " instance type does not support CPU credit options.", nil
	}
	i.CPUCredits = credits
	return "", "", tx.UpdateInstanceRequest(ctx, i)
}
