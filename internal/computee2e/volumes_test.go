package computee2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// writeVolumeScript is user data that waits for the disk whose serial is
// serial (a volume id without its dash), writes a random first MiB on it
// (synced, the page cache dropped) and prints that MiB's SHA-256 as
// "KUMO-WROTE: SUM": what another guest must read back after the volume
// moved.
func writeVolumeScript(serial string) *string {
	s := fmt.Sprintf(`#!/bin/sh
( while :; do
    for d in /sys/block/vd*; do
      [ "$(cat $d/serial 2>/dev/null)" = %q ] || continue
      n=${d##*/}
      dd if=/dev/urandom of=/dev/$n bs=1048576 count=1 conv=fsync 2>/dev/null
      echo 1 >/proc/sys/vm/drop_caches
      echo "KUMO-WROTE: $(dd if=/dev/$n bs=1048576 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)"
      exit 0
    done
    sleep 0.2
  done ) </dev/null >/dev/console 2>&1 &
`, serial)
	return aws.String(base64.StdEncoding.EncodeToString([]byte(s)))
}

// nodeOf tells which of the data directories holds the QEMU of instance id.
func nodeOf(t *testing.T, id string, dataDirs ...string) string {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte("qemu-system")) || !bytes.Contains(b, []byte("guest="+id)) {
			continue
		}
		for _, d := range dataDirs {
			if bytes.Contains(b, []byte(d+"/")) {
				return d
			}
		}
	}
	t.Fatalf("no QEMU of %s under %v", id, dataDirs)
	return ""
}

func volume(t *testing.T, c *ec2.Client, id string) types.Volume {
	t.Helper()
	out, err := c.DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil || len(out.Volumes) != 1 {
		t.Fatalf("DescribeVolumes %s: %+v %v", id, out, err)
	}
	return out.Volumes[0]
}

