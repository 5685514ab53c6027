package computee2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
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

// httpdScript serves a page on port 80 (busybox httpd daemonizes).
func httpdScript(page string) *string {
	return aws.String(base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(
		"#!/bin/sh\nmkdir -p /tmp/www && echo '%s' > /tmp/www/index.html && busybox httpd -p 80 -h /tmp/www && echo 'KUMO-HTTPD: up'\n", page))))
}

// clientNetns joins a namespace standing for a machine on the operator's
// network to the fake hosts' switch, at 198.18.0.100/24.
func clientNetns(t *testing.T, prefix string) string {
	t.Helper()
	name := prefix + "cl"
	ipNetns(t, "netns", "add", name)
	ipNetns(t, "-n", name, "link", "set", "lo", "up")
	ipNetns(t, "-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", "pcl", "netns", prefix+"sw")
	ipNetns(t, "-n", name, "addr", "add", "198.18.0.100/24", "dev", "eth0")
	ipNetns(t, "-n", name, "link", "set", "eth0", "up")
	ipNetns(t, "-n", prefix+"sw", "link", "set", "pcl", "master", "br0", "up")
	return name
}

// waitHTTPFrom fetches http://ip/ from inside a namespace until the page
// holds want, and returns how long that took.
func waitHTTPFrom(t *testing.T, netns, ip, want string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var out []byte
	for time.Since(start) < timeout {
		out, _ = exec.Command("ip", "netns", "exec", netns, "curl", "-s", "-m", "1", "http://"+ip+"/").CombinedOutput()
		if strings.Contains(string(out), want) {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("http://%s/ from %s: no %q within %v (last: %q)", ip, netns, want, timeout, out)
	return 0
}

// repairs reads a node's kumo_node_network_repairs_total by kind.
func repairs(t *testing.T, metricsAddr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		var kind string
		var n float64
		if _, err := fmt.Sscanf(strings.Replace(line, `"}`, `" }`, 1), `kumo_node_network_repairs_total{kind=%q } %g`, &kind, &n); err == nil {
			out[kind] = n
		}
	}
	return out
}

// clientScript pings one address, then tries another's port 80 every
// second for ever, printing each outcome on the console.
func clientScript(pingIP, httpIP string) *string {
	s := fmt.Sprintf(`#!/bin/sh
if busybox ping -c 3 -W 3 %[1]s >/dev/null 2>&1; then echo "KUMO-PING: %[1]s ok"; else echo "KUMO-PING: %[1]s fail"; fi
( while :; do
    if printf 'GET / HTTP/1.0\r\n\r\n' | timeout 2 nc %[2]s 80 2>/dev/null | grep -q hello; then echo "KUMO-HTTP: ok"; else echo "KUMO-HTTP: fail"; fi
    sleep 1
  done ) </dev/null >/dev/console 2>&1 &
`, pingIP, httpIP)
	return aws.String(base64.StdEncoding.EncodeToString([]byte(s)))
}

func runIn(t *testing.T, c *ec2.Client, ami, zone string, userData *string, groups ...string) string {
	t.Helper()
	return *run(t, c, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Nano,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), UserData: userData, SecurityGroupIds: groups,
		Placement: &types.Placement{AvailabilityZone: aws.String(zone)}}).InstanceId
}

