package computee2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
)

// helloScript is the README's user data: it reads the instance id from the
// metadata service and prints it as a marker on the console.
const helloScript = "#!/bin/sh\necho \"KUMO-HELLO: $(kumo-imds meta-data/instance-id)\"\n"

func demoImageID(t *testing.T, c *ec2.Client) string {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"kumo-demo"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 1 {
		t.Fatalf("kumo-demo images: %d", len(out.Images))
	}
	return *out.Images[0].ImageId
}

func run(t *testing.T, c *ec2.Client, in *ec2.RunInstancesInput) types.Instance {
	t.Helper()
	out, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Instances) != 1 {
		t.Fatalf("RunInstances started %d instances", len(out.Instances))
	}
	return out.Instances[0]
}

func describe(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances %s: %+v", id, out.Reservations)
	}
	return out.Reservations[0].Instances[0]
}

// waitState polls DescribeInstances until the instance is in state want.
func waitState(t *testing.T, c *ec2.Client, id string, want types.InstanceStateName, timeout time.Duration) types.Instance {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last types.Instance
	for time.Now().Before(deadline) {
		last = describe(t, c, id)
		if last.State.Name == want {
			return last
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: state %s after %v, want %s (reason %v)", id, last.State.Name, timeout, want, aws.ToString(last.StateTransitionReason))
	return last
}

func console(t *testing.T, c *ec2.Client, id string) string {
	t.Helper()
	out, err := c.GetConsoleOutput(context.Background(), &ec2.GetConsoleOutputInput{InstanceId: aws.String(id), Latest: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	if err != nil {
		t.Fatalf("console output is not base64: %v", err)
	}
	return string(b)
}

// waitConsole polls GetConsoleOutput until ok accepts it.
func waitConsole(t *testing.T, c *ec2.Client, id string, timeout time.Duration, what string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var out string
	for time.Now().Before(deadline) {
		out = console(t, c, id)
		if ok(out) {
			return out
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: no %s on the console after %v; console:\n%s", id, what, timeout, out)
	return out
}

// newSince is what a console shows beyond an earlier reading of it: the
// console is the last 64 KiB of a growing log, so old boots scroll out and
// counting markers in it says nothing; the earlier reading's tail is found
// in the new one instead (everything is new when it scrolled out). The
// tail is long enough to hold kernel lines with their timestamps: what
// the demo prints after them is the same on every boot.
func newSince(before, now string) string {
	tail := before[max(0, len(before)-8<<10):]
	if tail == "" {
		return now
	}
	if i := strings.LastIndex(now, tail); i >= 0 {
		return now[i+len(tail):]
	}
	return now
}

func countMarkers(console, event string) int {
	n := 0
	for _, m := range demotest.Parse([]byte(console)) {
		if m.Event == event {
			n++
		}
	}
	return n
}

func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

// alive reports whether every process runs (a zombie does not: QEMU
// daemonizes, and whoever inherits it may be slow to reap it).
func alive(pids []int) bool {
	for _, p := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			return false
		}
		// pid (comm) STATE ...: comm may hold spaces, so look after the last ')'.
		if i := strings.LastIndexByte(string(stat), ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X' {
			return false
		}
	}
	return len(pids) > 0
}

// TestInstanceLifecycle is the walk-through with real processes:
// run the demo with user data, see the marker with its own instance id,
// kill -9 the agent and then the server mid-life, reboot, stop, start,
// terminate; and a second account sees none of it.
func TestInstanceLifecycle(t *testing.T) {
	c := newCluster(t)
	a := c.account("team-a")
	b := c.account("team-b")
	ctx := context.Background()
	ami := demoImageID(t, a)
	if _, err := a.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("k1")}); err != nil {
		t.Fatal(err)
	}

	inst := run(t, a, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("k1"),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(helloScript))),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web1")}}}}})
	id := *inst.InstanceId
	if inst.State.Name != types.InstanceStateNamePending {
		t.Errorf("RunInstances state = %s, want pending", inst.State.Name)
	}
	running := waitState(t, a, id, types.InstanceStateNameRunning, 2*time.Minute)
	out := waitConsole(t, a, id, 3*time.Minute, "user-data marker and ready", func(s string) bool {
		return strings.Contains(s, "KUMO-HELLO: "+id) && countMarkers(s, demotest.Ready) > 0
	})
	if ip := aws.ToString(running.PrivateIpAddress); !strings.Contains(out, "KUMO-DEMO: network eth0 "+ip+" ") {
		t.Errorf("the guest did not get its private address %s by DHCP; console:\n%s", ip, out)
	}
	if err := demotest.Verify([]byte(out), demotest.Expect{InstanceID: id, IMDS: "v2", UserDataOutput: []string{"KUMO-HELLO: " + id}}); err != nil {
		t.Errorf("demo boot: %v\nconsole:\n%s", err, out)
	}

	t.Run("other account sees nothing", func(t *testing.T) {
		all, err := b.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Reservations) != 0 {
			t.Errorf("team-b sees %d reservations", len(all.Reservations))
		}
		_, err = b.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		wantAPIError(t, err, "InvalidInstanceID.NotFound")
		_, err = b.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
		wantAPIError(t, err, "InvalidInstanceID.NotFound")
		_, err = b.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
		wantAPIError(t, err, "InvalidInstanceID.NotFound")
	})

	t.Run("kill -9 of the agent leaves the guest running", func(t *testing.T) {
		pids := c.guestPIDs(id)
		if len(pids) != 1 {
			t.Fatalf("QEMU processes of %s: %v", id, pids)
		}
		c.kill(c.node)
		time.Sleep(time.Second)
		if !alive(pids) {
			t.Fatal("the guest died with its agent")
		}
		if got := describe(t, a, id).State.Name; got != types.InstanceStateNameRunning {
			t.Errorf("state with the agent dead = %s, want running", got)
		}
		c.startNode()
		// The restarted agent reattaches: same QEMU process, and it still reports.
		before := console(t, a, id)
		_ = before
		time.Sleep(3 * time.Second)
		if now := c.guestPIDs(id); len(now) != 1 || now[0] != pids[0] {
			t.Fatalf("after the agent restart QEMU pids = %v, want %v", now, pids)
		}
		if got := describe(t, a, id).State.Name; got != types.InstanceStateNameRunning {
			t.Errorf("state after agent restart = %s, want running", got)
		}
	})

	t.Run("kill -9 of the server leaves the guest running", func(t *testing.T) {
		pids := c.guestPIDs(id)
		c.kill(c.server)
		time.Sleep(2 * time.Second)
		if !alive(pids) {
			t.Fatal("the guest died with the server")
		}
		c.startServer()
		if got := describe(t, a, id).State.Name; got != types.InstanceStateNameRunning {
			t.Errorf("state after server restart = %s, want running", got)
		}
		if now := c.guestPIDs(id); len(now) != 1 || now[0] != pids[0] {
			t.Fatalf("after the server restart QEMU pids = %v, want %v", now, pids)
		}
	})

	t.Run("reboot", func(t *testing.T) {
		before := console(t, a, id)
		if _, err := a.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		// Until "ready" the guest may not yet listen to the ACPI power
		// button (its acpid starts after the modules load), and the next
		// subtest stops it.
		out := waitConsole(t, a, id, 3*time.Minute, "a second boot to ready", func(s string) bool {
			after := newSince(before, s)
			return countMarkers(after, demotest.Booted) > 0 && countMarkers(after, demotest.Ready) > 0
		})
		// A clean reboot, as EC2's: the guest's OS was asked and shut down
		// before the next boot (a reset shows no shutdown).
		after := newSince(before, out)
		if down, up := strings.Index(after, demotest.Prefix+demotest.Shutdown), strings.Index(after, demotest.Prefix+demotest.Booted); down < 0 || down > up {
			t.Errorf("no shutdown before the next boot: the reboot was a reset; console since the request:\n%s", after)
		}
		if got := describe(t, a, id).State.Name; got != types.InstanceStateNameRunning {
			t.Errorf("state after reboot = %s", got)
		}
	})

	t.Run("stop and start", func(t *testing.T) {
		pids := c.guestPIDs(id)
		if _, err := a.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		_, err := a.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Errorf("a second StopInstances while stopping: %v (AWS accepts it)", err)
		}
		stopped := waitState(t, a, id, types.InstanceStateNameStopped, 3*time.Minute)
		if alive(pids) {
			t.Error("QEMU still runs after the instance stopped")
		}
		if aws.ToString(stopped.StateReason.Code) != "Client.UserInitiatedShutdown" {
			t.Errorf("state reason = %v", aws.ToString(stopped.StateReason.Code))
		}
		_, err = a.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}})
		wantAPIError(t, err, "IncorrectInstanceState")
		atStop := console(t, a, id)
		if _, err := a.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		waitState(t, a, id, types.InstanceStateNameRunning, 2*time.Minute)
		waitConsole(t, a, id, 3*time.Minute, "a boot after start", func(s string) bool {
			return countMarkers(newSince(atStop, s), demotest.Booted) > 0
		})
	})

	t.Run("terminate", func(t *testing.T) {
		pids := c.guestPIDs(id)
		if _, err := a.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		waitState(t, a, id, types.InstanceStateNameTerminated, 3*time.Minute)
		if alive(pids) {
			t.Error("QEMU still runs after the instance terminated")
		}
		_, err := a.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
		wantAPIError(t, err, "IncorrectInstanceState")
	})
}

// TestGuestInitiatedShutdown: a guest that powers itself off ends stopped or
// terminated according to InstanceInitiatedShutdownBehavior.
func TestGuestInitiatedShutdown(t *testing.T) {
	c := newCluster(t)
	a := c.account("team-a")
	ami := demoImageID(t, a)
	poweroff := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\npoweroff\n"))
	ids := map[types.ShutdownBehavior]string{}
	for _, b := range []types.ShutdownBehavior{types.ShutdownBehaviorStop, types.ShutdownBehaviorTerminate} {
		inst := run(t, a, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), UserData: aws.String(poweroff),
			InstanceInitiatedShutdownBehavior: b})
		ids[b] = *inst.InstanceId
	}
	for b, want := range map[types.ShutdownBehavior]types.InstanceStateName{
		types.ShutdownBehaviorStop: types.InstanceStateNameStopped, types.ShutdownBehaviorTerminate: types.InstanceStateNameTerminated} {
		got := waitState(t, a, ids[b], want, 4*time.Minute)
		if r := aws.ToString(got.StateReason.Code); r != "Client.InstanceInitiatedShutdown" {
			t.Errorf("%s (%s): state reason %q, want Client.InstanceInitiatedShutdown", ids[b], b, r)
		}
	}
}
