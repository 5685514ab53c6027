package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/images/debian/debiantest"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/imds"
	"github.com/kumo-cloud/kumo/internal/node"
	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// A stock Debian boot reaches SSH in a minute or more under TCG.
const debianSSHTimeout = 10 * time.Minute

// BenchmarkDebianBareQEMU boots the stock Debian 12 cloud image
// (images/debian) with the settings Kumo's driver uses for a t3.micro (q35,
// the same accelerator, 2 vCPUs, 1 GiB, a qcow2 overlay on virtio-blk, the
// ec2 SMBIOS uuid/serial) and Kumo's metadata service (internal/imds)
// behind QEMU's user network at 169.254.169.254, and reports the seconds
// from exec to SSH with the injected key. Compare with
// BenchmarkDebianRunInstances.
func BenchmarkDebianBareQEMU(b *testing.B) {
	img := debiantest.Require(b)
	key, pub := sshKey(b)
	imdsAddr := serveIMDS(b, pub)
	accel := qemu.Driver{}.Accel()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		root := filepath.Join(dir, "root.qcow2")
		if err := (qemuimg.Tool{}).Create(context.Background(), root, "qcow2", 0, img.Disk, "qcow2"); err != nil {
			b.Fatal(err)
		}
		sshAddr := freeAddr(b)
		_, sshPort, _ := net.SplitHostPort(sshAddr)
		uuid, _ := qemu.NewSMBIOSUUID(nil)
		args := []string{"-machine", "q35", "-accel", string(accel), "-smp", "2", "-m", "1024",
			"-nodefaults", "-no-user-config", "-display", "none",
			"-smbios", "type=1,serial=" + uuid + ",uuid=" + uuid,
			"-chardev", "file,id=console,path=" + filepath.Join(dir, "console.log"), "-serial", "chardev:console",
			"-drive", "file=" + root + ",if=none,id=root,format=qcow2", "-device", "virtio-blk-pci,drive=root,bootindex=0",
			"-netdev", "user,id=n0,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,hostfwd=tcp:127.0.0.1:" + sshPort + "-:22," +
				"guestfwd=tcp:169.254.169.254:80-cmd:busybox nc " + strings.Replace(imdsAddr, ":", " ", 1),
			"-device", "virtio-net-pci,netdev=n0,mac=" + benchMAC}
		if accel == qemu.AccelKVM {
			args = append(args, "-cpu", "host")
		}
		start := time.Now()
		cmd := exec.Command("qemu-system-x86_64", args...)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		total += waitSSH(b, key, img.DefaultUser+"@127.0.0.1", sshPort, start, filepath.Join(dir, "console.log"))
		cmd.Process.Kill()
		cmd.Wait()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-ssh")
}

const benchMAC = "02:00:a9:fe:00:0f"

// BenchmarkDebianRunInstances times a first launch of the stock Debian
// image through Kumo: imported once from S3, then per iteration
// RunInstances with a key pair on a node whose image cache is empty (QEMU
// starts at once and reads the image over the node's NBD export while the
// node fills its cached base), until
//   - s-to-running: DescribeInstances says running;
//   - s-to-ssh: OpenSSH from the host logs in with the key (kumo dev's
//     node routes the VPC from the host).
func BenchmarkDebianRunInstances(b *testing.B) {
	img := debiantest.Require(b)
	srv := controllertest.Start(b, storetest.Backends()[0])
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	nodeDir := startExposedNode(b, ctx, cancel, srv)
	acct := srv.NewAccount(b, "bench")
	ami := importDebian(b, srv, acct, img)
	key := filepath.Join(b.TempDir(), "bench.pem")
	kp, err := acct.EC2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("bench"), KeyType: types.KeyTypeEd25519})
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(key, []byte(aws.ToString(kp.KeyMaterial)), 0o600); err != nil {
		b.Fatal(err)
	}
	sgs, err := acct.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil || len(sgs.SecurityGroups) != 1 {
		b.Fatalf("default security group: %+v %v", sgs, err)
	}
	if _, err := acct.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sgs.SecurityGroups[0].GroupId,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		b.Fatal(err)
	}
	var running, ssh time.Duration
	for i := 0; i < b.N; i++ {
		// A first launch: no cached base of the image on the node.
		bases, _ := filepath.Glob(filepath.Join(nodeDir, "images", "*.raw"))
		for _, f := range bases {
			os.Remove(f)
		}
		start := time.Now()
		out, err := acct.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("bench")})
		if err != nil {
			b.Fatal(err)
		}
		id := *out.Instances[0].InstanceId
		running += pollUntilFor(b, start, debianSSHTimeout, "running", func() bool { return stateOf(b, acct.EC2, id) == types.InstanceStateNameRunning })
		ip := ""
		if r, err := acct.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}); err == nil {
			ip = aws.ToString(r.Reservations[0].Instances[0].PrivateIpAddress)
		}
		ssh += waitSSH(b, key, img.DefaultUser+"@"+ip, "22", start, filepath.Join(nodeDir, "instances", id, "console.log"))
		b.StopTimer()
		if _, err := acct.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			b.Fatal(err)
		}
		pollUntil(b, time.Now(), "terminated", func() bool { return stateOf(b, acct.EC2, id) == types.InstanceStateNameTerminated })
		b.StartTimer()
	}
	b.ReportMetric(running.Seconds()/float64(b.N), "s-to-running")
	b.ReportMetric(ssh.Seconds()/float64(b.N), "s-to-ssh")
}

