package node

// EBS volumes through two real agents ("nodes" A and B, each with its
// own data directory and fake server) and real demo guests under TCG: a
// 10 GiB volume attached to A's running guest is seen at exactly its size
// with its serial; the guest writes a pattern; it grows online to 20 GiB;
// it is detached and exported over NBD by A's storage daemon; B copies
// it and its new guest reads the same pattern at boot; A deletes its
// copy; B's agent restarts without plugging it twice.

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/volume/nbdexport"
)

const testVol = "vol-0123456789abcdef2"

type volNode struct {
	dir string
	srv *fakeServer
	cfg Config
}

func newVolNode(t *testing.T, img, cmdline string) *volNode {
	t.Helper()
	n := &volNode{dir: t.TempDir(), srv: newFakeServer()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	n.cfg = Config{DataDir: n.dir, Zone: "kumo-1a", Driver: QEMU{Driver: qemu.Driver{StopTimeout: 30 * time.Second}},
		Objects: demoObjects(t, img), Connector: n.srv, VolumeExportAddr: addr,
		Cmdline: "console=ttyS0 kumo.imds_wait=1 kumo.net_wait=1" + cmdline, PollInterval: 200 * time.Millisecond}
	instDir := filepath.Join(n.dir, "instances", testID)
	t.Cleanup(func() {
		if g, err := (qemu.Driver{}).Attach(context.Background(), instDir); err == nil {
			g.Stop(context.Background(), true)
		}
		(&nbdexport.Daemon{Dir: filepath.Join(n.dir, "qsd")}).Stop(context.Background())
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(instDir, consoleFile))
			t.Logf("console of %s:\n%s", n.dir, b)
		}
	})
	return n
}

func (n *volNode) push(d nodeapi.Desired) { n.srv.desired <- &d }

// waitReport waits until the last report satisfies ok.
func (n *volNode) waitReport(t *testing.T, what string, ok func(*nodeapi.Report) bool) *nodeapi.Report {
	t.Helper()
	var r *nodeapi.Report
	waitFor(t, what, 90*time.Second, func() bool {
		r = n.srv.last()
		return r != nil && ok(r)
	})
	return r
}

func attachmentOf(r *nodeapi.Report) nodeapi.VolumeAttachmentStatus {
	for _, st := range r.Instances {
		for _, v := range st.Volumes {
			if v.VolumeID == testVol {
				return v
			}
		}
	}
	return nodeapi.VolumeAttachmentStatus{}
}

func volumeOf(r *nodeapi.Report) (nodeapi.VolumeStatus, bool) {
	i := slices.IndexFunc(r.Volumes, func(v nodeapi.VolumeStatus) bool { return v.VolumeID == testVol })
	if i < 0 {
		return nodeapi.VolumeStatus{}, false
	}
	return r.Volumes[i], true
}

func attachedWith(state string, size int64) func(*nodeapi.Report) bool {
	return func(r *nodeapi.Report) bool {
		a := attachmentOf(r)
		return a.State == state && (size == 0 || a.SizeBytes == size)
	}
}

