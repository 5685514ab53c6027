package authz

import (
	"crypto/rand"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/policy"
	"github.com/kumo-cloud/kumo/internal/secrets"
)

func TestEC2IDsByResourceType(t *testing.T) {
	params := url.Values{
		"InstanceId.1": {"i-1"}, "InstanceId.2": {"i-2"},
		"NetworkInterface.1.SubnetId": {"subnet-9"}, "SecurityGroupId.1": {"sg-3"},
		"BlockDeviceMapping.1.Ebs.SnapshotId": {"snap-4"},
		"Filter.1.Name":                       {"vpc-id"}, "Filter.1.Value.1": {"vpc-7"}, // filters name no resource
		"ResourceId.1": {"vol-5"}, "ResourceId.2": {"eipalloc-6"},
		"TagSpecification.1.ResourceType": {"instance"},
	}
	got := ec2IDs(params)
	want := map[string][]string{"instance": {"i-1", "i-2"}, "subnet": {"subnet-9"}, "security-group": {"sg-3"},
		"snapshot": {"snap-4"}, "volume": {"vol-5"}, "elastic-ip": {"eipalloc-6"}}
	for typ, ids := range want {
		if !slices.Equal(got[typ], ids) {
			t.Errorf("%s: %v, want %v", typ, got[typ], ids)
		}
	}
	if len(got) != len(want) {
		t.Errorf("ec2IDs = %v", got)
	}
}

func TestTagSpecifications(t *testing.T) {
	params := url.Values{
		"TagSpecification.1.ResourceType": {"instance"}, "TagSpecification.1.Tag.1.Key": {"team"}, "TagSpecification.1.Tag.1.Value": {"blue"},
		"TagSpecification.2.ResourceType": {"volume"}, "TagSpecification.2.Tag.1.Key": {"cost"}, "TagSpecification.2.Tag.1.Value": {"x"},
	}
	specs := tagSpecs(params)
	if specs["instance"]["team"] != "blue" || specs["volume"]["cost"] != "x" || len(specs) != 2 {
		t.Fatalf("tagSpecs = %v", specs)
	}
	keys := map[string][]string{}
	tagKeys(keys, map[string]string{"b": "2", "a": "1"})
	if !slices.Equal(keys["aws:TagKeys"], []string{"a", "b"}) || keys["aws:RequestTag/a"][0] != "1" {
		t.Errorf("tagKeys = %v", keys)
	}
}

func TestARNs(t *testing.T) {
	tb := table(t)
	a := &Authorizer{Table: tb, Region: "kumo-1"}
	inst, _ := tb.ResourceType("ec2", "instance")
	img, _ := tb.ResourceType("ec2", "image")
	for _, tc := range []struct{ got, want string }{
		{a.arn(inst, "111122223333", "i-1"), "arn:aws:ec2:kumo-1:111122223333:instance/i-1"},
		{a.arn(img, "111122223333", "ami-1"), "arn:aws:ec2:kumo-1::image/ami-1"},
	} {
		if tc.got != tc.want {
			t.Errorf("arn %s, want %s", tc.got, tc.want)
		}
	}
	c := Call{Principal: identity.Principal{AccountID: "111122223333", UserName: "alice"}, Service: "iam",
		Params: url.Values{"Path": {"/eng/"}, "GroupName": {"devs"}}}
	ts := a.iamTargets(c, tb.ForOperation("iam", "CreateGroup"))
	if len(ts) != 1 || ts[0].resource != "arn:aws:iam::111122223333:group/eng/devs" {
		t.Errorf("CreateGroup targets %+v", ts)
	}
	// An operation on "my own user" targets the caller.
	c.Params = url.Values{}
	ts = a.iamTargets(c, tb.ForOperation("iam", "CreateAccessKey"))
	if len(ts) != 1 || ts[0].resource != "arn:aws:iam::111122223333:user/alice" {
		t.Errorf("CreateAccessKey targets %+v", ts)
	}
}

func TestEncodedMessageRoundTrip(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	req := policy.Request{Principal: policy.Principal{Kind: policy.User, Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice", UserID: "AIDA1"},
		Action: "ec2:StopInstances", Resource: "arn:aws:ec2:kumo-1:111122223333:instance/i-1",
		Context: policy.NewContext().Set("aws:ResourceTag/team", "red")}
	d := policy.Evaluate(req, policy.PolicySet{})
	err = (&Denied{Service: "ec2", Request: req, Decision: d, box: box}).APIError()
	msg := err.Error()
	const prefix = "You are not authorized to perform this operation. Encoded authorization failure message: "
	i := strings.Index(msg, prefix)
	if i < 0 {
		t.Fatalf("message %q", msg)
	}
	js, derr := Decode(box, msg[i+len(prefix):])
	if derr != nil {
		t.Fatal(derr)
	}
	var m Message
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	if m.Allowed || m.ExplicitDeny || m.Context.Action != req.Action || m.Context.Resource != req.Resource || m.Context.Principal.ARN != req.Principal.ARN {
		t.Errorf("decoded %s", js)
	}
	if !strings.Contains(js, "aws:resourcetag/team") {
		t.Errorf("decoded message lacks the context keys: %s", js)
	}
	if _, err := Decode(box, "not-a-message"); err == nil {
		t.Error("Decode accepted a forged message")
	}
	iamErr := (&Denied{Service: "iam", Request: req, Decision: d}).APIError()
	if iamErr.Code != "AccessDenied" || !strings.Contains(iamErr.Message, "because no identity-based policy allows the ec2:StopInstances action") {
		t.Errorf("IAM denial %s: %s", iamErr.Code, iamErr.Message)
	}
}
