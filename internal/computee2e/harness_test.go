package computee2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/admin"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/e2etest"
)

const region = "kumo-1"

// needs skips the test when what it needs is really absent.
func needs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: kumo node makes network namespaces and taps")
	}
	return demotest.Require(t)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// kumoBinary builds cmd/kumo once per test binary.
func kumoBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kumo-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath, buildErr = e2etest.Build(dir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freePort(t *testing.T) string { return e2etest.FreePort(t) }

// proc is one kumo process with its log.
type proc struct {
	cmd *exec.Cmd
	log *os.File
}

// cluster is a kumo server and one kumo node, as separate processes.
type cluster struct {
	t                                    *testing.T
	bin, demo                            string
	serverDir, nodeDir                   string
	ec2Addr, s3Addr, adminAddr, nodeAddr string
	prefix                               string
	dir                                  string // working directory of the processes (default: the test's)
	server, node                         *proc
	wrap                                 func(*exec.Cmd) // changes the next spawned commands when set
	extra                                []*proc         // nodes of fake hosts (multi-host tests)
	admin                                *admin.Client
	token                                string
	nodeArgs                             []string // more flags of the node (startNode)
}

func newCluster(t *testing.T) *cluster { return newClusterWith(t) }

// newClusterWith starts a cluster whose node gets more flags.
func newClusterWith(t *testing.T, nodeArgs ...string) *cluster {
	c := newServer(t, nodeArgs...)
	c.startNode()
	c.waitNodeReady(1)
	return c
}

// newServer is a cluster whose node the test starts itself (with nodeArgs
// added to its flags).
func newServer(t *testing.T, nodeArgs ...string) *cluster {
	demo := needs(t)
	dir := t.TempDir()
	suffix := make([]byte, 3)
	rand.Read(suffix)
	c := &cluster{t: t, bin: kumoBinary(t), demo: demo,
		serverDir: filepath.Join(dir, "server"), nodeDir: filepath.Join(dir, "node"),
		ec2Addr: freePort(t), s3Addr: freePort(t), adminAddr: freePort(t), nodeAddr: freePort(t),
		prefix: "ke" + hex.EncodeToString(suffix), nodeArgs: nodeArgs}
	t.Cleanup(c.shutdown)
	c.startServer()
	cred, err := admin.LoadCredential(c.serverDir)
	if err != nil {
		t.Fatal(err)
	}
	c.admin = admin.NewClient(cred)
	c.token = strings.TrimSpace(c.kumo("admin", "--data-dir", c.serverDir, "node", "token"))
	return c
}

// waitNodeReady waits until the node has joined and reported its capacity.
func (c *cluster) waitNodeReady(n int) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		nodes, err := c.admin.ListNodes(context.Background())
		ready := 0
		for _, nd := range nodes {
			if nd.State == "ready" && nd.VCpus > 0 {
				ready++
			}
		}
		if err == nil && ready == n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("%d nodes did not report ready within 30s", n)
}

func (c *cluster) kumo(args ...string) string {
	c.t.Helper()
	return c.kumoIn("", args...)
}