// consoleMarker waits for a marker of event on the console the node sent
// that satisfies ok.
func consoleMarker(t *testing.T, srv *fakeServer, event string, ok func(demotest.Marker) bool) demotest.Marker {
	t.Helper()
	var found demotest.Marker
	waitFor(t, "console marker "+event, 60*time.Second, func() bool {
		for _, m := range demotest.Parse(srv.console(testID)) {
			if m.Event == event && ok(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

func TestVolumesTwoNodes(t *testing.T) {
	img := demoImage(t)
	a := newVolNode(t, img, " kumo.disk_fill")
	b := newVolNode(t, img, "")
	runAgent(t, a.cfg)
	stopB := runAgent(t, b.cfg)

	spec := demoSpec()
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}})
	a.srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	waitBoots(t, a.srv, 1, demotest.Ready)

	// Attach to the running guest.
	vd := nodeapi.VolumeData{VolumeID: testVol, SizeBytes: 10 << 30, Backend: nodeapi.VolumeBackendLocal, IOPS: 3000, ThroughputMiB: 125}
	spec.Volumes = []nodeapi.VolumeAttachment{{VolumeData: vd, Device: "/dev/sdf"}}
	at := time.Now()
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}})
	a.waitReport(t, "attached", attachedWith(nodeapi.AttachAttached, 10<<30))
	disk := consoleMarker(t, a.srv, demotest.Disk, func(m demotest.Marker) bool { return m.Fields["serial"] == "vol0123456789abcdef2" })
	t.Logf("attach → guest saw the disk: %v", time.Since(at).Round(time.Millisecond))
	if disk.Fields["size"] != "10737418240" {
		t.Fatalf("guest sees %q, want size=10737418240", disk.Text)
	}
	written := consoleMarker(t, a.srv, demotest.DiskData, func(m demotest.Marker) bool { return m.Fields["written"] == "1" })

	// Grow online.
	spec.Volumes = slices.Clone(spec.Volumes) // the pushed spec shares the array
	spec.Volumes[0].SizeBytes = 20 << 30
	at = time.Now()
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}})
	a.waitReport(t, "grown", attachedWith(nodeapi.AttachAttached, 20<<30))
	consoleMarker(t, a.srv, demotest.DiskResized, func(m demotest.Marker) bool { return m.Fields["size"] == "21474836480" })
	t.Logf("grow → guest saw 20 GiB: %v", time.Since(at).Round(time.Millisecond))

	// Detach, then export.
	spec.Volumes = slices.Clone(spec.Volumes) // the pushed spec shares the array
	spec.Volumes[0].Detach = true
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}})
	a.waitReport(t, "detached", attachedWith(nodeapi.AttachDetached, 0))
	consoleMarker(t, a.srv, demotest.DiskRemoved, func(demotest.Marker) bool { return true })
	vd.SizeBytes = 20 << 30
	spec.Volumes = nil
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}, Volumes: []nodeapi.VolumeSpec{{VolumeData: vd, Export: true}}})
	r := a.waitReport(t, "exported", func(r *nodeapi.Report) bool { v, _ := volumeOf(r); return v.Export != "" })
	exp, _ := volumeOf(r)
	if exp.SizeBytes != 20<<30 || exp.Export != "nbd://"+a.cfg.VolumeExportAddr+"/"+testVol {
		t.Fatalf("A reports %+v", exp)
	}

	// B copies it and boots a guest with it.
	specB := demoSpec()
	vdB := vd
	vdB.Source = exp.Export
	specB.Volumes = []nodeapi.VolumeAttachment{{VolumeData: vdB, Device: "/dev/sdf"}}
	at = time.Now()
	b.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{specB}})
	b.waitReport(t, "attached on B", attachedWith(nodeapi.AttachAttached, 20<<30))
	t.Logf("copy over NBD and attach on B: %v", time.Since(at).Round(time.Millisecond))
	read := consoleMarker(t, b.srv, demotest.DiskData, func(demotest.Marker) bool { return true })
	if read.Fields["sha256"] != written.Fields["sha256"] {
		t.Fatalf("B's guest read %q; A's guest wrote %q", read.Text, written.Text)
	}
	b.waitReport(t, "B holds the volume", func(r *nodeapi.Report) bool { v, _ := volumeOf(r); return v.SizeBytes == 20<<30 })

	// A deletes its copy.
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}, Volumes: []nodeapi.VolumeSpec{{VolumeData: vd, Delete: true}}})
	a.waitReport(t, "deleted on A", func(r *nodeapi.Report) bool { v, _ := volumeOf(r); return v.Deleted })
	if _, err := os.Stat(filepath.Join(a.dir, "volumes", testVol+".qcow2")); !os.IsNotExist(err) {
		t.Fatalf("A's copy after delete: %v", err)
	}

	// B's agent restarts: the volume is found plugged, not plugged again.
	stopB()
	disks := strings.Count(string(b.srv.console(testID)), "serial=vol0123456789abcdef2")
	b.srv = newFakeServer()
	b.cfg.Connector = b.srv
	runAgent(t, b.cfg)
	b.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{specB}})
	b.waitReport(t, "attached on B after restart", attachedWith(nodeapi.AttachAttached, 20<<30))
	time.Sleep(2 * time.Second)
	if n := strings.Count(string(b.srv.console(testID)), "serial=vol0123456789abcdef2"); n != disks {
		t.Fatalf("the guest saw the volume %d times after the agent restart, %d before", n, disks)
	}

	specB.Power = nodeapi.PowerTerminated
	b.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{specB}})
	b.waitReport(t, "terminated", attachedWith(nodeapi.AttachDetached, 0))
}
