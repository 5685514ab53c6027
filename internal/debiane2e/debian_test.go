package debiane2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/images/debian/debiantest"
)

// Under TCG a stock Debian boot reaches SSH in 50-90 s on a quiet machine;
// CI shares two cores with other work, so the waits are generous.
const (
	importTimeout = 15 * time.Minute
	bootTimeout   = 8 * time.Minute
)

// userData is the #cloud-config the test passes: one file written by
// write_files and one by runcmd (which runs once per instance).
func userData(token string) string {
	return fmt.Sprintf(`#cloud-config
write_files:
  - path: /var/tmp/kumo-write-files
    content: |
      write_files %[1]s
runcmd:
  - [sh, -c, 'echo "runcmd %[1]s $(cat /proc/sys/kernel/random/boot_id)" >> /var/tmp/kumo-runcmd']
`, token)
}

// TestDebianCloudImage boots the stock Debian 12 cloud image as a user
// would and checks what a user checks: SSH with the key pair, the user
// data ran, the hostname is the metadata's local-hostname, names resolve
// (once the VPC resolver exists) and a reboot comes back with SSH.
func TestDebianCloudImage(t *testing.T) {
	img := debiantest.Require(t)
	d := startDev(t)
	ctx := context.Background()

	ami := importImage(t, d, img)
	keyPath := createKey(t, d, "debian-e2e")
	allowSSH(t, d)

	token := fmt.Sprintf("tok-%d", time.Now().UnixNano())
	start := time.Now()
	out, err := d.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("debian-e2e"),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData(token))))})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.Instances[0].InstanceId
	inst := waitRunning(t, d.EC2, id)
	ip := aws.ToString(inst.PrivateIpAddress)
	ssh := sshClient{key: keyPath, user: img.DefaultUser, addr: ip}
	defer func() {
		if t.Failed() {
			t.Logf("console of %s:\n%s", id, consoleTail(d.EC2, id))
		}
	}()

	bootID := strings.TrimSpace(ssh.wait(t, "cat /proc/sys/kernel/random/boot_id", bootTimeout))
	t.Logf("%s: SSH as %s@%s after %v", id, img.DefaultUser, ip, time.Since(start).Round(time.Second))
	status := ssh.must(t, "cloud-init status --wait --long; true")
	if !strings.Contains(status, "status: done") {
		t.Fatalf("cloud-init did not finish cleanly:\n%s", status)
	}
	t.Logf("cloud-init done after %v", time.Since(start).Round(time.Second))
	if b, err := os.ReadFile(d.log.Name()); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, `"image cached"`) {
				t.Logf("first launch: the node filled its copy of the image while QEMU read it over NBD (lazy=true): %s", l)
			}
		}
	}
	checkDatasource(t, ssh)
	checkUserData(t, ssh, token, bootID)
	checkHostname(t, ssh, inst)
	checkNames(t, ssh, inst)
	checkReboot(t, d, ssh, id, bootID, token)

	if _, err := d.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
}

// importImage uploads the qcow2 to a bucket and imports it as an AMI.
func importImage(t *testing.T, d *dev, img debiantest.Image) string {
	t.Helper()
	ctx := context.Background()
	bucket, key := "debian-images", "debian-12.qcow2"
	if _, err := d.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(img.Disk)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	if _, err := d.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: f}); err != nil {
		t.Fatalf("upload the image: %v", err)
	}
	t.Logf("uploaded %s in %v", img.Disk, time.Since(start).Round(time.Millisecond))
	task, err := d.EC2.ImportImage(ctx, &ec2.ImportImageInput{Description: aws.String("Debian 12 from images/debian"),
		DiskContainers: []types.ImageDiskContainer{{Format: aws.String(img.Format),
			UserBucket: &types.UserBucket{S3Bucket: aws.String(bucket), S3Key: aws.String(key)}}}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(importTimeout)
	for {
		out, err := d.EC2.DescribeImportImageTasks(ctx, &ec2.DescribeImportImageTasksInput{ImportTaskIds: []string{*task.ImportTaskId}})
		if err != nil {
			t.Fatal(err)
		}
		it := out.ImportImageTasks[0]
		switch status := aws.ToString(it.Status); {
		case status == "completed" && it.ImageId != nil:
			t.Logf("imported as %s in %v", *it.ImageId, time.Since(start).Round(time.Second))
			waitImageAvailable(t, d.EC2, *it.ImageId)
			return *it.ImageId
		case status != "active":
			t.Fatalf("import ended %s: %s", status, aws.ToString(it.StatusMessage))
		case time.Now().After(deadline):
			t.Fatalf("import still %s after %v", aws.ToString(it.StatusMessage), importTimeout)
		}
		time.Sleep(time.Second)
	}
}

func waitImageAvailable(t *testing.T, c *ec2.Client, id string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
		if err == nil && len(out.Images) == 1 && out.Images[0].State == types.ImageStateAvailable {
			return
		}
	}
	t.Fatalf("image %s is not available", id)
}

