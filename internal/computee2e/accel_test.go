package computee2e

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu/kvmtest"
)

// TestNodeWithKVMThatOpensButDoesNotRun is a host whose /dev/kvm opens but
// runs no guest (nested virtualisation): `kumo node` in a mount namespace
// where /dev/kvm is /dev/null. The node probes KVM at start-up, falls back
// to TCG with a warning, says so in `kumo admin node list` and its
// metrics, and guests run; before, every instance failed and nothing said
// why. With --accel kvm the node refuses to start.
func TestNodeWithKVMThatOpensButDoesNotRun(t *testing.T) {
	if !kvmtest.Available() {
		t.Skip("needs root (a mount namespace with a fake /dev/kvm)")
	}
	c := newServer(t)
	metrics := freePort(t)
	c.wrap = func(cmd *exec.Cmd) { kvmtest.Wrap(cmd, t.TempDir()) }
	c.node = c.spawn("node", "node", "--server", c.nodeAddr, "--join-token", c.token, "--data-dir", c.nodeDir,
		"--name", "host-"+c.prefix, "--zone", region+"a", "--netns-prefix", c.prefix, "--log-format", "json",
		"--metrics-listen", metrics)
	c.wrap = nil
	c.waitNodeReady(1)

	list := c.kumo("admin", "--data-dir", c.serverDir, "node", "list")
	if !strings.Contains(list, " tcg ") || !strings.Contains(list, "kvm unusable, falling back to tcg") ||
		!strings.Contains(list, "failed to initialize kvm") {
		t.Errorf("kumo admin node list does not show tcg with the probe's reason:\n%s", list)
	}
	c.waitHTTP("http://" + metrics + "/metrics")
	out, err := exec.Command("curl", "-fs", "http://"+metrics+"/metrics").Output()
	if err != nil || !strings.Contains(string(out), `kumo_node_accelerator{accel="tcg"} 1`) {
		t.Errorf("node metrics (%v) lack kumo_node_accelerator{accel=\"tcg\"} 1", err)
	}
	log, _ := os.ReadFile(c.node.log.Name())
	if !strings.Contains(string(log), `"level":"WARN","msg":"accelerator: tcg`) {
		t.Errorf("no WARN about the fallback in the node's log:\n%s", tail(log, 4000))
	}

	// A guest runs (under TCG).
	a := c.account("team-a")
	inst := run(t, a, &ec2.RunInstancesInput{ImageId: aws.String(demoImageID(t, a)), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(helloScript)))})
	id := *inst.InstanceId
	waitState(t, a, id, types.InstanceStateNameRunning, 2*time.Minute)
	waitConsole(t, a, id, 3*time.Minute, "ready", func(s string) bool { return countMarkers(s, demotest.Ready) > 0 })
	if _, err := a.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	waitState(t, a, id, types.InstanceStateNameTerminated, 2*time.Minute)

	// --accel kvm: a clear refusal at start-up.
	cmd := exec.Command(c.bin, "node", "--server", c.nodeAddr, "--data-dir", t.TempDir(), "--accel", "kvm", "--log-format", "json")
	kvmtest.Wrap(cmd, t.TempDir())
	start := time.Now()
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "--accel kvm, but kvm does not run guests") || !strings.Contains(string(b), "failed to initialize kvm") {
		t.Errorf("kumo node --accel kvm: %v, output:\n%s", err, b)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("kumo node --accel kvm took %v to refuse", d)
	}

	// kumo dev --accel kvm refuses before it starts anything.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd = exec.CommandContext(ctx, c.bin, "dev", "--data-dir", t.TempDir(), "--accel", "kvm", "--log-format", "json")
	kvmtest.Wrap(cmd, t.TempDir())
	b, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "--accel kvm, but kvm does not run guests") {
		t.Errorf("kumo dev --accel kvm: %v, output:\n%s", err, b)
	}
}
