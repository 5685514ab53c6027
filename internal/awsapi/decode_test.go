package awsapi

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func mustParse(t *testing.T, q string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	return v
}

func TestDecodeEC2(t *testing.T) {
	q := "Action=CreateThing&Version=2016-11-15&X-Amz-Date=20240101T000000Z" +
		"&GroupName=web&MaxResults=5&Size=-9000000000&Ratio=0.5&Weight=1.25&DryRun=TRUE" +
		"&Since=2024-03-01T10:20:30.123Z&PublicKeyMaterial=c3NoLXJzYSBBQUFB" +
		"&Filter.1.Name=tag%3Ateam&Filter.1.Value.1=blue&Filter.1.Value.2=red&Filter.2.Name=vpc-id" +
		"&GroupId.2=sg-2&GroupId.1=sg-1" +
		"&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8" +
		"&TagSpecification.1.ResourceType=security-group&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v" +
		"&EnableDnsHostnames.Value=false&Count.1=3&Stamp.1=2024-01-02"
	var in tEC2Input
	if err := Decode(ProtocolEC2, mustParse(t, q), &in); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := tEC2Input{
		DryRun: ptr(true), GroupName: ptr("web"), MaxResults: ptr[int32](5), Size: ptr[int64](-9000000000),
		Ratio: ptr(0.5), Weight: ptr[float32](1.25),
		Since:    ptr(time.Date(2024, 3, 1, 10, 20, 30, 123e6, time.UTC)),
		Material: []byte("ssh-rsa AAAA"),
		Filters: []tFilter{
			{Name: ptr("tag:team"), Values: []string{"blue", "red"}},
			{Name: ptr("vpc-id")},
		},
		GroupIDs: []string{"sg-1", "sg-2"},
		Perms: []tPermission{{IPProtocol: ptr("tcp"), FromPort: ptr[int32](22),
			IPRanges: []tIPRange{{CidrIP: ptr("10.0.0.0/8")}}}},
		TagSpecs: []tTagSpec{{ResourceType: ptr("security-group"), Tags: []tTag{{Key: ptr("k"), Value: ptr("v")}}}},
		DNS:      &tBoolValue{Value: ptr(false)},
		Counts:   []int32{3},
		Stamps:   []time.Time{time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", in, want)
	}
}

func TestDecodeQuery(t *testing.T) {
	q := "UserName=alice&MaxItems=10&Tags.member.1.Key=team&Tags.member.1.Value=blue&Tags.member.2.Key=env" +
		"&Names.Name.1=a&Names.Name.2=b&Flat.1=x" +
		"&Attributes.entry.1.Name=color&Attributes.entry.1.Value=green" +
		"&FlatMap.1.key=k1&FlatMap.1.value.Key=inner"
	var in tQueryInput
	if err := Decode(ProtocolQuery, mustParse(t, q), &in); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := tQueryInput{
		UserName: ptr("alice"), MaxItems: ptr[int32](10),
		Tags:    []tTag{{Key: ptr("team"), Value: ptr("blue")}, {Key: ptr("env")}},
		Names:   []string{"a", "b"},
		Flat:    []string{"x"},
		Attrs:   map[string]string{"color": "green"},
		FlatMap: map[string]tTag{"k1": {Key: ptr("inner")}},
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", in, want)
	}
}

func TestDecodeEmptyMarkers(t *testing.T) {
	var in tEC2Input
	if err := Decode(ProtocolEC2, mustParse(t, "GroupName=&Filter=&EnableDnsHostnames="), &in); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if in.GroupName == nil || *in.GroupName != "" {
		t.Errorf("GroupName = %v, want empty string", in.GroupName)
	}
	if in.Filters == nil || len(in.Filters) != 0 {
		t.Errorf("Filters = %#v, want empty non-nil", in.Filters)
	}
	if in.DNS == nil || in.DNS.Value != nil {
		t.Errorf("DNS = %#v, want empty struct", in.DNS)
	}
	if in.GroupIDs != nil || in.Perms != nil {
		t.Errorf("absent lists decoded: %#v %#v", in.GroupIDs, in.Perms)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, query string
		protocol    Protocol
		code, msg   string
	}{
		{"missing required", "MaxResults=5", ProtocolEC2, "MissingParameter", "The request must contain the parameter GroupName"},
		{"missing nested required", "GroupName=g&IpPermissions.1.FromPort=1", ProtocolEC2,
			"MissingParameter", "The request must contain the parameter IpPermissions.1.IpProtocol"},
		{"missing required in query list", "UserName=u&Tags.member.1.Value=v", ProtocolQuery,
			"MissingParameter", "The request must contain the parameter Tags.member.1.Key"},
		{"unknown", "GroupName=g&Foo=1", ProtocolEC2, "UnknownParameter", "The parameter Foo is not recognized"},
		{"unknown nested", "GroupName=g&Filter.1.Nme=x", ProtocolEC2, "UnknownParameter", "The parameter Filter.1.Nme is not recognized"},
		{"unknown beats missing", "Groupname=g", ProtocolEC2, "UnknownParameter", "The parameter Groupname is not recognized"},
		{"value on a list", "GroupName=g&Filter=x", ProtocolEC2, "UnknownParameter", "The parameter Filter is not recognized"},
		{"value on a structure", "GroupName=g&EnableDnsHostnames=true", ProtocolEC2, "UnknownParameter", "The parameter EnableDnsHostnames is not recognized"},
		{"children on a scalar", "GroupName=g&MaxResults.1=3", ProtocolEC2, "UnknownParameter", "The parameter MaxResults.1 is not recognized"},
		{"leading zero index", "GroupName=g&GroupId.01=x", ProtocolEC2, "UnknownParameter", "The parameter GroupId.01 is not recognized"},
		{"zero index", "GroupName=g&GroupId.0=x", ProtocolEC2, "UnknownParameter", "The parameter GroupId.0 is not recognized"},
		{"ec2 list syntax in query", "UserName=u&Tags.1.Key=k", ProtocolQuery, "UnknownParameter", "The parameter Tags.1.Key is not recognized"},
		{"query list syntax in ec2", "GroupName=g&GroupId.member.1=x", ProtocolEC2, "UnknownParameter", "The parameter GroupId.member.1 is not recognized"},
		{"too deep", "GroupName=g&" + strings.Repeat("a.", 40) + "b=1", ProtocolEC2, "UnknownParameter", "is not recognized"},
		{"bad int", "GroupName=g&MaxResults=abc", ProtocolEC2, "InvalidParameterValue", "Invalid value 'abc' for MaxResults: expected a 32-bit integer"},
		{"int overflow", "GroupName=g&MaxResults=3000000000", ProtocolEC2, "InvalidParameterValue", "Invalid value '3000000000' for MaxResults"},
		{"bad nested int", "GroupName=g&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=x", ProtocolEC2,
			"InvalidParameterValue", "Invalid value 'x' for IpPermissions.1.FromPort"},
		{"bad bool", "GroupName=g&DryRun=yes", ProtocolEC2, "InvalidParameterValue", "Invalid value 'yes' for DryRun: expected true or false"},
		{"bad float", "GroupName=g&Ratio=NaN", ProtocolEC2, "InvalidParameterValue", "Invalid value 'NaN' for Ratio"},
		{"bad time", "GroupName=g&Since=yesterday", ProtocolEC2, "InvalidParameterValue", "Invalid value 'yesterday' for Since"},
		{"bad blob", "GroupName=g&PublicKeyMaterial=ssh-rsa%20AAAA", ProtocolEC2, "InvalidParameterValue", "for PublicKeyMaterial: expected base64-encoded data"},
		{"huge index", "GroupName=g&Filter.999999999.Name=x", ProtocolEC2, "InvalidParameterValue",
			"Invalid value '999999999' for the index of Filter: list indexes must be between 1 and 1000"},
		{"enormous index", "GroupName=g&Filter.99999999999999999999999999.Name=x", ProtocolEC2, "InvalidParameterValue", "for the index of Filter"},
		{"index 1001", "GroupName=g&GroupId.1001=x", ProtocolEC2, "InvalidParameterValue", "for the index of GroupId"},
		{"query index", "UserName=u&Tags.member.5000.Key=k", ProtocolQuery, "InvalidParameterValue", "for the index of Tags.member"},
		{"map entry without value", "UserName=u&Attributes.entry.1.Name=k", ProtocolQuery, "MissingParameter", "Attributes.entry.1.Value"},
		{"map entry without key", "UserName=u&Attributes.entry.1.Value=v", ProtocolQuery, "MissingParameter", "Attributes.entry.1.Name"},
		{"long value is shortened", "GroupName=g&MaxResults=" + strings.Repeat("9", 100), ProtocolEC2, "InvalidParameterValue", strings.Repeat("9", 64) + "...'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in any = new(tEC2Input)
			if tt.protocol == ProtocolQuery {
				in = new(tQueryInput)
			}
			err := Decode(tt.protocol, mustParse(t, tt.query), in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode error = %v, want *Error", err)
			}
			if e.Code != tt.code || !strings.Contains(e.Message, tt.msg) || e.Status() != 400 {
				t.Errorf("error = %d %s: %q, want 400 %s containing %q", e.Status(), e.Code, e.Message, tt.code, tt.msg)
			}
		})
	}
}

func TestDecodeIndexLimit(t *testing.T) {
	var in tEC2Input
	if err := Decode(ProtocolEC2, mustParse(t, "GroupName=g&GroupId.1000=last&GroupId.7=seven"), &in); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if want := []string{"seven", "last"}; !reflect.DeepEqual(in.GroupIDs, want) {
		t.Errorf("GroupIDs = %q, want %q", in.GroupIDs, want)
	}
}

func TestDecodeRejectsNonStruct(t *testing.T) {
	var s string
	for _, in := range []any{nil, s, &s, (*tEC2Input)(nil)} {
		if err := Decode(ProtocolEC2, url.Values{}, in); err == nil {
			t.Errorf("Decode(%T) succeeded", in)
		}
	}
}

func TestDecodeUnsupportedFieldIsInternal(t *testing.T) {
	var in struct {
		N map[int]string `awsapi:"in=N"`
	}
	err := Decode(ProtocolEC2, mustParse(t, "N.1=x"), &in)
	if err == nil || AsError(err).Code != "InternalError" {
		t.Errorf("Decode = %v, want an internal error", err)
	}
}