// createKey makes a key pair and saves its private key as ssh wants it.
func createKey(t *testing.T, d *dev, name string) string {
	t.Helper()
	k, err := d.EC2.CreateKeyPair(context.Background(), &ec2.CreateKeyPairInput{KeyName: aws.String(name), KeyType: types.KeyTypeEd25519})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".pem")
	if err := os.WriteFile(path, []byte(aws.ToString(k.KeyMaterial)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// allowSSH opens tcp/22 in the default VPC's default security group.
func allowSSH(t *testing.T, d *dev) {
	t.Helper()
	ctx := context.Background()
	sgs, err := d.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil || len(sgs.SecurityGroups) != 1 {
		t.Fatalf("default security group: %+v %v", sgs, err)
	}
	_, err = d.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sgs.SecurityGroups[0].GroupId,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	if err != nil {
		t.Fatal(err)
	}
}

func describe(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances %s: %+v %v", id, out, err)
	}
	return out.Reservations[0].Instances[0]
}

func waitRunning(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		inst := describe(t, c, id)
		switch {
		case inst.State.Name == types.InstanceStateNameRunning:
			return inst
		case inst.State.Name != types.InstanceStateNamePending || time.Now().After(deadline):
			t.Fatalf("%s: %s (%s)", id, inst.State.Name, aws.ToString(inst.StateTransitionReason))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func consoleTail(c *ec2.Client, id string) string {
	out, err := c.GetConsoleOutput(context.Background(), &ec2.GetConsoleOutputInput{InstanceId: aws.String(id), Latest: aws.Bool(true)})
	if err != nil {
		return err.Error()
	}
	b, _ := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	return string(b[max(0, len(b)-12000):])
}

// checkDatasource: cloud-init found EC2 (from SMBIOS) and used it without errors.
func checkDatasource(t *testing.T, ssh sshClient) {
	t.Helper()
	raw := ssh.must(t, "cat /run/cloud-init/result.json")
	var r struct {
		V1 struct {
			Datasource string   `json:"datasource"`
			Errors     []string `json:"errors"`
		} `json:"v1"`
	}
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatalf("cloud-init's result.json: %v: %s", err, raw)
	}
	if !strings.HasPrefix(r.V1.Datasource, "DataSourceEc2") || len(r.V1.Errors) > 0 {
		t.Fatalf("cloud-init's result: datasource %q, errors %q", r.V1.Datasource, r.V1.Errors)
	}
}

// checkUserData: both modules ran, runcmd in the first boot.
func checkUserData(t *testing.T, ssh sshClient, token, bootID string) {
	t.Helper()
	if got := ssh.must(t, "cat /var/tmp/kumo-write-files"); strings.TrimSpace(got) != "write_files "+token {
		t.Fatalf("write_files wrote %q, want %q", got, "write_files "+token)
	}
	if got := ssh.must(t, "cat /var/tmp/kumo-runcmd"); strings.TrimSpace(got) != "runcmd "+token+" "+bootID {
		t.Fatalf("runcmd wrote %q, want %q", got, "runcmd "+token+" "+bootID)
	}
}

// imdsCmd reads a metadata path in the guest with IMDSv2, as cloud-init does.
func imdsCmd(path string) string {
	return `t=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token) && ` +
		`curl -sf -H "X-aws-ec2-metadata-token: $t" http://169.254.169.254/latest/meta-data/` + path
}

// checkHostname: the guest's hostname is the metadata's local-hostname
// (its first label: cloud-init sets the short name, and the FQDN in /etc/hosts).
func checkHostname(t *testing.T, ssh sshClient, inst types.Instance) {
	t.Helper()
	local := strings.TrimSpace(ssh.must(t, imdsCmd("local-hostname")))
	host := strings.TrimSpace(ssh.must(t, "hostname"))
	if local == "" || host != strings.Split(local, ".")[0] {
		t.Fatalf("hostname %q, metadata local-hostname %q", host, local)
	}
	if ip := strings.TrimSpace(ssh.must(t, imdsCmd("local-ipv4"))); ip != aws.ToString(inst.PrivateIpAddress) {
		t.Fatalf("metadata local-ipv4 %q, DescribeInstances %q", ip, aws.ToString(inst.PrivateIpAddress))
	}
}

// checkNames: the guest resolves its own private name through the VPC
// resolver (AmazonProvidedDNS) that DHCP hands out.
func checkNames(t *testing.T, ssh sshClient, inst types.Instance) {
	t.Helper()
	servers := strings.TrimSpace(ssh.must(t, "resolvectl dns 2>/dev/null | awk -F: '{print $2}' | xargs; true"))
	if servers == "" {
		t.Fatalf("DHCP gave the guest no DNS server (resolvectl dns is empty)")
	}
	name := aws.ToString(inst.PrivateDnsName)
	out := ssh.must(t, "getent hosts "+name+"; true")
	if !strings.Contains(out, aws.ToString(inst.PrivateIpAddress)) {
		t.Fatalf("getent hosts %s via %s: %q, want %s", name, servers, out, aws.ToString(inst.PrivateIpAddress))
	}
}

// checkReboot: RebootInstances brings the guest back with SSH, a new boot,
// and the per-instance user data not run again.
func checkReboot(t *testing.T, d *dev, ssh sshClient, id, bootID, token string) {
	t.Helper()
	start := time.Now()
	if _, err := d.EC2.RebootInstances(context.Background(), &ec2.RebootInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	var now string
	for deadline := time.Now().Add(bootTimeout); ; {
		now = strings.TrimSpace(ssh.wait(t, "cat /proc/sys/kernel/random/boot_id", time.Until(deadline)))
		if now != bootID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still the same boot %v after RebootInstances", id, bootTimeout)
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("%s: SSH again %v after RebootInstances", id, time.Since(start).Round(time.Second))
	if got := strings.TrimSpace(ssh.must(t, "cat /var/tmp/kumo-runcmd")); got != "runcmd "+token+" "+bootID {
		t.Fatalf("after the reboot runcmd's file holds %q: user data ran again", got)
	}
	// A clean reboot stops systemd and the journal before the reset; the
	// journal is persistent in Debian 12, so the previous boot's ends with it.
	last := ssh.must(t, "sudo journalctl -b -1 -n 50 --no-pager 2>&1; true")
	if !strings.Contains(last, "Journal stopped") && !strings.Contains(last, "reboot.target") {
		t.Fatalf("the previous boot's journal does not end in a clean shutdown (RebootInstances must ask the guest to reboot):\n%s", last)
	}
}
