package ec2

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/store"
)

// attributeOwner finds an image whose attributes the caller may read or
// change: its own. A public or shared image is AuthFailure, others NotFound.
func attributeOwner(ctx context.Context, tx *store.Tx, account, id string) (store.Image, error) {
	im, err := launchableImage(ctx, tx, account, id)
	if err != nil {
		return im, err
	}
	if im.AccountID != account {
		return im, apiErr("AuthFailure", "Not authorized for image:%s", id)
	}
	return im, nil
}

// DescribeImageAttribute reports one attribute of an image the caller owns.
func (s *Service) DescribeImageAttribute(ctx context.Context, in *ec2api.DescribeImageAttributeRequest) (*ec2api.ImageAttribute, error) {
	id, attr := deref(in.ImageId), deref(in.Attribute)
	out := &ec2api.ImageAttribute{ImageId: str(id)}
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		im, err := launchableImage(ctx, tx, account, id)
		if err != nil {
			return err
		}
		if im.AccountID != account {
			if err := foreignImageAttribute(id, attr); err != nil {
				return err
			}
		}
		return fillImageAttribute(ctx, tx, im, attr, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// foreignImageAttribute is EC2's rule for attributes of an image the
// caller may launch but does not own: description, kernel, ramdisk and
// product codes are readable, launch permissions and block devices are
// not (AuthFailure), and the newer attributes answer InvalidRequest.
func foreignImageAttribute(id, attr string) error {
	switch attr {
	case "description", "kernel", "ramdisk", "productCodes":
		return nil
	case "launchPermission", "blockDeviceMapping":
		return apiErr("AuthFailure", "Not authorized for image:%s", id)
	case "sriovNetSupport", "bootMode", "imdsSupport", "tpmSupport", "uefiData", "lastLaunchedTime", "deregistrationProtection":
		return apiErr("InvalidRequest", "The request received was invalid.")
	}
	return invalid("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
}

func value(s string) *ec2api.AttributeValue {
	if s == "" {
		return &ec2api.AttributeValue{}
	}
	return &ec2api.AttributeValue{Value: str(s)}
}

func fillImageAttribute(ctx context.Context, tx *store.Tx, im store.Image, attr string, out *ec2api.ImageAttribute) error {
	switch attr {
	case "description":
		out.Description = value(im.Description)
	case "kernel":
		out.KernelId = value(im.KernelID)
	case "ramdisk":
		out.RamdiskId = value(im.RamdiskID)
	case "bootMode":
		out.BootMode = value(im.BootMode)
	case "sriovNetSupport", "imdsSupport", "tpmSupport", "uefiData", "lastLaunchedTime", "deregistrationProtection":
		// Kumo has no value for these; AWS answers an empty attribute.
	case "productCodes":
		out.ProductCodes = []ec2api.ProductCode{}
	case "blockDeviceMapping":
		out.BlockDeviceMappings = apiBlockDevices(im.BlockDevices)
	case "launchPermission":
		grantees, err := tx.ImagePermissions(ctx, im.ID)
		if err != nil {
			return err
		}
		out.LaunchPermissions = launchPermissions(im.Public, grantees)
	default:
		return invalid("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	return nil
}

func launchPermissions(public bool, grantees []string) []ec2api.LaunchPermission {
	out := []ec2api.LaunchPermission{}
	if public {
		out = append(out, ec2api.LaunchPermission{Group: str("all")})
	}
	for _, g := range grantees {
		out = append(out, ec2api.LaunchPermission{UserId: str(g)})
	}
	return out
}

// ModifyImageAttribute changes launch permissions or the description.
func (s *Service) ModifyImageAttribute(ctx context.Context, in *ec2api.ModifyImageAttributeRequest) (*ec2api.ModifyImageAttributeOutput, error) {
	change, err := imageChange(in)
	if err != nil {
		return nil, err
	}
	id := deref(in.ImageId)
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		im, err := attributeOwner(ctx, tx, account, id)
		if err != nil {
			return err
		}
		return change(ctx, tx, im)
	})
	return &ec2api.ModifyImageAttributeOutput{}, err
}

// imageChange validates a ModifyImageAttribute request and returns the change to apply.
func imageChange(in *ec2api.ModifyImageAttributeRequest) (func(context.Context, *store.Tx, store.Image) error, error) {
	attr := deref(in.Attribute)
	switch {
	case in.Description != nil || attr == "description":
		desc := deref(in.Value)
		if in.Description != nil {
			desc = deref(in.Description.Value)
		}
		if len(desc) > 255 {
			return nil, invalid("Value for parameter description is invalid. Length exceeds maximum of 255.")
		}
		return func(ctx context.Context, tx *store.Tx, im store.Image) error {
			im.Description = desc
			return tx.UpdateImage(ctx, im)
		}, nil
	case in.LaunchPermission != nil || attr == "launchPermission" || len(in.UserIds)+len(in.UserGroups) > 0:
		changes, err := launchChanges(in)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, tx *store.Tx, im store.Image) error {
			return applyLaunchChanges(ctx, tx, im, changes)
		}, nil
	case len(in.ProductCodes) > 0 || attr == "productCodes":
		return nil, apiErr("UnsupportedOperation", "Product codes are not supported by Kumo.")
	case len(in.OrganizationArns)+len(in.OrganizationalUnitArns) > 0:
		return nil, apiErr("UnsupportedOperation", "Sharing with AWS Organizations is not supported by Kumo; share with account ids.")
	}
	return nil, apiErr("MissingParameter", "The request must name an attribute to modify: launchPermission or description")
}

func launchChanges(in *ec2api.ModifyImageAttributeRequest) ([]grantChange, error) {
	mods := &ec2api.CreateVolumePermissionModifications{}
	if in.LaunchPermission != nil {
		for _, p := range in.LaunchPermission.Add {
			mods.Add = append(mods.Add, ec2api.CreateVolumePermission{UserId: p.UserId, Group: p.Group})
		}
		for _, p := range in.LaunchPermission.Remove {
			mods.Remove = append(mods.Remove, ec2api.CreateVolumePermission{UserId: p.UserId, Group: p.Group})
		}
	}
	return permissionChanges(mods, in.OperationType, in.UserIds, in.UserGroups)
}

func applyLaunchChanges(ctx context.Context, tx *store.Tx, im store.Image, changes []grantChange) error {
	for _, c := range changes {
		if c.grantee == "all" {
			im.Public = c.add
			if err := tx.UpdateImage(ctx, im); err != nil {
				return err
			}
			continue
		}
		if err := tx.SetImagePermission(ctx, im.ID, c.grantee, c.add); err != nil {
			return err
		}
	}
	return nil
}

// ResetImageAttribute makes an image private again (launchPermission).
func (s *Service) ResetImageAttribute(ctx context.Context, in *ec2api.ResetImageAttributeRequest) (*ec2api.ResetImageAttributeOutput, error) {
	if a := deref(in.Attribute); a != "launchPermission" {
		return nil, invalid("Value (%s) for parameter attribute is invalid. Only launchPermission can be reset.", a)
	}
	id := deref(in.ImageId)
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		im, err := attributeOwner(ctx, tx, account, id)
		if err != nil {
			return err
		}
		im.Public = false
		if err := tx.UpdateImage(ctx, im); err != nil {
			return err
		}
		return tx.ClearImagePermissions(ctx, id)
	})
	return &ec2api.ResetImageAttributeOutput{}, err
}
