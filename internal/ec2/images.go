package ec2

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

const typeImage = "image"

// SystemAccountName is the account that owns what the operator registers.
const SystemAccountName = identity.SystemAccountName

// SystemOwnerAlias names the account that owns images an operator registers (kumo-demo, kernels).
const SystemOwnerAlias = "kumo"

func errImageNotFound(id string) error {
	return apiErr("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
}

var imageName = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./\-'@_]{3,128}$`)

// imageView is an image as one caller sees it.
type imageView struct {
	store.Image
	tags        []store.Tag
	launchable  bool // the caller may launch it (owner, public, or granted)
	ownerAlias  string
	grantedToMe bool
}

func imageCreationDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func apiImage(v imageView) ec2api.Image {
	im := ec2api.Image{
		ImageId: str(v.ID), OwnerId: str(v.AccountID), Name: str(v.Name), Description: optional(v.Description),
		ImageType: str(v.ImageType), State: str(v.State), Architecture: str(v.Architecture), Public: boolp(v.Public),
		CreationDate: str(imageCreationDate(v.CreatedAt)), Hypervisor: str("xen"), VirtualizationType: str(v.VirtualizationType),
		RootDeviceType: str(v.RootDeviceType), RootDeviceName: optional(v.RootDeviceName), KernelId: optional(v.KernelID),
		RamdiskId: optional(v.RamdiskID), EnaSupport: boolp(v.ENASupport), BootMode: optional(v.BootMode),
		ImageLocation: str(v.AccountID + "/" + v.Name), PlatformDetails: str("Linux/UNIX"), UsageOperation: str("RunInstances"),
		ImageOwnerAlias: optional(v.ownerAlias), BlockDeviceMappings: apiBlockDevices(v.BlockDevices), Tags: apiTags(v.tags),
	}
	if v.StateReason != "" {
		im.StateReason = &ec2api.StateReason{Code: str(v.State), Message: str(v.StateReason)}
	}
	return im
}

func apiBlockDevices(bds []store.BlockDevice) []ec2api.BlockDeviceMapping {
	out := []ec2api.BlockDeviceMapping{}
	for _, bd := range bds {
		m := ec2api.BlockDeviceMapping{DeviceName: str(bd.DeviceName), VirtualName: optional(bd.VirtualName)}
		switch {
		case bd.NoDevice:
			m.NoDevice = str("")
		case bd.VirtualName == "":
			m.Ebs = &ec2api.EbsBlockDevice{SnapshotId: optional(bd.SnapshotID), VolumeSize: i32(int32(bd.VolumeSize)),
				VolumeType: str(bd.VolumeType), DeleteOnTermination: boolp(bd.DeleteOnTermination), Encrypted: boolp(false)}
		}
		out = append(out, m)
	}
	return out
}

func imageFields() filter.Fields[imageView] {
	one := func(f func(imageView) string) func(imageView) []string {
		return func(v imageView) []string { return filter.One(f(v)) }
	}
	bd := func(f func(store.BlockDevice) string) func(imageView) []string {
		return func(v imageView) []string {
			var out []string
			for _, b := range v.BlockDevices {
				out = append(out, f(b))
			}
			return out
		}
	}
	return filter.Fields[imageView]{
		"architecture":                     one(func(v imageView) string { return v.Architecture }),
		"description":                      one(func(v imageView) string { return v.Description }),
		"image-id":                         one(func(v imageView) string { return v.ID }),
		"image-type":                       one(func(v imageView) string { return v.ImageType }),
		"is-public":                        func(v imageView) []string { return filter.Bool(v.Public) },
		"kernel-id":                        one(func(v imageView) string { return v.KernelID }),
		"ramdisk-id":                       one(func(v imageView) string { return v.RamdiskID }),
		"name":                             one(func(v imageView) string { return v.Name }),
		"owner-id":                         one(func(v imageView) string { return v.AccountID }),
		"owner-alias":                      one(func(v imageView) string { return v.ownerAlias }),
		"platform":                         func(imageView) []string { return nil },
		"platform-details":                 one(func(imageView) string { return "Linux/UNIX" }),
		"root-device-name":                 one(func(v imageView) string { return v.RootDeviceName }),
		"root-device-type":                 one(func(v imageView) string { return v.RootDeviceType }),
		"state":                            one(func(v imageView) string { return v.State }),
		"hypervisor":                       one(func(imageView) string { return "xen" }),
		"boot-mode":                        one(func(v imageView) string { return v.BootMode }),
		"virtualization-type":              one(func(v imageView) string { return v.VirtualizationType }),
		"creation-date":                    one(func(v imageView) string { return imageCreationDate(v.CreatedAt) }),
		"block-device-mapping.device-name": bd(func(b store.BlockDevice) string { return b.DeviceName }),
		"block-device-mapping.snapshot-id": bd(func(b store.BlockDevice) string { return b.SnapshotID }),
		"block-device-mapping.volume-type": bd(func(b store.BlockDevice) string { return b.VolumeType }),
		"block-device-mapping.encrypted":   bd(func(store.BlockDevice) string { return "false" }),
		"block-device-mapping.volume-size": bd(func(b store.BlockDevice) string { return itoa(b.VolumeSize) }),
		"block-device-mapping.delete-on-termination": bd(func(b store.BlockDevice) string {
			return filter.Bool(b.DeleteOnTermination)[0]
		}),
	}
}

// visibleImages loads what the caller may see, with its tags and the system owner's alias.
func (s *Service) visibleImages(ctx context.Context, account string) ([]imageView, error) {
	var views []imageView
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, _ string) error {
		list, err := tx.VisibleImages(ctx, account)
		if err != nil {
			return err
		}
		tags, err := tx.TagsByResource(ctx, account, typeImage)
		if err != nil {
			return err
		}
		system, _ := tx.FindAccount(ctx, SystemAccountName)
		for _, im := range list {
			v := imageView{Image: im, tags: tags[im.ID], launchable: true, grantedToMe: im.AccountID != account && !im.Public}
			if im.AccountID == system.ID {
				v.ownerAlias = SystemOwnerAlias
			}
			views = append(views, v)
		}
		return nil
	})
	return views, err
}

