package awsapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

type tGroup struct {
	GroupID  *string       `awsapi:"in=GroupId,out=groupId"`
	Perms    []tPermission `awsapi:"in=IpPermissions,out=ipPermissions,member=item"`
	Tags     []tTag        `awsapi:"in=Tag,out=tagSet,member=item"`
	Created  *time.Time    `awsapi:"in=Created,out=createTime"`
	Default  *bool         `awsapi:"in=Default,out=isDefault"`
	Material []byte        `awsapi:"in=Material,out=keyMaterial"`
	Ratio    *float64      `awsapi:"in=Ratio,out=ratio"`
}

type tEC2Output struct {
	Groups []tGroup `awsapi:"in=Group,out=securityGroupInfo,member=item"`
	Next   *string  `awsapi:"in=NextToken,out=nextToken"`
}

type tQueryOutput struct {
	Users       []tTag            `awsapi:"in=Users,out=Users,member=member"`
	Flat        []string          `awsapi:"in=Flat,out=Flat,member=member,flat"`
	Attrs       map[string]string `awsapi:"in=Attributes,out=Attributes,key=Name,value=Value"`
	FlatMap     map[string]string `awsapi:"in=FlatMap,out=FlatMap,key=k,value=v,flat"`
	IsTruncated *bool             `awsapi:"in=IsTruncated,out=IsTruncated"`
	Marker      *string           `awsapi:"in=Marker,out=Marker"`
}

const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

func ec2Model() *ServiceModel {
	return &ServiceModel{Name: "ec2", APIVersion: "2016-11-15", XMLNamespace: ec2NS, Protocol: ProtocolEC2}
}

func queryModel() *ServiceModel {
	return &ServiceModel{Name: "iam", APIVersion: "2010-05-08", XMLNamespace: "https://iam.amazonaws.com/doc/2010-05-08/", Protocol: ProtocolQuery}
}

func TestEncodeEC2(t *testing.T) {
	out := &tEC2Output{Groups: []tGroup{{
		GroupID:  ptr("sg-1<&>\"'"),
		Perms:    []tPermission{{IPProtocol: ptr("tcp"), FromPort: ptr[int32](22), IPRanges: []tIPRange{{CidrIP: ptr("0.0.0.0/0")}}}},
		Tags:     []tTag{},
		Created:  ptr(time.Date(2024, 5, 6, 7, 8, 9, 5e6, time.FixedZone("x", 3600))),
		Default:  ptr(false),
		Material: []byte("hi"),
		Ratio:    ptr(1e21),
	}, {}}}
	body, err := EncodeResponse(ec2Model(), &Operation{Name: "DescribeSecurityGroups", HasOutput: true}, "req-1", out)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DescribeSecurityGroupsResponse xmlns="` + ec2NS + `"><requestId>req-1</requestId>` +
		`<securityGroupInfo><item><groupId>sg-1&lt;&amp;&gt;&#34;&#39;</groupId>` +
		`<ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissions>` +
		`<tagSet/><createTime>2024-05-06T06:08:09.005Z</createTime><isDefault>false</isDefault><keyMaterial>aGk=</keyMaterial>` +
		`<ratio>1000000000000000000000</ratio></item><item></item></securityGroupInfo></DescribeSecurityGroupsResponse>`
	if string(body) != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
}