// startExposedNode is startNode with the VPCs routed from the host, as kumo dev runs it.
func startExposedNode(b *testing.B, ctx context.Context, cancel context.CancelFunc, srv *controllertest.Server) string {
	b.Helper()
	token, err := srv.Nodes.CreateJoinToken(ctx, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	prefix := fmt.Sprintf("kb%06x", time.Now().UnixNano()&0xffffff)
	dir := b.TempDir()
	done := make(chan struct{})
	go func() {
		defer close(done)
		node.Start(ctx, node.Options{Server: srv.NodeAddr.String(), JoinToken: token, DataDir: dir,
			Name: prefix, Zone: controllertest.Region + "a", NetnsPrefix: prefix, ExposeToHost: true})
	}()
	b.Cleanup(func() {
		cancel()
		<-done
		for _, ns := range netnsWithPrefix(prefix) {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	pollUntil(b, time.Now(), "node ready", func() bool {
		nodes, err := srv.Admin.ListNodes(ctx)
		return err == nil && len(nodes) == 1 && nodes[0].State == "ready" && nodes[0].VCpus > 0
	})
	return dir
}

// importDebian uploads the image to S3 and imports it (not timed).
func importDebian(b *testing.B, srv *controllertest.Server, acct *controllertest.Account, img debiantest.Image) string {
	b.Helper()
	ctx := context.Background()
	cfg := acct.AWSConfig.Copy()
	cfg.BaseEndpoint = aws.String(srv.S3Endpoint)
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("images")}); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(img.Disk)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("images"), Key: aws.String("debian.qcow2"), Body: f}); err != nil {
		b.Fatal(err)
	}
	task, err := acct.EC2.ImportImage(ctx, &ec2.ImportImageInput{DiskContainers: []types.ImageDiskContainer{{Format: aws.String("qcow2"),
		UserBucket: &types.UserBucket{S3Bucket: aws.String("images"), S3Key: aws.String("debian.qcow2")}}}})
	if err != nil {
		b.Fatal(err)
	}
	var ami string
	pollUntilFor(b, time.Now(), 15*time.Minute, "imported image", func() bool {
		out, err := acct.EC2.DescribeImportImageTasks(ctx, &ec2.DescribeImportImageTasksInput{ImportTaskIds: []string{*task.ImportTaskId}})
		if err != nil || aws.ToString(out.ImportImageTasks[0].Status) == "deleted" {
			b.Fatalf("import: %v %+v", err, out)
		}
		ami = aws.ToString(out.ImportImageTasks[0].ImageId)
		return aws.ToString(out.ImportImageTasks[0].Status) == "completed"
	})
	return ami
}

// sshKey makes an ed25519 key pair with ssh-keygen.
func sshKey(b *testing.B) (key, pub string) {
	b.Helper()
	key = filepath.Join(b.TempDir(), "id")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		b.Fatalf("ssh-keygen: %v %s", err, out)
	}
	p, err := os.ReadFile(key + ".pub")
	if err != nil {
		b.Fatal(err)
	}
	return key, strings.TrimSpace(string(p))
}

// serveIMDS runs Kumo's metadata service for one made-up instance on loopback.
func serveIMDS(b *testing.B, pub string) string {
	b.Helper()
	tk, err := imds.NewTokenKey()
	if err != nil {
		b.Fatal(err)
	}
	in := &imds.Instance{ID: "i-0be4c400000000001", AccountID: "000000000001", ImageID: "ami-0be4c400000000001", InstanceType: "t3.micro",
		Region: controllertest.Region, AvailabilityZone: controllertest.Region + "a", PrivateIP: "169.254.0.15", MAC: benchMAC,
		SubnetID: "subnet-0be4c400000000001", SubnetCIDR: "169.254.0.0/16", VPCID: "vpc-0be4c400000000001", VPCCIDR: "169.254.0.0/16",
		InterfaceID: "eni-0be4c400000000001", ReservationID: "r-0be4c400000000001", KeyName: "bench", PublicKey: pub,
		SecurityGroups: []string{"default"}, SecurityGroupIDs: []string{"sg-0be4c400000000001"}, PendingTime: time.Now()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &http.Server{Handler: &imds.Server{TokenKey: tk, Lookup: func(*http.Request) (*imds.Instance, error) { return in, nil }}}
	go s.Serve(l)
	b.Cleanup(func() { s.Close() })
	return l.Addr().String()
}

func freeAddr(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitSSH retries an SSH login until it works and returns the time since start.
func waitSSH(b *testing.B, key, target, port string, start time.Time, console string) time.Duration {
	b.Helper()
	for time.Since(start) < debianSSHTimeout {
		cmd := exec.Command("ssh", "-i", key, "-p", port, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=3", "-o", "LogLevel=ERROR", target, "true")
		if cmd.Run() == nil {
			return time.Since(start)
		}
		time.Sleep(500 * time.Millisecond)
	}
	data, _ := os.ReadFile(console)
	b.Fatalf("no SSH to %s within %v; console:\n%s", target, debianSSHTimeout, data[max(0, len(data)-8000):])
	return 0
}

// pollUntilFor is pollUntil with its own timeout.
func pollUntilFor(b *testing.B, start time.Time, timeout time.Duration, what string, ok func() bool) time.Duration {
	b.Helper()
	for time.Since(start) < timeout {
		if ok() {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("no %s within %v", what, timeout)
	return 0
}