// DescribeImages lists images the caller owns or may launch.
func (s *Service) DescribeImages(ctx context.Context, in *ec2api.DescribeImagesRequest) (*ec2api.DescribeImagesResult, error) {
	if err := noIDsWithMaxResults("imageIds", in.ImageIds, in.MaxResults); err != nil {
		return nil, err
	}
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range in.ImageIds {
		if err := checkImageID(id); err != nil {
			return nil, err
		}
	}
	views, err := s.visibleImages(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	if views, err = selectByID(views, in.ImageIds, func(v imageView) string { return v.ID }, errImageNotFound); err != nil {
		return nil, err
	}
	views = filterImageOwners(views, in.Owners, p.AccountID)
	views = filterExecutable(views, in.ExecutableUsers, p.AccountID)
	page, next, err := describe(views, in.Filters, imageFields(), func(v imageView) map[string]string { return tagMap(v.tags) },
		func(v imageView) string { return v.ID }, in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeImagesResult{Images: []ec2api.Image{}, NextToken: next}
	for _, v := range page {
		out.Images = append(out.Images, apiImage(v))
	}
	return out, nil
}

func filterImageOwners(views []imageView, owners []string, self string) []imageView {
	if len(owners) == 0 {
		return views
	}
	return slices.DeleteFunc(views, func(v imageView) bool {
		for _, o := range owners {
			if o == v.AccountID || (o == "self" && v.AccountID == self) || (o != "" && o == v.ownerAlias) {
				return false
			}
		}
		return true
	})
}

// filterExecutable keeps images with explicit launch permission for the
// listed users ("self" = the caller, "all" = public images).
func filterExecutable(views []imageView, users []string, self string) []imageView {
	if len(users) == 0 {
		return views
	}
	return slices.DeleteFunc(views, func(v imageView) bool {
		for _, u := range users {
			switch {
			case u == "all" && v.Public:
				return false
			case (u == "self" || u == self) && (v.AccountID == self || v.grantedToMe || v.Public):
				return false
			}
		}
		return true
	})
}

func checkImageID(id string) error {
	for _, prefix := range []string{"ami", "aki", "ari"} {
		if strings.HasPrefix(id, prefix+"-") {
			return checkID(id, prefix, "InvalidAMIID.Malformed")
		}
	}
	return apiErr("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
}

// ownedImage finds an image the caller owns; anything else is NotFound.
func ownedImage(ctx context.Context, tx *store.Tx, account, id string) (store.Image, error) {
	if err := checkImageID(id); err != nil {
		return store.Image{}, err
	}
	im, err := tx.GetImage(ctx, id)
	if found, e := notFoundOK(err); !found || im.AccountID != account {
		if e != nil {
			return im, e
		}
		return im, errImageNotFound(id)
	}
	return im, nil
}

// launchableImage finds an image the caller may use (own, public or granted).
func launchableImage(ctx context.Context, tx *store.Tx, account, id string) (store.Image, error) {
	if err := checkImageID(id); err != nil {
		return store.Image{}, err
	}
	im, err := tx.GetImage(ctx, id)
	if found, e := notFoundOK(err); !found {
		if e != nil {
			return im, e
		}
		return im, errImageNotFound(id)
	}
	if im.AccountID == account || im.Public {
		return im, nil
	}
	grantees, err := tx.ImagePermissions(ctx, id)
	if err != nil {
		return im, err
	}
	if !slices.Contains(grantees, account) {
		return im, errImageNotFound(id)
	}
	return im, nil
}

// DeregisterImage removes an image; its snapshots stay, as in EC2.
func (s *Service) DeregisterImage(ctx context.Context, in *ec2api.DeregisterImageRequest) (*ec2api.DeregisterImageOutput, error) {
	id := deref(in.ImageId)
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if _, err := ownedImage(ctx, tx, account, id); err != nil {
			return err
		}
		users, err := tx.ImagesUsingKernelOrRamdisk(ctx, id)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return apiErr("InvalidAMIID.InUse", "The image %s is the kernel or ramdisk of %s; deregister that first.", id, users[0])
		}
		return tx.DeleteImage(ctx, account, id)
	})
	return &ec2api.DeregisterImageOutput{}, err
}

// insertNamedImage stores an image, mapping a name clash to EC2's error.
func insertNamedImage(ctx context.Context, tx *store.Tx, im store.Image) error {
	err := tx.InsertImage(ctx, im)
	if errors.Is(err, store.ErrConflict) {
		return apiErr("InvalidAMIName.Duplicate", "AMI name %s is already in use by an AMI owned by this account", im.Name)
	}
	return err
}

func newImageID(imageType string) string {
	switch imageType {
	case "kernel":
		return ids.Resource("aki")
	case "ramdisk":
		return ids.Resource("ari")
	}
	return ids.Resource("ami")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
