package ec2

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Instance attribute names (DescribeInstanceAttribute's Attribute values).
const (
	attrDisableAPITermination = "disableApiTermination"
	attrShutdownBehavior      = "instanceInitiatedShutdownBehavior"
	attrGroupSet              = "groupSet"
	attrSourceDestCheck       = "sourceDestCheck"
)

func errUnknownAttribute(name string) error {
	return invalid("Value (%s) for parameter attribute is invalid. Unknown attribute.", name)
}

// attrValue is an AttributeValue that is empty when s is.
func attrValue(s string) *ec2api.AttributeValue {
	if s == "" {
		return &ec2api.AttributeValue{}
	}
	return &ec2api.AttributeValue{Value: str(s)}
}

func attrBool(b bool) *ec2api.AttributeBooleanValue {
	return &ec2api.AttributeBooleanValue{Value: boolp(b)}
}

// DescribeInstanceAttribute returns one attribute of an instance.
func (s *Service) DescribeInstanceAttribute(ctx context.Context, in *ec2api.DescribeInstanceAttributeRequest) (*ec2api.InstanceAttribute, error) {
	var v instanceView
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		list, err := accountInstances(ctx, tx, account, []string{deref(in.InstanceId)})
		if err != nil {
			return err
		}
		d, err := loadInstanceData(ctx, tx, account)
		v = d.view(list[0])
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.InstanceAttribute{InstanceId: str(v.ID)}
	switch name := deref(in.Attribute); name {
	case instancestate.AttrInstanceType:
		out.InstanceType = attrValue(v.InstanceType)
	case instancestate.AttrUserData:
		out.UserData = attrValue(v.UserData)
	case instancestate.AttrKernel:
		out.KernelId = attrValue(v.KernelID)
	case instancestate.AttrRamdisk:
		out.RamdiskId = attrValue(v.RamdiskID)
	case attrDisableAPITermination:
		out.DisableApiTermination = attrBool(v.DisableAPITermination)
	case attrShutdownBehavior:
		out.InstanceInitiatedShutdownBehavior = attrValue(v.ShutdownBehavior)
	case attrGroupSet:
		out.Groups = v.groupIdentifiers()
	case "rootDeviceName":
		out.RootDeviceName = attrValue(v.RootDeviceName)
	case "blockDeviceMapping":
		out.BlockDeviceMappings = []ec2api.InstanceBlockDeviceMapping{}
		if !v.terminated() {
			out.BlockDeviceMappings = v.blockDeviceMappings()
		}
	case attrSourceDestCheck:
		out.SourceDestCheck = attrBool(v.eni.ID == "" || v.eni.SourceDestCheck())
	case "productCodes":
		out.ProductCodes = []ec2api.ProductCode{}
	case "ebsOptimized":
		out.EbsOptimized = attrBool(false)
	case "enaSupport":
		out.EnaSupport = attrBool(true)
	case "sriovNetSupport":
		out.SriovNetSupport = attrValue("")
	case "enclaveOptions":
		out.EnclaveOptions = &ec2api.EnclaveOptions{Enabled: boolp(false)}
	case "disableApiStop":
		out.DisableApiStop = attrBool(false)
	default:
		return nil, errUnknownAttribute(name)
	}
	return out, nil
}

// attrChange is one validated ModifyInstanceAttribute request.
type attrChange struct {
	name  string
	apply func(ctx context.Context, tx *store.Tx, i *store.Instance) error
}

// ModifyInstanceAttribute changes one attribute; instanceType, userData,
// kernel and ramdisk only while the instance is stopped.
func (s *Service) ModifyInstanceAttribute(ctx context.Context, in *ec2api.ModifyInstanceAttributeRequest) (*ec2api.ModifyInstanceAttributeOutput, error) {
	ch, err := s.attributeChange(in)
	if err != nil {
		return nil, err
	}
	if err := s.changeAttribute(ctx, deref(in.InstanceId), ch); err != nil {
		return nil, err
	}
	return &ec2api.ModifyInstanceAttributeOutput{}, nil
}

// changeAttribute checks the state rule and applies ch in one transaction.
func (s *Service) changeAttribute(ctx context.Context, id string, ch attrChange) error {
	var node string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		list, err := accountInstances(ctx, tx, account, []string{id})
		if err != nil {
			return err
		}
		i := list[0]
		if err := instancestate.CheckModify(instancestate.State(i.State), ch.name, lifecycleAttrs(i, time.Now())); err != nil {
			return err
		}
		if err := ch.apply(ctx, tx, &i); err != nil {
			return err
		}
		node = i.NodeID
		return tx.UpdateInstanceRequest(ctx, i)
	})
	if err == nil {
		s.notify(node)
	}
	return err
}

