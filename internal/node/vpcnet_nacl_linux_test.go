//go:build linux

package node

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// TestNetworkACLRealNetwork: the agent installs a subnet's custom ACL in
// its VPC namespace's nftables with the security groups, and puts a
// flushed ACL chain back (drift repair).
func TestNetworkACLRealNetwork(t *testing.T) {
	requireRootNet(t)
	h, mgr, reg := realHarness(t, "", "")
	h.start()
	spec := realSpec(testID, "10.7.1.5", "02:00:0a:07:01:05")
	vpc := realVPC()
	vpc.NetworkACLs = []nodeapi.SubnetNetworkACL{{SubnetID: spec.Network.SubnetID, CIDR: spec.Network.SubnetCIDR, NetworkACLID: "acl-0123456789abcdef0",
		Entries: []nodeapi.NetworkACLEntry{
			{RuleNumber: 100, Protocol: "6", CIDR: "10.7.2.0/24", FromPort: 22, ToPort: 22},
			{RuleNumber: 110, Allow: true, Protocol: "-1", CIDR: "0.0.0.0/0", FromPort: -1, ToPort: -1},
			{RuleNumber: 32767, Protocol: "-1", CIDR: "0.0.0.0/0", FromPort: -1, ToPort: -1},
			{RuleNumber: 32767, Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0", FromPort: -1, ToPort: -1},
		}}}
	h.srv.desired <- &nodeapi.Desired{NodeID: "n-1", Instances: []nodeapi.InstanceSpec{spec}, VPCs: []nodeapi.VPCNetwork{vpc}}
	h.srv.waitFor(t, testID, nodeapi.ObservedRunning, 30*time.Second)
	ns := nsName(mgr, spec.Network.VPCID)
	chain := func(name string) string {
		out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "chain", "inet", "kumo_sg", name).CombinedOutput()
		return string(out)
	}
	waitUntil(t, "network ACL installed", func() bool {
		return strings.Contains(chain("nacl"), "jump nacl_in_1") && strings.Contains(chain("nacl_in_1"), "drop")
	})
	if in := chain("nacl_in_1"); !strings.Contains(in, "10.7.2.0/24") || !strings.Contains(in, "dport 22") {
		t.Errorf("nacl_in_1:\n%s", in)
	}
	before := repairs(t, reg, "security_groups")
	sh(t, "ip", "netns", "exec", ns, "nft", "flush", "chain", "inet", "kumo_sg", "nacl_in_1")
	waitUntil(t, "flushed ACL chain restored", func() bool { return strings.Contains(chain("nacl_in_1"), "10.7.2.0/24") })
	if after := repairs(t, reg, "security_groups"); after != before+1 {
		t.Errorf("repairs{security_groups}: %v then %v", before, after)
	}
}
