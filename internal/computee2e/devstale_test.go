package computee2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// publicGuest boots the demo in the account's default VPC, lets ICMP in,
// and gives it an elastic IP; it returns the instance's private and
// public addresses.
func publicGuest(t *testing.T, c *ec2.Client, wait bool) (id, private, public string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupName: aws.String("default"),
		IpProtocol: aws.String("icmp"), FromPort: aws.Int32(-1), ToPort: aws.Int32(-1), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	var inst types.Instance
	if wait {
		inst = bootDemo(t, c)
	} else {
		inst = run(t, c, &ec2.RunInstancesInput{ImageId: aws.String(demoImageID(t, c)), InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
		inst = waitState(t, c, *inst.InstanceId, types.InstanceStateNameRunning, 2*time.Minute)
	}
	alloc, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: inst.InstanceId}); err != nil {
		t.Fatal(err)
	}
	return *inst.InstanceId, aws.ToString(inst.PrivateIpAddress), aws.ToString(alloc.PublicIp)
}

// hostState is what `ip` and `nft` show of the host's networking.
func hostState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{{"ip", "netns", "list"}, {"ip", "-4", "route", "show", "table", "main"},
		{"ip", "-4", "neigh", "show", "proxy"}, {"ip", "-o", "link", "show", "type", "veth"}, {"nft", "list", "tables"}} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		b.WriteString("$ " + strings.Join(args, " ") + "\n" + string(out))
	}
	return b.String()
}

// routeVia is `ip route get addr`.
func routeVia(t *testing.T, addr string) string {
	t.Helper()
	out, _ := exec.Command("ip", "-4", "route", "get", addr).CombinedOutput()
	return string(out)
}

// waitPing waits until addr answers ICMP echo from the host.
func waitPing(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := exec.Command("ping", "-c", "1", "-W", "1", addr).CombinedOutput()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer ping from the host after %v (route: %s):\n%s\nhost:\n%s", addr, timeout, routeVia(t, addr), out, hostState(t))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestDevLeftoversOfAKilledCloud: kumo dev with data dir A is killed (-9)
// with a guest that has an elastic IP; its namespace, its route to the
// default VPC's 172.31.0.0/16 and to the elastic IP stay on the host. A
// second kumo dev with data dir B found its default VPC "overlaps a host
// route" (the host could not reach its guests) and its first elastic IP,
// the same address, routed into A's dead namespace. Now B takes the dead
// cloud's host routes back; and `kumo dev --reset` on A removes
// everything of A (guests, namespaces, routes, table) and nothing of B.
func TestDevLeftoversOfAKilledCloud(t *testing.T) {
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("ping is not installed (Debian: apt-get install iputils-ping)")
	}
	before := hostState(t)
	workA, workB := t.TempDir(), t.TempDir()
	a := newDev(t, workA, "data")
	_, _, eipA := publicGuest(t, a.account("team-a"), false)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(hostState(t), eipA+" via 169.254.0.2") {
		if time.Now().After(deadline) {
			t.Fatalf("no host route to A's elastic IP %s:\n%s", eipA, hostState(t))
		}
		time.Sleep(200 * time.Millisecond)
	}
	guestsA := a.guestPIDs("")
	a.kill(a.server)
	leftA := hostState(t)
	t.Logf("left by A (prefix %s) after kill -9:\n%s", a.prefix, leftA)
	if !strings.Contains(leftA, "172.31.0.0/16") || !strings.Contains(leftA, a.prefix) {
		t.Fatalf("A left no namespace or VPC route: the test does not reproduce the leftovers")
	}

	b := newDev(t, workB, "data")
	if b.prefix == a.prefix {
		t.Fatalf("two data dirs share the namespace prefix %s", a.prefix)
	}
	_, privB, eipB := publicGuest(t, b.account("team-a"), true)
	if eipB != eipA {
		t.Logf("B's elastic IP %s is not A's %s: the address clash is not reproduced", eipB, eipA)
	}
	if log, _ := os.ReadFile(b.server.log.Name()); !strings.Contains(string(log), "removed host routes left by a kumo that is no longer running") {
		t.Errorf("B did not say it took A's host routes back; its log:\n%s", tail(log, 4000))
	}
	waitPing(t, privB, time.Minute)
	waitPing(t, eipB, time.Minute)
	if len(a.guestPIDs("")) == 0 || !alive(guestsA) {
		t.Error("A's guest did not outlive A (guests survive their node)")
	}

	cmd := exec.Command(a.bin, "dev", "--reset", "--data-dir", "./data")
	cmd.Dir = workA
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kumo dev --reset: %v\n%s", err, out)
	}
	t.Logf("kumo dev --reset of A:\n%s", out)
	after := hostState(t)
	if strings.Contains(after, a.prefix) {
		t.Errorf("A's namespace prefix %s is still on the host after --reset:\n%s", a.prefix, after)
	}
	if alive(guestsA) {
		t.Errorf("A's guests %v survived --reset", guestsA)
	}
	if _, err := os.Stat(filepath.Join("/run/kumo/owners", a.prefix+".lock")); err == nil {
		t.Error("A's owner record survived --reset")
	}
	// B is untouched.
	waitPing(t, privB, 10*time.Second)
	waitPing(t, eipB, 10*time.Second)
	t.Logf("host before the test:\n%s\nafter A's reset:\n%s", before, after)

	// B killed too: --reset alone, with B's veth, routes and table still
	// there, leaves nothing of B.
	guestsB := b.guestPIDs("")
	b.kill(b.server)
	cmd = exec.Command(b.bin, "dev", "--reset", "--data-dir", "./data")
	cmd.Dir = workB
	if out, err = cmd.CombinedOutput(); err != nil {
		t.Fatalf("kumo dev --reset: %v\n%s", err, out)
	}
	t.Logf("kumo dev --reset of B:\n%s", out)
	after = hostState(t)
	for _, left := range []string{b.prefix, "172.31.0.0/16", eipB + " ", "169.254.0.2"} {
		if strings.Contains(after, left) {
			t.Errorf("%q is still on the host after B's --reset:\n%s", left, after)
		}
	}
	if alive(guestsB) {
		t.Errorf("B's guests %v survived --reset", guestsB)
	}
	for _, want := range []string{"guests killed", "network namespaces removed", "host veths removed", "172.31.0.0/16", eipB, "kumo_public_" + b.prefix} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kumo dev --reset does not report %q", want)
		}
	}
}
