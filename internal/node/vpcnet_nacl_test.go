package node

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

// TestNetworkACLsApplied: the subnet ACLs of a Desired reach the filter
// with the security groups, a changed entry is applied at once, and a bad
// entry becomes "deny everything" instead of breaking the filter.
func TestNetworkACLsApplied(t *testing.T) {
	h, _ := vpcHarness(t)
	h.start()
	spec := testSpec()
	spec.SecurityGroupIDs = []string{"sg-1"}
	vpc := testVPC()
	vpc.NetworkACLs = []nodeapi.SubnetNetworkACL{
		{SubnetID: "subnet-1", CIDR: "10.0.1.0/24", NetworkACLID: "acl-1", Entries: []nodeapi.NetworkACLEntry{
			{RuleNumber: 100, Protocol: "6", CIDR: "10.0.2.0/24", FromPort: 22, ToPort: 22},
			{RuleNumber: 110, Allow: true, Protocol: "-1", CIDR: "0.0.0.0/0", FromPort: -1, ToPort: -1},
			{RuleNumber: 120, Allow: true, Protocol: "6", CIDR: "not-a-cidr", FromPort: 1, ToPort: 2},
			{RuleNumber: 130, Egress: true, Allow: true, Protocol: "bogus", CIDR: "0.0.0.0/0"},
			{RuleNumber: 32767, Protocol: "-1", CIDR: "0.0.0.0/0", FromPort: -1, ToPort: -1},
		}},
		{SubnetID: "subnet-bad", CIDR: "2001:db8::/64", NetworkACLID: "acl-1"},
	}
	h.srv.desired <- &nodeapi.Desired{NodeID: "n-1", Instances: []nodeapi.InstanceSpec{spec}, VPCs: []nodeapi.VPCNetwork{vpc}}
	waitUntil(t, "filter applied", func() bool { _, f := h.net.vpcCalls(); return len(f) > 0 })
	_, filters := h.net.vpcCalls()
	any := netip.MustParsePrefix("0.0.0.0/0")
	want := []sgfilter.SubnetACL{{SubnetID: "subnet-1", CIDR: netip.MustParsePrefix("10.0.1.0/24"), Entries: []sgfilter.ACLEntry{
		{RuleNumber: 100, Protocol: "6", CIDR: netip.MustParsePrefix("10.0.2.0/24"), FromPort: 22, ToPort: 22},
		{RuleNumber: 110, Allow: true, Protocol: "-1", CIDR: any, FromPort: -1, ToPort: -1},
		{RuleNumber: 120, Protocol: "-1", CIDR: any},
		{RuleNumber: 130, Egress: true, Protocol: "-1", CIDR: any},
		{RuleNumber: 32767, Protocol: "-1", CIDR: any, FromPort: -1, ToPort: -1},
	}}}
	if got := filters[0].D.ACLs; !reflect.DeepEqual(got, want) {
		t.Fatalf("ACLs applied:\n %+v\nwant\n %+v", got, want)
	}
	if _, err := sgfilter.Build(filters[0].D); err != nil {
		t.Errorf("the applied state does not build: %v", err)
	}

	vpc.NetworkACLs[0].Entries[0].RuleNumber = 140
	h.srv.desired <- &nodeapi.Desired{NodeID: "n-1", Instances: []nodeapi.InstanceSpec{spec}, VPCs: []nodeapi.VPCNetwork{vpc}}
	waitUntil(t, "the changed entry applied", func() bool { _, f := h.net.vpcCalls(); return len(f) == 2 })
	time.Sleep(50 * time.Millisecond)
	_, filters = h.net.vpcCalls()
	if e := filters[1].D.ACLs[0].Entries[0]; e.RuleNumber != 140 {
		t.Errorf("first entry after the change: %+v", e)
	}
}
