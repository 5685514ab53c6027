package ec2

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// volumeHealth is a volume's status check: Kumo has no I/O fencing, so
// I/O is always enabled; a volume in error is impaired.
func volumeHealth(v volumeView) string {
	if v.State == store.VolumeError {
		return "impaired"
	}
	return "ok"
}

func ioEnabled(v volumeView) string {
	if v.State == store.VolumeError {
		return "failed"
	}
	return "passed"
}

func apiVolumeStatus(v volumeView) ec2api.VolumeStatusItem {
	out := ec2api.VolumeStatusItem{VolumeId: str(v.ID), AvailabilityZone: str(v.AvailabilityZone),
		Actions: []ec2api.VolumeStatusAction{}, Events: []ec2api.VolumeStatusEvent{},
		VolumeStatus: &ec2api.VolumeStatusInfo{Status: str(volumeHealth(v)), Details: []ec2api.VolumeStatusDetails{
			{Name: str("io-enabled"), Status: str(ioEnabled(v))},
			{Name: str("io-performance"), Status: str("not-applicable")},
		}}}
	for _, a := range v.attachments {
		out.AttachmentStatuses = append(out.AttachmentStatuses, ec2api.VolumeStatusAttachmentStatus{InstanceId: str(a.InstanceID)})
	}
	return out
}

var volumeStatusFields = filter.Fields[volumeView]{
	"availability-zone":            func(v volumeView) []string { return filter.One(v.AvailabilityZone) },
	"volume-status.status":         func(v volumeView) []string { return filter.One(volumeHealth(v)) },
	"volume-status.details-name":   func(volumeView) []string { return []string{"io-enabled", "io-performance"} },
	"volume-status.details-status": func(v volumeView) []string { return []string{ioEnabled(v), "not-applicable"} },
	"action.code":                  func(volumeView) []string { return nil },
	"action.description":           func(volumeView) []string { return nil },
	"action.event-id":              func(volumeView) []string { return nil },
	"event.description":            func(volumeView) []string { return nil },
	"event.event-id":               func(volumeView) []string { return nil },
	"event.event-type":             func(volumeView) []string { return nil },
	"event.not-after":              func(volumeView) []string { return nil },
	"event.not-before":             func(volumeView) []string { return nil },
}

// DescribeVolumeStatus reports each volume's status checks (no events:
// Kumo schedules no volume maintenance).
func (s *Service) DescribeVolumeStatus(ctx context.Context, in *ec2api.DescribeVolumeStatusRequest) (*ec2api.DescribeVolumeStatusResult, error) {
	if err := noIDsWithMaxResults("volumeIds", in.VolumeIds, in.MaxResults); err != nil {
		return nil, err
	}
	views, err := s.volumeViews(ctx)
	if err != nil {
		return nil, err
	}
	if views, err = selectByID(views, in.VolumeIds, func(v volumeView) string { return v.ID }, errVolumeNotFound); err != nil {
		return nil, err
	}
	page, next, err := describe(views, in.Filters, volumeStatusFields, nil, func(v volumeView) string { return v.ID },
		in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVolumeStatusResult{VolumeStatuses: []ec2api.VolumeStatusItem{}, NextToken: next}
	for _, v := range page {
		out.VolumeStatuses = append(out.VolumeStatuses, apiVolumeStatus(v))
	}
	return out, nil
}

// DescribeVolumeAttribute reports autoEnableIO or productCodes (always none).
func (s *Service) DescribeVolumeAttribute(ctx context.Context, in *ec2api.DescribeVolumeAttributeRequest) (*ec2api.DescribeVolumeAttributeResult, error) {
	attr, id := deref(in.Attribute), deref(in.VolumeId)
	if !ec2api.ValidVolumeAttributeName(attr) {
		return nil, invalid("Value (%s) for parameter attribute is invalid. Valid values: autoEnableIO, productCodes.", attr)
	}
	out := &ec2api.DescribeVolumeAttributeResult{VolumeId: str(id)}
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		v, err := ownedVolume(ctx, tx, account, id)
		if err != nil {
			return err
		}
		if attr == "productCodes" {
			out.ProductCodes = []ec2api.ProductCode{}
		} else {
			out.AutoEnableIO = &ec2api.AttributeBooleanValue{Value: boolp(v.AutoEnableIO)}
		}
		return nil
	})
	return out, err
}

// ModifyVolumeAttribute sets autoEnableIO.
func (s *Service) ModifyVolumeAttribute(ctx context.Context, in *ec2api.ModifyVolumeAttributeRequest) (*ec2api.ModifyVolumeAttributeOutput, error) {
	if in.AutoEnableIO == nil || in.AutoEnableIO.Value == nil {
		return nil, apiErr("MissingParameter", "The request must contain the parameter autoEnableIO")
	}
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		v, err := ownedVolume(ctx, tx, account, deref(in.VolumeId))
		if err != nil {
			return err
		}
		v.AutoEnableIO = *in.AutoEnableIO.Value
		return tx.UpdateVolume(ctx, v)
	})
	return &ec2api.ModifyVolumeAttributeOutput{}, err
}

// EnableVolumeIO re-enables I/O on a volume whose I/O was disabled; Kumo
// never disables it, so this only checks the volume is the caller's.
func (s *Service) EnableVolumeIO(ctx context.Context, in *ec2api.EnableVolumeIORequest) (*ec2api.EnableVolumeIOOutput, error) {
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		_, err := ownedVolume(ctx, tx, account, deref(in.VolumeId))
		return err
	})
	return &ec2api.EnableVolumeIOOutput{}, err
}
