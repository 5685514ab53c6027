package node

// The full path on a real host, as root: guestnet makes the VPC namespace,
// the subnet bridge and the tap; the agent serves DHCP on the bridge and
// the metadata service in the namespace; the demo guest gets its lease,
// reads its instance id over IMDSv2 and runs its user data.

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// demoNetworkGuest prepares a real-network boot of the demo guest, as
// root: a guest network manager of its own prefix, the demo's spec on
// subnet 10.9.1.0/24 with the given user data, and the agent's data
// directory; the namespace and any guest left running go with the test
// (the console is logged when it fails).
func demoNetworkGuest(t *testing.T, userData string) (img string, mgr *guestnet.Manager, spec nodeapi.InstanceSpec, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces and taps")
	}
	img = demoImage(t)
	var b [4]byte
	rand.Read(b[:])
	prefix := fmt.Sprintf("kt%x", b)
	mgr, err := guestnet.New(guestnet.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	// An agent on this manager puts its host forwarding table in this
	// namespace: leave none of the test's behind on the machine.
	t.Cleanup(func() { exec.Command("nft", "delete", "table", "inet", guestnet.PublicTableName()+"_"+prefix).Run() })
	spec = demoSpec()
	spec.PublicKey = ""
	spec.UserData = []byte(userData)
	spec.Network = nodeapi.NetworkInterface{InterfaceID: "eni-0123456789abcdef0", MAC: "02:00:0a:09:01:05", PrivateIP: "10.9.1.5",
		SubnetID: "subnet-0123456789abcdef0", SubnetCIDR: "10.9.1.0/24", Gateway: "10.9.1.1",
		VPCID: "vpc-0123456789abcdef0", VPCCIDR: "10.9.0.0/16"}
	t.Cleanup(func() { mgr.DeleteVPC(context.Background(), spec.Network.VPCID) })

	dir = t.TempDir()
	instDir := filepath.Join(dir, "instances", testID)
	t.Cleanup(func() {
		if g, err := (qemu.Driver{}).Attach(context.Background(), instDir); err == nil {
			g.Stop(context.Background(), true)
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(instDir, consoleFile))
			t.Logf("console:\n%s", b)
		}
	})
	return img, mgr, spec, dir
}

func TestBootDemoNetwork(t *testing.T) {
	img, mgr, spec, dir := demoNetworkGuest(t, "#!/bin/sh\necho \"hello from $(kumo-imds meta-data/local-ipv4)\"\n")
	srv := newFakeServer()
	runAgent(t, Config{DataDir: dir, Zone: "kumo-1a", Driver: QEMU{}, Network: GuestNet{mgr},
		Objects: demoObjects(t, img), Connector: srv, PollInterval: 200 * time.Millisecond})
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	waitBoots(t, srv, 1, demotest.Ready)
	zero := 0
	err := demotest.Verify(srv.console(testID), demotest.Expect{
		InstanceID: testID, IMDS: "v2", PublicKey: "none", RootDisk: "none",
		UserDataOutput: []string{"hello from 10.9.1.5"}, UserDataExit: &zero,
	})
	if err != nil {
		t.Fatal(err)
	}
	net, _ := demotest.Find(demotest.Parse(srv.console(testID)), demotest.Network)
	if net.Arg(1) != "10.9.1.5" || net.Fields["prefix"] != "24" || net.Fields["router"] != "10.9.1.1" {
		t.Errorf("lease: %s", net.Text)
	}

	spec.Power = nodeapi.PowerTerminated
	srv.push(spec)
	srv.waitFor(t, testID, nodeapi.ObservedDeleted, 30*time.Second)
	waitUntil(t, "the VPC namespace deleted", func() bool { vpcs, err := mgr.VPCs(); return err == nil && len(vpcs) == 0 })
}