// waitVolume polls DescribeVolumes until ok accepts the volume.
func waitVolume(t *testing.T, c *ec2.Client, id, what string, timeout time.Duration, ok func(types.Volume) bool) types.Volume {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var v types.Volume
	for time.Now().Before(deadline) {
		if v = volume(t, c, id); ok(v) {
			return v
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not %s after %v: state %s, attachments %+v", id, what, timeout, v.State, v.Attachments)
	return v
}

func attachedTo(instance string) func(types.Volume) bool {
	return func(v types.Volume) bool {
		return v.State == types.VolumeStateInUse && len(v.Attachments) == 1 &&
			aws.ToString(v.Attachments[0].InstanceId) == instance && v.Attachments[0].State == types.VolumeAttachmentStateAttached
	}
}

func available(v types.Volume) bool {
	return v.State == types.VolumeStateAvailable && len(v.Attachments) == 0
}

// TestVolumeLife walks an EBS volume through its life with real processes:
// a kumo server and two kumo nodes of one zone on two fake hosts, real
// demo guests under QEMU. A volume is created, attached, seen by the guest
// at its exact size and serial, written, grown while attached, detached,
// attached to a guest on the other node (its data moved there) and read
// back; a delete-on-termination volume of RunInstances goes with its
// instance; another account does not see the volume.
func TestVolumeLife(t *testing.T) {
	start := time.Now()
	step := func(what string, since time.Time) time.Time {
		t.Logf("%-56s %v", what, time.Since(since).Round(100*time.Millisecond))
		return time.Now()
	}
	c := newServer(t)
	at := step("server up (kumo built)", start)
	hosts, underlay := fakeHosts(t, c.prefix, 2)
	dir := filepath.Dir(c.nodeDir)
	n1, n2 := filepath.Join(dir, "n1"), filepath.Join(dir, "n2")
	// The agents run in this namespace (their storage daemons too), so
	// their NBD exports are on loopback. Node 1 fits one t3.nano and node
	// 2 joins once it holds the first instance: the second must go to node 2.
	c.startHostNode("host1-"+c.prefix, region+"a", hosts[0], underlay[0], n1, c.prefix+"a",
		"--volume-export-addr", freePort(t), "--memory-mib", "512")
	c.waitNodeReady(1)
	a, b := c.account("team-a"), c.account("team-b")
	ami := demoImageID(t, a)
	ctx := context.Background()
	at = step("node 1 joined", at)

	vol, err := a.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(10),
		VolumeType: types.VolumeTypeGp3, TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("data")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(vol.VolumeId)
	serial := strings.ReplaceAll(id, "-", "")
	if !regexp.MustCompile(`^vol[0-9a-f]{17}$`).MatchString(serial) {
		t.Fatalf("volume id %s", id)
	}
	v := waitVolume(t, a, id, "available", 30*time.Second, available)
	if len(v.Tags) != 1 || aws.ToString(v.Tags[0].Value) != "data" || v.VolumeType != types.VolumeTypeGp3 || aws.ToInt32(v.Size) != 10 {
		t.Errorf("created volume: %+v", v)
	}
	at = step("create-volume → available", at)

	first := runIn(t, a, ami, region+"a", writeVolumeScript(serial))
	waitState(t, a, first, types.InstanceStateNameRunning, 2*time.Minute)
	waitConsole(t, a, first, 3*time.Minute, "ready", func(s string) bool { return strings.Contains(s, "KUMO-DEMO: ready") })
	if home := nodeOf(t, first, n1, n2); home != n1 {
		t.Fatalf("%s runs on %s, want %s", first, home, n1)
	}
	c.startHostNode("host2-"+c.prefix, region+"a", hosts[1], underlay[1], n2, c.prefix+"b", "--volume-export-addr", freePort(t))
	c.waitNodeReady(2)
	at = step("run-instances → running, guest ready", at)

	if _, err := a.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: &id, InstanceId: &first, Device: aws.String("/dev/sdf")}); err != nil {
		t.Fatal(err)
	}
	v = waitVolume(t, a, id, "attached", time.Minute, attachedTo(first))
	if d := aws.ToString(v.Attachments[0].Device); d != "/dev/sdf" {
		t.Errorf("attachment device %q", d)
	}
	diskRE := regexp.MustCompile(`KUMO-DEMO: disk (vd[a-z]+) size=10737418240 serial=` + serial)
	out := waitConsole(t, a, first, time.Minute, "the 10 GiB disk", diskRE.MatchString)
	disk := diskRE.FindStringSubmatch(out)[1]
	wroteRE := regexp.MustCompile(`KUMO-WROTE: ([0-9a-f]{64})`)
	out = waitConsole(t, a, first, time.Minute, "the written MiB", wroteRE.MatchString)
	sum := wroteRE.FindStringSubmatch(out)[1]
	at = step("attach-volume → attached, guest sees 10 GiB", at)

	if _, err := a.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &id, Size: aws.Int32(20)}); err != nil {
		t.Fatal(err)
	}
	waitConsole(t, a, first, time.Minute, "the grown disk", func(s string) bool {
		return strings.Contains(s, "KUMO-DEMO: disk-resized "+disk+" size=21474836480")
	})
	if v = volume(t, a, id); aws.ToInt32(v.Size) != 20 || !attachedTo(first)(v) {
		t.Errorf("after modify-volume: size %d, %+v", aws.ToInt32(v.Size), v.Attachments)
	}
	at = step("modify-volume --size 20 → guest sees 20 GiB", at)

	if _, err := a.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: &id}); err != nil {
		t.Fatal(err)
	}
	waitVolume(t, a, id, "available", time.Minute, available)
	waitConsole(t, a, first, 30*time.Second, "the disk going", func(s string) bool { return strings.Contains(s, "KUMO-DEMO: disk-removed "+disk) })
	at = step("detach-volume → available", at)

	// The second instance: on the other node (the first is full), with a
	// delete-on-termination volume of its own.
	second := *run(t, a, &ec2.RunInstancesInput{ImageId: &ami, InstanceType: types.InstanceTypeT3Nano, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		Placement: &types.Placement{AvailabilityZone: aws.String(region + "a")},
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdf"),
			Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(5), DeleteOnTermination: aws.Bool(true)}}}}).InstanceId
	inst := waitState(t, a, second, types.InstanceStateNameRunning, 2*time.Minute)
	if other := nodeOf(t, second, n1, n2); other != n2 {
		t.Fatalf("%s runs on %s, want %s", second, other, n2)
	}
	var dot string
	for _, m := range inst.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == "/dev/sdf" && m.Ebs != nil {
			dot = aws.ToString(m.Ebs.VolumeId)
		}
	}
	if dot == "" {
		t.Fatalf("no /dev/sdf in %+v", inst.BlockDeviceMappings)
	}
	waitConsole(t, a, second, 3*time.Minute, "ready and the 5 GiB volume", func(s string) bool {
		return strings.Contains(s, "KUMO-DEMO: ready") &&
			strings.Contains(s, "size=5368709120 serial="+strings.ReplaceAll(dot, "-", ""))
	})
	at = step("run-instances with a 5 GiB DeleteOnTermination volume", at)

	if _, err := a.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: &id, InstanceId: &second, Device: aws.String("/dev/sdg")}); err != nil {
		t.Fatal(err)
	}
	waitVolume(t, a, id, "attached on the other node", 2*time.Minute, attachedTo(second))
	dataRE := regexp.MustCompile(`KUMO-DEMO: disk-data (vd[a-z]+) sha256=([0-9a-f]{64})`)
	out = waitConsole(t, a, second, time.Minute, "the moved volume's data", func(s string) bool {
		return strings.Contains(s, "size=21474836480 serial="+serial) && dataRE.MatchString(s[strings.Index(s, "serial="+serial):])
	})
	if got := dataRE.FindStringSubmatch(out[strings.Index(out, "serial="+serial):])[2]; got != sum {
		t.Errorf("the other node's guest reads sha256 %s, the first wrote %s", got, sum)
	}
	at = step("attach on the other node → same data", at)

	_, err = b.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	wantAPIError(t, err, "InvalidVolume.NotFound")
	_, err = b.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: &id, InstanceId: &second, Device: aws.String("/dev/sdh")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || !strings.HasPrefix(ae.ErrorCode(), "Invalid") || !strings.HasSuffix(ae.ErrorCode(), ".NotFound") {
		t.Errorf("another account's attach: %v", err)
	}

	if _, err := a.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{second, first}}); err != nil {
		t.Fatal(err)
	}
	waitState(t, a, second, types.InstanceStateNameTerminated, 2*time.Minute)
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := a.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{dot}})
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidVolume.NotFound" {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("delete-on-termination volume %s after terminate: %+v", dot, out.Volumes)
		}
		time.Sleep(200 * time.Millisecond)
	}
	waitVolume(t, a, id, "available after its instance ended", time.Minute, available)
	if _, err := a.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: &id}); err != nil {
		t.Fatal(err)
	}
	step("terminate → DeleteOnTermination volume gone", at)
	step("total", start)
}
