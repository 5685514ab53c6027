package awsapi

import "time"

// Structs shaped like awsgen's output, for the runtime's own tests.

type tFilter struct {
	Name   *string  `awsapi:"in=Name,out=name"`
	Values []string `awsapi:"in=Value,out=valueSet,member=item"`
}

type tTag struct {
	Key   *string `awsapi:"in=Key,out=key,required"`
	Value *string `awsapi:"in=Value,out=value"`
}

type tTagSpec struct {
	ResourceType *string `awsapi:"in=ResourceType,out=resourceType"`
	Tags         []tTag  `awsapi:"in=Tag,out=tagSet,member=item"`
}

type tIPRange struct {
	CidrIP *string `awsapi:"in=CidrIp,out=cidrIp"`
}

type tPermission struct {
	IPProtocol *string    `awsapi:"in=IpProtocol,out=ipProtocol,required"`
	FromPort   *int32     `awsapi:"in=FromPort,out=fromPort"`
	IPRanges   []tIPRange `awsapi:"in=IpRanges,out=ipRanges,member=item"`
}

type tBoolValue struct {
	Value *bool `awsapi:"in=Value,out=value"`
}

type tEC2Input struct {
	DryRun     *bool         `awsapi:"in=DryRun,out=dryRun"`
	GroupName  *string       `awsapi:"in=GroupName,out=groupName,required"`
	MaxResults *int32        `awsapi:"in=MaxResults,out=maxResults"`
	Size       *int64        `awsapi:"in=Size,out=size"`
	Ratio      *float64      `awsapi:"in=Ratio,out=ratio"`
	Weight     *float32      `awsapi:"in=Weight,out=weight"`
	Since      *time.Time    `awsapi:"in=Since,out=since"`
	Material   []byte        `awsapi:"in=PublicKeyMaterial,out=publicKeyMaterial"`
	Filters    []tFilter     `awsapi:"in=Filter,out=filterSet,member=Filter"`
	GroupIDs   []string      `awsapi:"in=GroupId,out=groupIdSet,member=groupId"`
	Perms      []tPermission `awsapi:"in=IpPermissions,out=ipPermissions,member=item"`
	TagSpecs   []tTagSpec    `awsapi:"in=TagSpecification,out=tagSpecificationSet,member=item"`
	DNS        *tBoolValue   `awsapi:"in=EnableDnsHostnames,out=enableDnsHostnames"`
	Untagged   *string       // ignored: no awsapi tag
	Counts     []int32       `awsapi:"in=Count,out=countSet,member=item"`
	Stamps     []time.Time   `awsapi:"in=Stamp,out=stampSet,member=item"`
}

type tQueryInput struct {
	UserName *string           `awsapi:"in=UserName,out=UserName,required"`
	MaxItems *int32            `awsapi:"in=MaxItems,out=MaxItems"`
	Tags     []tTag            `awsapi:"in=Tags,out=Tags,member=member"`
	Names    []string          `awsapi:"in=Names,out=Names,member=Name"`
	Flat     []string          `awsapi:"in=Flat,out=Flat,member=member,flat"`
	Attrs    map[string]string `awsapi:"in=Attributes,out=Attributes,key=Name,value=Value"`
	FlatMap  map[string]tTag   `awsapi:"in=FlatMap,out=FlatMap,key=key,value=value,flat"`
}