// attributeChange reads which attribute the request changes: one of the
// typed fields, or Attribute with Value.
func (s *Service) attributeChange(in *ec2api.ModifyInstanceAttributeRequest) (attrChange, error) {
	if a := deref(in.Attribute); a != "" && a != instancestate.AttrUserData && a != attrGroupSet && deref(in.Value) == "" {
		return attrChange{}, apiErr("MissingParameter", "The request must contain the parameter value")
	}
	var found []attrChange
	add := func(name string, apply func(context.Context, *store.Tx, *store.Instance) error, err error) error {
		if err == nil {
			found = append(found, attrChange{name: name, apply: apply})
		}
		return err
	}
	value := func(typed *ec2api.AttributeValue, name string) *string {
		if typed != nil {
			return typed.Value
		}
		if deref(in.Attribute) == name {
			return in.Value
		}
		return nil
	}
	if v := value(in.InstanceType, instancestate.AttrInstanceType); v != nil || in.InstanceType != nil {
		if err := add(s.setInstanceType(deref(v))); err != nil {
			return attrChange{}, err
		}
	}
	if in.UserData != nil || deref(in.Attribute) == instancestate.AttrUserData {
		if err := add(setUserData(in)); err != nil {
			return attrChange{}, err
		}
	}
	if in.DisableApiTermination != nil || deref(in.Attribute) == attrDisableAPITermination {
		if err := add(setTerminationProtection(in)); err != nil {
			return attrChange{}, err
		}
	}
	if v := value(in.InstanceInitiatedShutdownBehavior, attrShutdownBehavior); v != nil || in.InstanceInitiatedShutdownBehavior != nil {
		if err := add(setShutdownBehavior(deref(v))); err != nil {
			return attrChange{}, err
		}
	}
	for _, k := range []struct {
		typed *ec2api.AttributeValue
		name  string
	}{{in.Kernel, instancestate.AttrKernel}, {in.Ramdisk, instancestate.AttrRamdisk}} {
		if v := value(k.typed, k.name); v != nil || k.typed != nil {
			found = append(found, attrChange{name: k.name, apply: setBootImage(k.name, deref(v))})
		}
	}
	if len(in.BlockDeviceMappings) > 0 {
		maps := in.BlockDeviceMappings
		found = append(found, attrChange{name: "blockDeviceMapping", apply: func(ctx context.Context, tx *store.Tx, i *store.Instance) error {
			return setVolumesDeleteOnTermination(ctx, tx, *i, maps)
		}})
	}
	if len(in.Groups) > 0 || deref(in.Attribute) == attrGroupSet {
		found = append(found, attrChange{name: attrGroupSet, apply: setGroups(in.Groups)})
	}
	if in.SourceDestCheck != nil || deref(in.Attribute) == attrSourceDestCheck {
		if err := add(setSourceDestCheck(in)); err != nil {
			return attrChange{}, err
		}
	}
	return oneChange(in, found)
}

func oneChange(in *ec2api.ModifyInstanceAttributeRequest, found []attrChange) (attrChange, error) {
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return attrChange{}, apiErr("InvalidParameterCombination", "Fields for multiple attribute types specified: %s, %s", found[0].name, found[1].name)
	case in.EbsOptimized != nil, in.EnaSupport != nil, in.SriovNetSupport != nil, in.DisableApiStop != nil:
		return attrChange{}, apiErr("UnsupportedOperation", "Kumo cannot change this instance attribute yet.")
	case in.Attribute != nil:
		return attrChange{}, errUnknownAttribute(*in.Attribute)
	}
	return attrChange{}, apiErr("MissingParameter", "The request must contain the parameter attribute or one of the attribute fields")
}

func (s *Service) setInstanceType(name string) (string, func(context.Context, *store.Tx, *store.Instance) error, error) {
	t, err := s.instanceType(name)
	if name == "" {
		err = apiErr("MissingParameter", "The request must contain the parameter InstanceType.Value")
	}
	return instancestate.AttrInstanceType, func(_ context.Context, _ *store.Tx, i *store.Instance) error {
		i.InstanceType, i.VCPUs, i.MemoryMiB = t.Name, int(t.VCPUs), int(t.MemoryMiB)
		return nil
	}, err
}

func setUserData(in *ec2api.ModifyInstanceAttributeRequest) (string, func(context.Context, *store.Tx, *store.Instance) error, error) {
	var encoded string
	var err error
	switch {
	case in.UserData != nil:
		if len(in.UserData.Value) > MaxUserDataBytes {
			err = invalid("User data is limited to %d bytes", MaxUserDataBytes)
		}
		encoded = base64.StdEncoding.EncodeToString(in.UserData.Value)
	default:
		encoded, err = parseUserData(in.Value)
	}
	return instancestate.AttrUserData, func(_ context.Context, _ *store.Tx, i *store.Instance) error {
		i.UserData = encoded
		return nil
	}, err
}

func boolValue(typed *ec2api.AttributeBooleanValue, raw *string, param string) (bool, error) {
	if typed != nil {
		if typed.Value == nil {
			return false, apiErr("MissingParameter", "The request must contain the parameter %s.Value", param)
		}
		return *typed.Value, nil
	}
	b, err := strconv.ParseBool(deref(raw))
	if err != nil {
		return false, invalid("Value (%s) for parameter value is invalid. Expected 'true' or 'false'.", deref(raw))
	}
	return b, nil
}

