package nodeserver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestDesiredCarriesAFullSpec(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		f := seedInstance(t, h.db, c.NodeID())
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			o := store.DHCPOptions{ID: "dopt-00000000000000001", AccountID: f.account, CreatedAt: time.Now(), Configurations: []store.DHCPConfiguration{
				{Key: "domain-name", Values: []string{"corp.example"}},
				{Key: "domain-name-servers", Values: []string{"10.9.9.9", "AmazonProvidedDNS"}}}}
			if err := tx.InsertDHCPOptions(ctx, o); err != nil {
				return err
			}
			return tx.SetVPCDHCPOptions(ctx, f.vpc, o.ID)
		})
		s, err := c.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		d := recvDesired(t, s, 5*time.Second)
		if d.NodeID != c.NodeID() || d.Draining || len(d.Instances) != 1 {
			t.Fatalf("desired %+v", d)
		}
		sp := d.Instances[0]
		if n := sp.Network; n.DomainName != "corp.example" || len(n.DNS) != 1 || n.DNS[0] != "10.9.9.9" {
			t.Errorf("DHCP options in the spec: domain %q, DNS %v; want corp.example, [10.9.9.9] (AmazonProvidedDNS left out: the VPC's enableDnsSupport is off)", n.DomainName, n.DNS)
		}
		want := nodeapi.NetworkInterface{InterfaceID: f.eni, MAC: "02:ab:cd:00:00:01", PrivateIP: "10.0.1.10", SubnetID: f.subnet,
			SubnetCIDR: "10.0.1.0/24", Gateway: "10.0.1.1", VPCID: f.vpc, VPCCIDR: "10.0.0.0/16"}
		if sp.Network.InterfaceID != want.InterfaceID || sp.Network.MAC != want.MAC || sp.Network.PrivateIP != want.PrivateIP ||
			sp.Network.SubnetCIDR != want.SubnetCIDR || sp.Network.Gateway != want.Gateway || sp.Network.VPCID != want.VPCID ||
			sp.Network.VPCCIDR != want.VPCCIDR || sp.Network.SubnetID != want.SubnetID {
			t.Errorf("network %+v, want %+v", sp.Network, want)
		}
		if sp.ID != f.instance || sp.AccountID != f.account || sp.Power != nodeapi.PowerRunning || sp.VCPUs != 2 || sp.MemoryMiB != 1024 ||
			sp.KernelID != f.kernel || sp.KernelKey != f.kernelKey || sp.RamdiskID != f.ramdisk || sp.RamdiskKey != f.ramdiskKey ||
			sp.RootSnapshotID != "snap-00000000000000001" || sp.RootSizeGiB != 8 || sp.RootDeviceName != "/dev/xvda" ||
			sp.Region != "kumo-1" || sp.AvailabilityZone != "kumo-1a" || sp.KeyName != "k1" || sp.PublicKey != f.publicKey ||
			string(sp.UserData) != userData || sp.SMBIOSUUID == "" || sp.InstanceType != "t3.micro" || sp.LaunchTime.IsZero() {
			t.Errorf("spec %+v", sp)
		}
		if len(sp.SecurityGroups) != 1 || sp.SecurityGroups[0] != "web" || len(sp.SecurityGroupIDs) != 1 || sp.SecurityGroupIDs[0] != f.sg {
			t.Errorf("security groups %v %v", sp.SecurityGroups, sp.SecurityGroupIDs)
		}
	})
}