// kumoIn runs kumo from directory dir ("": the test's).
func (c *cluster) kumoIn(dir string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		c.t.Fatalf("kumo %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

func (c *cluster) spawn(name string, args ...string) *proc {
	c.t.Helper()
	log, err := os.OpenFile(filepath.Join(c.t.TempDir(), name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so the guests it daemonizes are not ours to signal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if c.wrap != nil {
		c.wrap(cmd) // after SysProcAttr: it may add to it
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	return &proc{cmd: cmd, log: log}
}

func (c *cluster) startServer() {
	c.server = c.spawn("server", "server", "--data-dir", c.serverDir, "--ec2-listen", c.ec2Addr, "--s3-listen", c.s3Addr,
		"--admin-listen", c.adminAddr, "--node-listen", c.nodeAddr, "--demo-image", c.demo, "--log-format", "json",
		"--public-ips", testPublicPool)
	c.waitHTTP("http://" + c.adminAddr + "/healthz")
}

// testPublicPool is the elastic IPs' pool: addresses of the fake hosts'
// switch (fakeHosts), so only the test's namespaces ever see them.
const testPublicPool = "198.18.0.200-198.18.0.220"

// startHostNode runs one more kumo node for a fake host: its underlay
// address lives in the host's namespace (on its "uplink", which is also
// where its public addresses are published), its guests' namespaces get
// their own prefix, and the guests are found by guestPIDs through
// dataDir. It returns the node's metrics address.
// More flags of the node come in extra.
func (c *cluster) startHostNode(name, zone, hostNetns, underlay, dataDir, prefix string, extra ...string) string {
	metrics := freePort(c.t)
	args := []string{"node", "--server", c.nodeAddr, "--join-token", c.token, "--data-dir", dataDir,
		"--name", name, "--zone", zone, "--netns-prefix", prefix, "--host-netns", hostNetns,
		"--underlay-address", underlay, "--uplink", "uplink", "--metrics-listen", metrics, "--log-format", "json"}
	c.extra = append(c.extra, c.spawn(name, append(args, extra...)...))
	return metrics
}

func (c *cluster) startNode() {
	args := []string{"node", "--server", c.nodeAddr, "--join-token", c.token, "--data-dir", c.nodeDir,
		"--name", "host-" + c.prefix, "--zone", region + "a", "--netns-prefix", c.prefix, "--log-format", "json"}
	c.node = c.spawn("node", append(args, c.nodeArgs...)...)
}

// kill sends SIGKILL and reaps the process.
func (c *cluster) kill(p *proc) {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	p.log.Close()
}

// stop asks a process to stop (SIGTERM), then kills it after a while.
func (c *cluster) stop(p *proc) {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
	p.log.Close()
}

// shutdown stops the processes and every guest left behind (guests outlive
// their agent by design, so the test must end them itself).
func (c *cluster) shutdown() {
	if c.t.Failed() {
		for _, p := range append([]*proc{c.server, c.node}, c.extra...) {
			if p != nil {
				b, _ := os.ReadFile(p.log.Name())
				c.t.Logf("%s:\n%s", p.log.Name(), tail(b, 6000))
			}
		}
	}
	c.stop(c.node)
	for _, p := range c.extra {
		c.stop(p)
	}
	c.stop(c.server)
	for _, pid := range c.guestPIDs("") {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	// The nodes' storage daemons outlive them too (docs/volumes.md).
	for _, pid := range c.procsUnder("qemu-storage-daemon") {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	exec.Command("sh", "-c", "for n in $(ls /run/netns | grep '^"+c.prefix+"'); do ip netns del $n; done").Run()
	exec.Command("nft", "delete", "table", "inet", "kumo_public_"+c.prefix).Run()
	os.Remove("/run/kumo/owners/" + c.prefix + ".lock")
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// procsUnder finds the processes of program whose command line names a
// path under this cluster's directory.
func (c *cluster) procsUnder(program string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.HasPrefix(b, []byte(program)) && bytes.Contains(b, []byte(filepath.Dir(c.nodeDir)+"/")) {
			out = append(out, pid)
		}
	}
	return out
}

// guestPIDs finds QEMU processes of this cluster's node (of one instance,
// or all when id is empty) by their command line.
func (c *cluster) guestPIDs(id string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte("qemu-system")) || !bytes.Contains(b, []byte(filepath.Dir(c.nodeDir))) {
			continue
		}
		if id != "" && !bytes.Contains(b, []byte("guest="+id)) {
			continue
		}
		out = append(out, pid)
	}
	return out
}

func (c *cluster) waitHTTP(url string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if out, err := exec.Command("curl", "-fs", url).CombinedOutput(); err == nil {
			_ = out
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("%s did not answer within 30s", url)
}

// account creates a team account and returns an EC2 client for it.
func (c *cluster) account(name string) *ec2.Client {
	c.t.Helper()
	a, err := c.admin.CreateAccount(context.Background(), name)
	if err != nil {
		c.t.Fatal(err)
	}
	cfg := aws.Config{Region: region, HTTPClient: controllertest.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider(a.AccessKeyId, a.SecretAccessKey, "")}
	return ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String("http://" + c.ec2Addr) })
}
