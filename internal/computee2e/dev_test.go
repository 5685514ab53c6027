package computee2e

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/admin"
)

// newDev starts `kumo dev` the way `make dev` does: from the directory
// work, with a relative data dir (./data, or data given) and the demo
// image at ./data/images/demo (a link to the built one), on free ports.
func newDev(t *testing.T, work, data string, extra ...string) *cluster {
	demo := needs(t)
	if err := os.MkdirAll(filepath.Join(work, data, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(work, data, "images", "demo")
	if _, err := os.Lstat(link); err != nil {
		if err := os.Symlink(demo, link); err != nil {
			t.Fatal(err)
		}
	}
	c := &cluster{t: t, bin: kumoBinary(t), demo: demo, dir: work,
		serverDir: filepath.Join(work, data), nodeDir: filepath.Join(work, data, "node"),
		ec2Addr: freePort(t), s3Addr: freePort(t), adminAddr: freePort(t), nodeAddr: freePort(t)}
	// After shutdown (cleanups run last first): what the test's own
	// stopping left (the host forwarding table, the owner record).
	t.Cleanup(func() { exec.Command(c.bin, "dev", "--reset", "--data-dir", c.serverDir).Run() })
	t.Cleanup(c.shutdown)
	args := append([]string{"dev", "--data-dir", "./" + data, "--demo-image", "./" + data + "/images/demo",
		"--ec2-listen", c.ec2Addr, "--s3-listen", c.s3Addr, "--admin-listen", c.adminAddr,
		"--node-listen", c.nodeAddr, "--log-format", "json"}, extra...)
	c.server = c.spawn("dev-"+data, args...)
	c.waitHTTP("http://" + c.adminAddr + "/healthz")
	cred, err := admin.LoadCredential(c.serverDir)
	if err != nil {
		t.Fatal(err)
	}
	c.admin = admin.NewClient(cred)
	c.waitNodeReady(1)
	c.prefix = devPrefix(t, c.nodeDir)
	return c
}

// bootDemo runs the demo with the README's user data and waits for its
// console markers.
func bootDemo(t *testing.T, c *ec2.Client) types.Instance {
	t.Helper()
	inst := run(t, c, &ec2.RunInstancesInput{ImageId: aws.String(demoImageID(t, c)), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(helloScript)))})
	id := *inst.InstanceId
	running := waitState(t, c, id, types.InstanceStateNameRunning, 2*time.Minute)
	waitConsole(t, c, id, 3*time.Minute, "user-data marker and ready", func(s string) bool {
		return strings.Contains(s, "KUMO-HELLO: "+id) && countMarkers(s, demotest.Ready) > 0
	})
	return running
}

// TestDevRelativeDataDir is the README's first run: `make dev` starts
// kumo dev with --data-dir ./data; every RunInstances ended terminated
// ("qemu: invalid spec: run dir "data/node/instances/i-…": want an
// absolute path") until the roles resolved their paths at start-up.
func TestDevRelativeDataDir(t *testing.T) {
	c := newDev(t, t.TempDir(), "data")
	a := c.account("team-a")
	inst := bootDemo(t, a)
	if got := describe(t, a, *inst.InstanceId).State.Name; got != types.InstanceStateNameRunning {
		t.Errorf("state after boot = %s, want running", got)
	}
	// The banner's account command, run as printed from the same directory.
	banner, _ := os.ReadFile(c.server.log.Name())
	var printed string
	for _, l := range strings.Split(string(banner), "\n") {
		if strings.Contains(l, " admin --data-dir ") && strings.Contains(l, "account create") {
			printed = strings.TrimSpace(l)
		}
	}
	if printed == "" {
		t.Fatalf("kumo dev printed no account command:\n%s", tail(banner, 3000))
	}
	sh := exec.Command("sh", "-c", strings.Replace(printed, "team-a", "team-printed", 1))
	sh.Dir = c.dir
	if out, err := sh.CombinedOutput(); err != nil || !strings.Contains(string(out), `"AccessKeyId"`) {
		t.Errorf("the banner's %q: %v\n%s", printed, err, out)
	}
	// The admin CLI with the README's relative --data-dir, from the same directory.
	out := c.kumoIn(c.dir, "admin", "--data-dir", "./data", "account", "list")
	if !strings.Contains(out, "team-a") || !strings.Contains(out, "team-printed") {
		t.Errorf("kumo admin --data-dir ./data account list:\n%s", out)
	}
}

// devPrefix is the namespace prefix kumo dev recorded in its node dir.
func devPrefix(t *testing.T, nodeDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(nodeDir, "netns-prefix"))
	if err != nil {
		t.Fatalf("kumo dev recorded no namespace prefix: %v", err)
	}
	return strings.TrimSpace(string(b))
}