func TestReportsDriveInstanceState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		f := seedInstance(t, h.db, c.NodeID())
		s, err := c.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		recvDesired(t, s, 5*time.Second)
		report := func(st nodeapi.InstanceStatus) *nodeapi.Desired {
			t.Helper()
			if err := s.Send(&nodeapi.Report{Node: nodeInfo("host-1"), Instances: []nodeapi.InstanceStatus{st,
				{ID: "i-0000000000000dead", State: nodeapi.ObservedRunning}}}); err != nil {
				t.Fatal(err)
			}
			return recvDesired(t, s, 3*time.Second) // a change sends a fresh Desired at once
		}
		console := []byte("Linux version 6.1\nhello from user data\n")
		report(nodeapi.InstanceStatus{ID: f.instance, State: nodeapi.ObservedRunning, BootedAt: time.Now(), Console: console})
		n := h.nodes(t)[0]
		if n.Zone != "kumo-1a" || n.VCPUs != 8 || n.MemoryMiB != 16384 || n.DiskGiB != 200 || n.Address != "192.0.2.10" ||
			n.Version != "test" || !n.LastSeen.Equal(h.clock.Now()) || n.Accel != "tcg" || n.AccelReason != nodeInfo("").AccelReason {
			t.Fatalf("node row after report: %+v", n)
		}
		i := h.instance(t, f.account, f.instance)
		got, _ := base64.StdEncoding.DecodeString(i.ConsoleOutput)
		if i.State != "running" || i.ObservedState != "running" || !bytes.Equal(got, console) || i.ConsoleAt.IsZero() {
			t.Fatalf("after running report: state %s observed %s console %q", i.State, i.ObservedState, got)
		}

		// The guest powers itself off; shutdown behavior stop → stopping, then stopped.
		report(nodeapi.InstanceStatus{ID: f.instance, State: nodeapi.ObservedShutdown})
		i = h.instance(t, f.account, f.instance)
		if i.State != "stopping" || i.StateReasonCode != "Client.InstanceInitiatedShutdown" || i.StateTransitionReason == "" {
			t.Fatalf("after shutdown: %s %q %q", i.State, i.StateReasonCode, i.StateTransitionReason)
		}
		if i.DesiredPower != "stopped" {
			t.Fatalf("a guest that powered itself off (behavior stop) is to stay off: desired %s", i.DesiredPower)
		}
		report(nodeapi.InstanceStatus{ID: f.instance, State: nodeapi.ObservedStopped})
		if i = h.instance(t, f.account, f.instance); i.State != "stopped" {
			t.Fatalf("after stopped: %s", i.State)
		}

		// The API starts it again; a guest shutdown with behavior terminate ends it.
		setInstance(t, h.db, f.account, f.instance, func(i *store.Instance) {
			i.State, i.DesiredPower, i.ShutdownBehavior = "pending", "running", "terminate"
		})
		report(nodeapi.InstanceStatus{ID: f.instance, State: nodeapi.ObservedRunning})
		d := report(nodeapi.InstanceStatus{ID: f.instance, State: nodeapi.ObservedShutdown})
		if i = h.instance(t, f.account, f.instance); i.State != "shutting-down" {
			t.Fatalf("shutdown with behavior terminate: %s", i.State)
		}
		if len(d.Instances) != 1 || d.Instances[0].Power != nodeapi.PowerTerminated {
			t.Fatalf("shutting-down instance is to be terminated on its node: %+v", d)
		}
		d = report(nodeapi.InstanceStatus{ID: f.instance, State: nodeapi.ObservedDeleted})
		if i = h.instance(t, f.account, f.instance); i.State != "terminated" || i.ObservedState != "deleted" {
			t.Fatalf("after deleted: %s %s", i.State, i.ObservedState)
		}
		if len(d.Instances) != 0 {
			t.Fatalf("deleted instance still desired: %+v", d.Instances)
		}
	})
}

func TestTerminatedStaysDesiredUntilDeleted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		f := seedInstance(t, h.db, c.NodeID())
		setInstance(t, h.db, f.account, f.instance, func(i *store.Instance) { i.State, i.DesiredPower = "terminated", "terminated" })
		d, err := h.srv.Desired(t.Context(), c.NodeID())
		if err != nil || len(d.Instances) != 1 || d.Instances[0].Power != nodeapi.PowerTerminated {
			t.Fatalf("terminated, not yet deleted: %+v %v", d, err)
		}
	})
}

func TestLaunchFailureCrashAndForeignInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		f := seedInstance(t, h.db, c.NodeID())
		s, err := c.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		recvDesired(t, s, 5*time.Second)
		if err := s.Send(&nodeapi.Report{Node: nodeInfo("host-1"), Instances: []nodeapi.InstanceStatus{
			{ID: f.instance, State: nodeapi.ObservedFailed, Reason: "kernel object missing"}}}); err != nil {
			t.Fatal(err)
		}
		recvDesired(t, s, 3*time.Second)
		i := h.instance(t, f.account, f.instance)
		if i.State != "shutting-down" || i.StateReasonCode != "Server.InternalError" || i.ObservedState != "failed" {
			t.Fatalf("after failed launch: %s %q %s", i.State, i.StateReasonCode, i.ObservedState)
		}

		// A crash of a running guest is reported, not hidden: observed crashed, state kept.
		setInstance(t, h.db, f.account, f.instance, func(i *store.Instance) { i.State, i.ObservedState = "running", "running" })
		if err := s.Send(&nodeapi.Report{Node: nodeInfo("host-1"), Instances: []nodeapi.InstanceStatus{
			{ID: f.instance, State: nodeapi.ObservedCrashed, Reason: "QEMU exited"}}}); err != nil {
			t.Fatal(err)
		}
		recvDesired(t, s, 3*time.Second)
		if i = h.instance(t, f.account, f.instance); i.State != "running" || i.ObservedState != "crashed" {
			t.Fatalf("after crash: %s %s", i.State, i.ObservedState)
		}

		// A report about an instance placed on another node changes nothing.
		setInstance(t, h.db, f.account, f.instance, func(i *store.Instance) { i.State, i.NodeID = "pending", "node-0000000000000other" })
		h.clock.Advance(time.Second)
		if err := s.Send(&nodeapi.Report{Node: nodeInfo("host-1"), Instances: []nodeapi.InstanceStatus{
			{ID: f.instance, State: nodeapi.ObservedRunning}}}); err != nil {
			t.Fatal(err)
		}
		waitSeen(t, h)
		if i = h.instance(t, f.account, f.instance); i.State != "pending" || i.ObservedState != "crashed" {
			t.Fatalf("another node's instance changed: %s %s", i.State, i.ObservedState)
		}
	})
}

func TestNotifySendsDesiredPromptly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		s, err := c.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if d := recvDesired(t, s, 5*time.Second); len(d.Instances) != 0 {
			t.Fatalf("first desired: %+v", d)
		}
		f := seedInstance(t, h.db, c.NodeID())
		h.srv.Notify(c.NodeID())
		start := time.Now()
		d := recvDesired(t, s, time.Second) // well before ReportInterval
		if len(d.Instances) != 1 || d.Instances[0].ID != f.instance {
			t.Fatalf("after notify: %+v", d)
		}
		if time.Since(start) >= nodeapi.ReportInterval {
			t.Fatal("notify waited for the periodic send")
		}
		if _, err := h.srv.Drain(t.Context(), "host-1"); err != nil {
			t.Fatal(err)
		}
		if d := recvDesired(t, s, time.Second); !d.Draining {
			t.Fatalf("drain not sent: %+v", d)
		}
	})
}

func TestSecondStreamReplacesFirst(t *testing.T) {
	h := startServer(t, storetest.Backends()[0])
	c, _ := h.join(t, "host-1")
	first, err := c.Connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	recvDesired(t, first, 5*time.Second)
	second, err := c.Connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	recvDesired(t, second, 5*time.Second)
	if _, err := first.Recv(); err == nil {
		t.Fatal("first stream still open after a second connect")
	}
	if n := h.srv.ConnectedNodes(); n != 1 {
		t.Fatalf("connected nodes %d, want 1", n)
	}
}

func TestConnectedNodesGauge(t *testing.T) {
	h := startServer(t, storetest.Backends()[0])
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.srv.Collector())
	c, _ := h.join(t, "host-1")
	s, err := c.Connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	recvDesired(t, s, 5*time.Second)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetName() != "kumo_nodes_connected" || mfs[0].GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Fatalf("gauge: %v %v", mfs, err)
	}
}

// waitSeen waits until the node row records a report made at the clock's time.
func waitSeen(t *testing.T, h *harness) {
	t.Helper()
	want := h.clock.Now()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n := h.nodes(t); len(n) == 1 && !n[0].LastSeen.Before(want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no report recorded at %v", want)
}
