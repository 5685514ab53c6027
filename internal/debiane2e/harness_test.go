package debiane2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/internal/e2etest"
)

const region = "kumo-1"

// kumoBinary builds cmd/kumo into dir.
func kumoBinary(t *testing.T, dir string) string { return e2etest.MustBuild(t, dir) }

func freePort(t *testing.T) string { return e2etest.FreePort(t) }

// dev is one `kumo dev` process and the clients of one account.
type dev struct {
	t                          *testing.T
	bin, dataDir, prefix       string
	ec2Addr, s3Addr, adminAddr string
	cmd                        *exec.Cmd
	log                        *os.File
	EC2                        *ec2.Client
	S3                         *s3.Client
}

// startDev runs `kumo dev` with its own data dir, listeners and namespace
// prefix, and creates an account the way the README does.
func startDev(t *testing.T) *dev {
	t.Helper()
	dir := t.TempDir()
	suffix := make([]byte, 3)
	rand.Read(suffix)
	d := &dev{t: t, bin: kumoBinary(t, dir), dataDir: filepath.Join(dir, "data"), prefix: "kd" + hex.EncodeToString(suffix),
		ec2Addr: freePort(t), s3Addr: freePort(t), adminAddr: freePort(t)}
	log, err := os.Create(filepath.Join(dir, "kumo-dev.log"))
	if err != nil {
		t.Fatal(err)
	}
	d.log = log
	d.cmd = exec.Command(d.bin, "dev", "--data-dir", d.dataDir, "--ec2-listen", d.ec2Addr, "--s3-listen", d.s3Addr,
		"--admin-listen", d.adminAddr, "--node-listen", freePort(t), "--netns-prefix", d.prefix, "--log-format", "json")
	d.cmd.Stdout, d.cmd.Stderr = log, log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.shutdown)
	d.waitReady()
	d.account("debian-e2e")
	return d
}

// waitReady waits for the API and for the node to report ready.
func (d *dev) waitReady() {
	d.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + d.adminAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(d.kumo("admin", "--data-dir", d.dataDir, "node", "list"), "ready") {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	d.t.Fatalf("kumo dev: no ready node within 60s")
}

func (d *dev) kumo(args ...string) string {
	d.t.Helper()
	out, err := exec.Command(d.bin, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		d.t.Fatalf("kumo %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// account runs `kumo admin account create NAME --json` and makes clients.
func (d *dev) account(name string) {
	d.t.Helper()
	var a struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(d.kumo("admin", "--data-dir", d.dataDir, "account", "create", name, "--json")), &a); err != nil {
		d.t.Fatalf("account create: %v", err)
	}
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(a.AccessKeyId, a.SecretAccessKey, "")}
	d.EC2 = ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String("http://" + d.ec2Addr) })
	d.S3 = s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://" + d.s3Addr)
		o.UsePathStyle = true
	})
}

// shutdown stops kumo dev, then ends what it leaves on purpose (guests
// outlive it) and what it leaves by accident (namespaces, host routes).
func (d *dev) shutdown() {
	if d.t.Failed() {
		b, _ := os.ReadFile(d.log.Name())
		d.t.Logf("kumo dev log (tail):\n%s", b[max(0, len(b)-8000):])
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
	d.log.Close()
	// kumo dev --reset removes the guests, namespaces, host routes, proxy
	// entries, nftables table and owner record this data dir put on the
	// host; what follows catches anything a failed reset leaves.
	if out, err := exec.Command(d.bin, "dev", "--reset", "--data-dir", d.dataDir).CombinedOutput(); err != nil {
		d.t.Logf("kumo dev --reset: %v\n%s", err, out)
	}
	for _, pid := range d.guestPIDs() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	exec.Command("sh", "-c", "for n in $(ls /run/netns 2>/dev/null | grep '^"+d.prefix+"'); do ip netns del $n; done").Run()
}

// guestPIDs finds the QEMU processes of this kumo dev by their command line.
func (d *dev) guestPIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte("qemu-system")) && bytes.Contains(b, []byte(d.dataDir)) {
			out = append(out, pid)
		}
	}
	return out
}

// sshClient runs OpenSSH's client with a key against one address.
type sshClient struct {
	key, user, addr string
}

func (s sshClient) args(cmd string) []string {
	return []string{"-i", s.key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", s.user + "@" + s.addr, cmd}
}

// run runs cmd in the guest and returns its standard output.
func (s sshClient) run(ctx context.Context, cmd string) (string, error) {
	c := exec.CommandContext(ctx, "ssh", s.args(cmd)...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return out.String(), fmt.Errorf("ssh %s %q: %v: %s", s.addr, cmd, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// wait retries cmd until it succeeds or timeout passes.
func (s sshClient) wait(t *testing.T, cmd string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var out string
		out, err = s.run(ctx, cmd)
		cancel()
		if err == nil {
			return out
		}
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("no SSH to %s within %v: %v", s.addr, timeout, err)
	return ""
}

// must runs cmd once and fails the test on error.
func (s sshClient) must(t *testing.T, cmd string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := s.run(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
