package computee2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ipNetns runs ip(8) to build the test's own fake hosts (the agent never
// runs ip; the test may).
func ipNetns(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fakeHosts makes n "hosts": network namespaces <prefix>h<i> joined by veths
// to a bridge in <prefix>sw, with underlay addresses 198.18.0.<i+1>/24.
// Nothing leaves these namespaces.
func fakeHosts(t *testing.T, prefix string, n int) (netns, underlay []string) {
	t.Helper()
	sw := prefix + "sw"
	ipNetns(t, "netns", "add", sw)
	ipNetns(t, "-n", sw, "link", "add", "br0", "type", "bridge")
	ipNetns(t, "-n", sw, "link", "set", "br0", "up")
	for i := 0; i < n; i++ {
		h := fmt.Sprintf("%sh%d", prefix, i)
		addr := fmt.Sprintf("198.18.0.%d", i+1)
		ipNetns(t, "netns", "add", h)
		ipNetns(t, "-n", h, "link", "set", "lo", "up")
		ipNetns(t, "-n", h, "link", "add", "uplink", "type", "veth", "peer", "name", fmt.Sprintf("p%d", i), "netns", sw)
		ipNetns(t, "-n", h, "addr", "add", addr+"/24", "dev", "uplink")
		ipNetns(t, "-n", h, "link", "set", "uplink", "up")
		ipNetns(t, "-n", sw, "link", "set", fmt.Sprintf("p%d", i), "master", "br0", "up")
		netns, underlay = append(netns, "/run/netns/"+h), append(underlay, addr)
	}
	return netns, underlay
}

// pingScript is user data that pings an address and prints the outcome.
func pingScript(ip string) *string {
	s := fmt.Sprintf("#!/bin/sh\nif busybox ping -c 3 -W 3 %s >/dev/null 2>&1; then echo \"KUMO-PING: %s ok\"; else echo \"KUMO-PING: %s fail\"; fi\n", ip, ip, ip)
	return aws.String(base64.StdEncoding.EncodeToString([]byte(s)))
}

func runIn(t *testing.T, c *ec2.Client, ami, zone string, userData *string) string {
	t.Helper()
	return *run(t, c, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), UserData: userData,
		Placement: &types.Placement{AvailabilityZone: aws.String(zone)}}).InstanceId
}

// TestVPCAcrossHosts: two fake hosts, each with its own kumo node and its
// own underlay address; a guest on one host reaches a guest of its VPC on
// the other through the VXLAN overlay (the default security group lets
// members in), while a guest of another account's VPC — the same CIDR —
// does not reach it.
func TestVPCAcrossHosts(t *testing.T) {
	c := newCluster(t) // its own node stays: it is in zone a with the hosts' first node
	hosts, underlay := fakeHosts(t, c.prefix, 2)
	dir := filepath.Dir(c.nodeDir)
	c.startHostNode("host1-"+c.prefix, region+"b", hosts[0], underlay[0], filepath.Join(dir, "n1"), c.prefix+"a")
	c.startHostNode("host2-"+c.prefix, region+"c", hosts[1], underlay[1], filepath.Join(dir, "n2"), c.prefix+"b")
	c.waitNodeReady(3)
	a, b := c.account("team-a"), c.account("team-b")
	ami := demoImageID(t, a)

	target := runIn(t, a, ami, region+"b", nil)
	targetIP := aws.ToString(waitState(t, a, target, types.InstanceStateNameRunning, 2*time.Minute).PrivateIpAddress)
	waitConsole(t, a, target, 3*time.Minute, "ready", func(s string) bool { return strings.Contains(s, "KUMO-DEMO: ready") })

	same := runIn(t, a, ami, region+"c", pingScript(targetIP))
	other := runIn(t, b, ami, region+"c", pingScript(targetIP))
	waitConsole(t, a, same, 3*time.Minute, "the ping across hosts", func(s string) bool {
		return strings.Contains(s, "KUMO-PING: "+targetIP+" ok")
	})
	waitConsole(t, b, other, 3*time.Minute, "the ping from another VPC failing", func(s string) bool {
		return strings.Contains(s, "KUMO-PING: "+targetIP+" fail")
	})
	if out := console(t, b, other); strings.Contains(out, "KUMO-PING: "+targetIP+" ok") {
		t.Errorf("a guest of another account's VPC reached %s:\n%s", targetIP, out)
	}
	for _, id := range []string{same, target} {
		if _, err := a.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Error(err)
		}
	}
}
