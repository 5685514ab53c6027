package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/qemuimg"
)

// demoImage builds (or finds) the demo image, or skips the benchmark.
func demoImage(b *testing.B) string { return demotest.Require(b) }

// BenchmarkBootBareQEMU boots the demo image with a hand-written
// qemu-system-x86_64 command line carrying the settings Kumo's driver uses
// for a t3.micro (q35, the same accelerator, 2 vCPUs, 1 GiB, direct kernel
// boot, a qcow2 overlay root on virtio-blk, one virtio-net NIC, serial to a
// file) and reports the seconds from exec to the guest's "booted" marker
// (kernel up, init running) and to its "network" marker (DHCP lease: QEMU's
// user-mode network answers here, the node agent in Kumo). Compare with
// BenchmarkRunInstances.
func BenchmarkBootBareQEMU(b *testing.B) {
	img := demoImage(b)
	accel := qemu.Driver{}.Accel()
	var booted, network time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		root := filepath.Join(dir, "root.qcow2")
		if err := (qemuimg.Tool{}).Create(context.Background(), root, "qcow2", 0, filepath.Join(img, "root.img"), "raw"); err != nil {
			b.Fatal(err)
		}
		log := filepath.Join(dir, "console.log")
		args := []string{"-machine", "q35", "-accel", string(accel), "-smp", "2", "-m", "1024",
			"-nodefaults", "-no-user-config", "-display", "none",
			"-chardev", "file,id=console,path=" + log, "-serial", "chardev:console",
			"-kernel", filepath.Join(img, "vmlinuz"), "-initrd", filepath.Join(img, "initrd.img"), "-append", "console=ttyS0 kumo.imds_wait=1",
			"-drive", "file=" + root + ",if=none,id=root,format=qcow2", "-device", "virtio-blk-pci,drive=root",
			"-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0,mac=02:00:0a:00:00:05"}
		if accel == qemu.AccelKVM {
			args = append(args, "-cpu", "host")
		}
		start := time.Now()
		cmd := exec.Command("qemu-system-x86_64", args...)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		booted += waitMarker(b, log, demotest.Booted, start)
		network += waitMarker(b, log, demotest.Network, start)
		cmd.Process.Kill()
		cmd.Wait()
	}
	b.ReportMetric(booted.Seconds()/float64(b.N), "s-to-booted")
	b.ReportMetric(network.Seconds()/float64(b.N), "s-to-network")
}

// waitMarker polls a console log until it holds a marker of event and
// returns the time since start.
func waitMarker(b *testing.B, log, event string, start time.Time) time.Duration {
	b.Helper()
	for time.Since(start) < 3*time.Minute {
		data, _ := os.ReadFile(log)
		if bytes.Contains(data, []byte(demotest.Prefix+event)) {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	data, _ := os.ReadFile(log)
	b.Fatalf("no %q marker within 3 minutes; console:\n%s", event, data)
	return 0
}