// httpOutcomes counts the client's HTTP lines and tells the last one.
func httpOutcomes(console string) (ok, fail int, last string) {
	for _, line := range strings.Split(strings.ReplaceAll(console, "\r", ""), "\n") {
		switch strings.TrimSpace(line) {
		case "KUMO-HTTP: ok":
			ok, last = ok+1, "ok"
		case "KUMO-HTTP: fail":
			fail, last = fail+1, "fail"
		}
	}
	return ok, fail, last
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
	client := clientNetns(t, c.prefix)
	c.startHostNode("host1-"+c.prefix, region+"b", hosts[0], underlay[0], filepath.Join(dir, "n1"), c.prefix+"a")
	metrics2 := c.startHostNode("host2-"+c.prefix, region+"c", hosts[1], underlay[1], filepath.Join(dir, "n2"), c.prefix+"b")
	c.waitNodeReady(3)
	a, b := c.account("team-a"), c.account("team-b")
	ami := demoImageID(t, a)

	ctx := context.Background()
	sg, err := a.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	target := runIn(t, a, ami, region+"b", nil)
	web := runIn(t, a, ami, region+"b", httpdScript("hello"), *sg.GroupId)
	web2 := runIn(t, a, ami, region+"c", httpdScript("hello from web2"), *sg.GroupId)
	targetIP := aws.ToString(waitState(t, a, target, types.InstanceStateNameRunning, 2*time.Minute).PrivateIpAddress)
	webIP := aws.ToString(waitState(t, a, web, types.InstanceStateNameRunning, 2*time.Minute).PrivateIpAddress)
	waitConsole(t, a, target, 3*time.Minute, "ready", func(s string) bool { return strings.Contains(s, "KUMO-DEMO: ready") })
	waitConsole(t, a, web, 3*time.Minute, "httpd", func(s string) bool { return strings.Contains(s, "KUMO-HTTPD: up") })

	same := runIn(t, a, ami, region+"c", clientScript(targetIP, webIP))
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

	t.Run("a security group opens and closes a port", func(t *testing.T) {
		// Nothing lets the client into "web" yet.
		waitConsole(t, a, same, 2*time.Minute, "refused HTTP", func(s string) bool { _, f, _ := httpOutcomes(s); return f >= 2 })
		rule := &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpProtocol: aws.String("tcp"),
			FromPort: aws.Int32(80), ToPort: aws.Int32(80), CidrIp: aws.String("172.31.0.0/16")}
		if _, err := a.AuthorizeSecurityGroupIngress(ctx, rule); err != nil {
			t.Fatal(err)
		}
		opened := time.Now()
		// The client tries once a second and the console reaches the API
		// once a second: "within a second" shows here as a few seconds.
		waitConsole(t, a, same, 10*time.Second, "HTTP let in", func(s string) bool { ok, _, last := httpOutcomes(s); return ok > 0 && last == "ok" })
		t.Logf("port open on the console %v after AuthorizeSecurityGroupIngress", time.Since(opened).Round(100*time.Millisecond))
		if _, err := a.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: rule.GroupId,
			IpProtocol: rule.IpProtocol, FromPort: rule.FromPort, ToPort: rule.ToPort, CidrIp: rule.CidrIp}); err != nil {
			t.Fatal(err)
		}
		_, failsAtRevoke, _ := httpOutcomes(console(t, a, same))
		waitConsole(t, a, same, 10*time.Second, "HTTP shut out again", func(s string) bool {
			_, f, last := httpOutcomes(s)
			return f > failsAtRevoke && last == "fail"
		})
	})

	t.Run("an elastic IP reaches a guest from a client and moves", func(t *testing.T) {
		waitState(t, a, web2, types.InstanceStateNameRunning, 2*time.Minute)
		waitConsole(t, a, web2, 3*time.Minute, "httpd", func(s string) bool { return strings.Contains(s, "KUMO-HTTPD: up") })
		alloc, err := a.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
		if err != nil {
			t.Fatal(err)
		}
		eip := aws.ToString(alloc.PublicIp)
		if _, err := a.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
			IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), CidrIp: aws.String("198.18.0.0/24")}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: aws.String(web)}); err != nil {
			t.Fatal(err)
		}
		t.Logf("http://%s/ answered by %s from the client %v after AssociateAddress", eip, web, waitHTTPFrom(t, client, eip, "hello", 30*time.Second).Round(100*time.Millisecond))
		if _, err := a.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: aws.String(web2),
			AllowReassociation: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		t.Logf("moved to %s on the other host: answered by it %v after AssociateAddress", web2,
			waitHTTPFrom(t, client, eip, "hello from web2", 30*time.Second).Round(100*time.Millisecond))
		if got := aws.ToString(describe(t, a, web2).PublicIpAddress); got != eip {
			t.Errorf("%s PublicIpAddress = %q, want %s", web2, got, eip)
		}
		// web lost the elastic IP and got an auto-assigned public IP back (its subnet maps them).
		auto := aws.ToString(describe(t, a, web).PublicIpAddress)
		if auto == eip || auto == "" {
			t.Errorf("%s public address after the elastic IP moved: %q", web, auto)
		} else {
			t.Logf("auto-assigned http://%s/ answered by %s %v after the elastic IP moved away", auto, web,
				waitHTTPFrom(t, client, auto, "hello", 30*time.Second).Round(100*time.Millisecond))
		}

		t.Run("a host's flushed nftables ruleset is repaired", func(t *testing.T) {
			before := repairs(t, metrics2)
			out, err := exec.Command("sh", "-c", "for n in $(ls /run/netns | grep '^"+c.prefix+"b-') "+c.prefix+"h1; do ip netns exec $n nft flush ruleset || exit 1; done").CombinedOutput()
			if err != nil {
				t.Fatalf("flush: %v: %s", err, out)
			}
			t.Logf("elastic IP answering again %v after every ruleset of host 2 was flushed",
				waitHTTPFrom(t, client, eip, "hello from web2", 10*time.Second).Round(100*time.Millisecond))
			deadline := time.Now().Add(5 * time.Second)
			after := repairs(t, metrics2)
			for time.Now().Before(deadline) && (after["security_groups"] <= before["security_groups"] || after["public"] <= before["public"]) {
				time.Sleep(200 * time.Millisecond)
				after = repairs(t, metrics2)
			}
			if after["security_groups"] <= before["security_groups"] || after["public"] <= before["public"] {
				t.Errorf("repairs counted: before %v, after %v", before, after)
			}
		})
	})

	for _, id := range []string{same, target, web, web2} {
		if _, err := a.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Error(err)
		}
	}
}