func setTerminationProtection(in *ec2api.ModifyInstanceAttributeRequest) (string, func(context.Context, *store.Tx, *store.Instance) error, error) {
	b, err := boolValue(in.DisableApiTermination, in.Value, "DisableApiTermination")
	return attrDisableAPITermination, func(_ context.Context, _ *store.Tx, i *store.Instance) error {
		i.DisableAPITermination = b
		return nil
	}, err
}

func setShutdownBehavior(v string) (string, func(context.Context, *store.Tx, *store.Instance) error, error) {
	var err error
	if v == "" {
		err = apiErr("MissingParameter", "The request must contain the parameter InstanceInitiatedShutdownBehavior.Value")
	} else if v != string(instancestate.ShutdownStop) && v != string(instancestate.ShutdownTerminate) {
		err = invalid("Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values: stop, terminate.", v)
	}
	return attrShutdownBehavior, func(_ context.Context, _ *store.Tx, i *store.Instance) error {
		i.ShutdownBehavior = v
		return nil
	}, err
}

func setSourceDestCheck(in *ec2api.ModifyInstanceAttributeRequest) (string, func(context.Context, *store.Tx, *store.Instance) error, error) {
	b, err := boolValue(in.SourceDestCheck, in.Value, "SourceDestCheck")
	return attrSourceDestCheck, primarySourceDestCheck(b), err
}

// primarySourceDestCheck sets the instance's SourceDestCheck, which is its
// primary network interface's (a NAT instance turns it off).
func primarySourceDestCheck(on bool) func(context.Context, *store.Tx, *store.Instance) error {
	return func(ctx context.Context, tx *store.Tx, i *store.Instance) error {
		list, err := tx.InstanceNetworkInterfaces(ctx, i.ID)
		if err != nil {
			return err
		}
		for _, n := range list {
			if n.DeviceIndex == 0 {
				n.NoSourceDestCheck = !on
				return tx.UpdateNetworkInterface(ctx, n)
			}
		}
		return nil
	}
}

// setBootImage sets the kernel or ramdisk ("" clears it) to an image of
// that type the caller may launch.
func setBootImage(attr, id string) func(context.Context, *store.Tx, *store.Instance) error {
	return func(ctx context.Context, tx *store.Tx, i *store.Instance) error {
		if id != "" {
			im, err := launchableImage(ctx, tx, i.AccountID, id)
			if err != nil {
				return err
			}
			if want := map[string]string{instancestate.AttrKernel: "kernel", instancestate.AttrRamdisk: "ramdisk"}[attr]; im.ImageType != want {
				return invalid("Value (%s) for parameter %s is invalid. The image is not a %s image.", id, attr, want)
			}
		}
		if attr == instancestate.AttrKernel {
			i.KernelID = id
		} else {
			i.RamdiskID = id
		}
		return nil
	}
}

// setGroups replaces the instance's security groups with groups of its VPC.
func setGroups(ids []string) func(context.Context, *store.Tx, *store.Instance) error {
	return func(ctx context.Context, tx *store.Tx, i *store.Instance) error {
		if len(ids) == 0 {
			return apiErr("MissingParameter", "The request must contain the parameter GroupId")
		}
		groups, err := tx.ListSecurityGroups(ctx, i.AccountID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := checkID(id, "sg", "InvalidGroupId.Malformed"); err != nil {
				return err
			}
			k := slices.IndexFunc(groups, func(g store.SecurityGroup) bool { return g.ID == id })
			if k < 0 {
				return errGroupNotFound(id)
			}
			if groups[k].VPCID != i.VPCID {
				return apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", id, i.VPCID)
			}
		}
		i.SecurityGroupIDs = slices.Compact(slices.Sorted(slices.Values(ids)))
		return tx.SetInstanceSecurityGroups(ctx, i.ID, i.SecurityGroupIDs)
	}
}

// ResetInstanceAttribute restores kernel or ramdisk to the image's (while
// stopped) or sourceDestCheck to true; EC2 resets nothing else.
func (s *Service) ResetInstanceAttribute(ctx context.Context, in *ec2api.ResetInstanceAttributeRequest) (*ec2api.ResetInstanceAttributeOutput, error) {
	name := deref(in.Attribute)
	var ch attrChange
	switch name {
	case instancestate.AttrKernel, instancestate.AttrRamdisk:
		ch = attrChange{name: name, apply: func(ctx context.Context, tx *store.Tx, i *store.Instance) error {
			im, err := tx.GetImage(ctx, i.ImageID)
			if found, e := notFoundOK(err); !found {
				if e != nil {
					return e
				}
				return errImageNotFound(i.ImageID)
			}
			if name == instancestate.AttrKernel {
				i.KernelID = im.KernelID
			} else {
				i.RamdiskID = im.RamdiskID
			}
			return nil
		}}
	case attrSourceDestCheck:
		ch = attrChange{name: name, apply: primarySourceDestCheck(true)}
	default:
		return nil, invalid("Value (%s) for parameter attribute is invalid. Only kernel, ramdisk and sourceDestCheck can be reset.", name)
	}
	if err := s.changeAttribute(ctx, deref(in.InstanceId), ch); err != nil {
		return nil, err
	}
	return &ec2api.ResetInstanceAttributeOutput{}, nil
}