func TestEncodeEC2WithoutOutputShape(t *testing.T) {
	body, err := EncodeResponse(ec2Model(), &Operation{Name: "DeleteVpc"}, "r", &struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DeleteVpcResponse xmlns="` + ec2NS + `"><requestId>r</requestId><return>true</return></DeleteVpcResponse>`
	if string(body) != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
}

func TestEncodeQuery(t *testing.T) {
	out := &tQueryOutput{
		Users:       []tTag{{Key: ptr("a")}, {Key: ptr("b"), Value: ptr("c")}},
		Flat:        []string{"x", "y"},
		Attrs:       map[string]string{"z": "1", "a": "2"},
		FlatMap:     map[string]string{"k": "v"},
		IsTruncated: ptr(true),
		Marker:      ptr("m"),
	}
	op := &Operation{Name: "ListUsers", HasOutput: true, ResultWrapper: "ListUsersResult"}
	body, err := EncodeResponse(queryModel(), op, "req-2", out)
	if err != nil {
		t.Fatal(err)
	}
	want := `<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult>` +
		`<Users><member><key>a</key></member><member><key>b</key><value>c</value></member></Users>` +
		`<Flat>x</Flat><Flat>y</Flat>` +
		`<Attributes><entry><Name>a</Name><Value>2</Value></entry><entry><Name>z</Name><Value>1</Value></entry></Attributes>` +
		`<FlatMap><k>k</k><v>v</v></FlatMap>` +
		`<IsTruncated>true</IsTruncated><Marker>m</Marker></ListUsersResult>` +
		`<ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata></ListUsersResponse>`
	if string(body) != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
}

func TestEncodeQueryWithoutOutputShape(t *testing.T) {
	body, err := EncodeResponse(queryModel(), &Operation{Name: "DeleteUser"}, "r", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">` +
		`<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>`
	if string(body) != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
}

func TestEncodeEmptyVersusNilList(t *testing.T) {
	op := &Operation{Name: "ListUsers", HasOutput: true, ResultWrapper: "ListUsersResult"}
	empty, err := EncodeResponse(queryModel(), op, "r", &tQueryOutput{Users: []tTag{}, Attrs: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(empty), "<ListUsersResult><Users/><Attributes/></ListUsersResult>") {
		t.Errorf("empty list/map not written as empty elements: %s", empty)
	}
	absent, err := EncodeResponse(queryModel(), op, "r", &tQueryOutput{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(absent), "<ListUsersResult></ListUsersResult>") {
		t.Errorf("nil list/map written: %s", absent)
	}
}

func TestEncodeRejectsNonStruct(t *testing.T) {
	if _, err := EncodeResponse(ec2Model(), &Operation{Name: "X", HasOutput: true}, "r", ptr("s")); err == nil {
		t.Error("EncodeResponse of a *string succeeded")
	}
	if _, err := EncodeResponse(&ServiceModel{}, &Operation{Name: "X"}, "r", nil); err == nil {
		t.Error("EncodeResponse without a protocol succeeded")
	}
}

func TestEncodeError(t *testing.T) {
	tests := []struct {
		name       string
		protocol   Protocol
		err        error
		wantStatus int
		wantBody   string
	}{
		{"ec2", ProtocolEC2, ErrUnknownParameter("Foo<"), 400,
			`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Response><Errors><Error><Code>UnknownParameter</Code><Message>The parameter Foo&lt; is not recognized</Message></Error></Errors><RequestID>rid</RequestID></Response>`},
		{"query sender", ProtocolQuery, fmt.Errorf("wrapped: %w", ErrMissingParameter("UserName")), 400,
			`<ErrorResponse xmlns="urn:ns"><Error><Type>Sender</Type><Code>MissingParameter</Code>` +
				`<Message>The request must contain the parameter UserName</Message></Error><RequestId>rid</RequestId></ErrorResponse>`},
		{"query receiver hides internals", ProtocolQuery, errors.New("db password is hunter2"), 500,
			`<ErrorResponse xmlns="urn:ns"><Error><Type>Receiver</Type><Code>InternalError</Code>` +
				`<Message>An internal error has occurred.</Message></Error><RequestId>rid</RequestId></ErrorResponse>`},
		{"dry run", ProtocolEC2, ErrDryRun(), http.StatusPreconditionFailed,
			`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Response><Errors><Error><Code>DryRunOperation</Code><Message>Request would have succeeded, but DryRun flag is set.</Message></Error></Errors><RequestID>rid</RequestID></Response>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := EncodeError(tt.protocol, "urn:ns", "rid", tt.err)
			if status != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("EncodeError = %d\n%s\nwant %d\n%s", status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestAsError(t *testing.T) {
	if AsError(nil) != nil {
		t.Error("AsError(nil) != nil")
	}
	e := ErrInvalidAction("Foo")
	if got := AsError(fmt.Errorf("ctx: %w", e)); got != e {
		t.Errorf("AsError lost the wrapped error: %v", got)
	}
	if got := AsError(errors.New("boom")); got.Code != "InternalError" || got.Status() != 500 || strings.Contains(got.Message, "boom") {
		t.Errorf("AsError(plain) = %+v", got)
	}
	if got := (&Error{Code: "X"}).Status(); got != 400 {
		t.Errorf("unset status = %d, want 400", got)
	}
	if got := e.Error(); got != "InvalidAction: The action Foo is not valid for this web service." {
		t.Errorf("Error() = %q", got)
	}
}
