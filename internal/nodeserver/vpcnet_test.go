package nodeserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// setAddress records a node's underlay address as its report would.
func setAddress(t *testing.T, db *store.DB, nodeID, addr string) {
	t.Helper()
	storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return tx.UpdateNodeReport(ctx, store.Node{ID: nodeID, Zone: "kumo-1a", Address: addr, Version: "test", LastSeen: time.Now()})
	})
}

// guest adds an instance with one interface in the fixture's account.
func guest(t *testing.T, db *store.DB, f fixture, n int, nodeID, vpc, subnet, state string, groups ...string) string {
	t.Helper()
	id := fmt.Sprintf("i-%017d", n)
	now := time.Now().UTC()
	storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return errors.Join(
			tx.InsertInstance(ctx, store.Instance{ID: id, AccountID: f.account, ReservationID: "r-00000000000000002", ImageID: "ami-00000000000000001",
				RootDeviceName: "/dev/xvda", RootDeviceType: "ebs", RootSizeGiB: 8, InstanceType: "t3.micro", VCPUs: 1, MemoryMiB: 512,
				AvailabilityZone: "kumo-1a", VPCID: vpc, SubnetID: subnet, SMBIOSUUID: fmt.Sprintf("ec2aaaaa-0000-0000-0000-%012d", n),
				State: state, StateChangedAt: now, ShutdownBehavior: "stop", NodeID: nodeID, DesiredPower: "running",
				LaunchTime: now, CreatedAt: now, SecurityGroupIDs: groups}),
			tx.InsertNetworkInterface(ctx, store.NetworkInterface{ID: fmt.Sprintf("eni-%017d", n), AccountID: f.account, SubnetID: subnet, VPCID: vpc,
				PrivateIP: fmt.Sprintf("10.0.1.%d", n), MAC: fmt.Sprintf("02:ab:cd:00:01:%02x", n), InstanceID: id, CreatedAt: now}),
		)
	})
	return id
}

func rule(f fixture, id, group string, egress bool, proto string, from, to int64, cidr, ref string) store.SecurityGroupRule {
	return store.SecurityGroupRule{ID: id, AccountID: f.account, GroupID: group, IsEgress: egress, IPProtocol: proto, FromPort: from, ToPort: to,
		CIDRIPv4: cidr, RefGroupID: ref, CreatedAt: time.Now()}
}

// vpcScene: node 1 hosts the fixture's instance (10.0.1.10, group web);
// node 2 hosts a running web guest (.20), a running admin guest (.30), a
// terminated web guest (.40), a stopped web guest (.70) and a guest of
// another VPC (.50); node 3 (no address yet) a running web guest (.60).
// web lets in tcp/80 from anywhere and everything from admin; unused is
// referenced by nobody on node 1.
type vpcScene struct {
	f                fixture
	n1, n2, n3       string
	vpc2, admin, web string
}

func seedVPCScene(t *testing.T, h *harness) vpcScene {
	t.Helper()
	c1, _ := h.join(t, "host-1")
	c2, _ := h.join(t, "host-2")
	c3, _ := h.join(t, "host-3")
	sc := vpcScene{n1: c1.NodeID(), n2: c2.NodeID(), n3: c3.NodeID(), vpc2: "vpc-00000000000000002", admin: "sg-00000000000000003"}
	sc.f = seedInstance(t, h.db, sc.n1)
	sc.web = sc.f.sg
	setAddress(t, h.db, sc.n1, "192.0.2.10")
	setAddress(t, h.db, sc.n2, "192.0.2.20")
	f, now := sc.f, time.Now()
	storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
		return errors.Join(
			tx.InsertVPC(ctx, store.VPC{ID: sc.vpc2, AccountID: f.account, CIDRBlock: "10.0.0.0/16", State: "available", InstanceTenancy: "default", CreatedAt: now}),
			tx.InsertSubnet(ctx, store.Subnet{ID: "subnet-00000000000000002", AccountID: f.account, VPCID: sc.vpc2, CIDRBlock: "10.0.1.0/24", AvailabilityZone: "kumo-1a", State: "available", CreatedAt: now}),
			tx.InsertSecurityGroup(ctx, store.SecurityGroup{ID: sc.admin, AccountID: f.account, VPCID: f.vpc, Name: "admin", Description: "admin", CreatedAt: now}),
			tx.InsertSecurityGroup(ctx, store.SecurityGroup{ID: "sg-00000000000000009", AccountID: f.account, VPCID: f.vpc, Name: "unused", Description: "unused", CreatedAt: now}),
			tx.InsertSecurityGroupRule(ctx, rule(f, "sgr-00000000000000001", sc.web, false, "tcp", 80, 80, "0.0.0.0/0", "")),
			tx.InsertSecurityGroupRule(ctx, rule(f, "sgr-00000000000000002", sc.web, false, "-1", -1, -1, "", sc.admin)),
			tx.InsertSecurityGroupRule(ctx, rule(f, "sgr-00000000000000003", sc.web, true, "-1", -1, -1, "0.0.0.0/0", "")),
			tx.InsertSecurityGroupRule(ctx, store.SecurityGroupRule{ID: "sgr-00000000000000004", AccountID: f.account, GroupID: sc.web,
				IPProtocol: "tcp", FromPort: 443, ToPort: 443, CIDRIPv6: "::/0", CreatedAt: now}), // IPv6: not on the overlay
			tx.InsertSecurityGroupRule(ctx, rule(f, "sgr-00000000000000005", sc.admin, false, "tcp", 22, 22, "198.51.100.0/24", "")),
			tx.InsertSecurityGroupRule(ctx, rule(f, "sgr-00000000000000006", "sg-00000000000000009", false, "tcp", 1, 2, "", sc.web)),
		)
	})
	guest(t, h.db, f, 20, sc.n2, f.vpc, f.subnet, "running", sc.web)
	guest(t, h.db, f, 30, sc.n2, f.vpc, f.subnet, "running", sc.admin)
	guest(t, h.db, f, 40, sc.n2, f.vpc, f.subnet, "terminated", sc.web)
	guest(t, h.db, f, 50, sc.n2, sc.vpc2, "subnet-00000000000000002", "running")
	guest(t, h.db, f, 60, sc.n3, f.vpc, f.subnet, "running", sc.web)
	guest(t, h.db, f, 70, sc.n2, f.vpc, f.subnet, "stopped", sc.web)
	return sc
}

func vni(t *testing.T, db *store.DB, account, vpc string) uint32 {
	t.Helper()
	var v store.VPC
	if err := db.View(t.Context(), func(ctx context.Context, tx *store.Tx) (err error) {
		v, err = tx.GetVPC(ctx, account, vpc)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if v.VNI == 0 {
		t.Fatalf("%s has no VNI", vpc)
	}
	return v.VNI
}

func jsonOf(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

func TestDesiredCarriesVPCNetworks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		sc := seedVPCScene(t, h)
		f := sc.f
		d, err := h.srv.Desired(t.Context(), sc.n1)
		if err != nil {
			t.Fatal(err)
		}
		want := []nodeapi.VPCNetwork{{VPCID: f.vpc, VNI: vni(t, h.db, f.account, f.vpc),
			Peers: []nodeapi.OverlayPeer{{Underlay: "192.0.2.20", Guests: []string{"10.0.1.20", "10.0.1.30"}}},
			SecurityGroups: []nodeapi.SecurityGroup{
				{ID: f.sg,
					Ingress: []nodeapi.SGRule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []string{"0.0.0.0/0"}},
						{Protocol: "-1", FromPort: -1, ToPort: -1, Groups: []string{sc.admin}}},
					Egress:  []nodeapi.SGRule{{Protocol: "-1", FromPort: -1, ToPort: -1, CIDRs: []string{"0.0.0.0/0"}}},
					Members: []string{"10.0.1.10", "10.0.1.20", "10.0.1.60", "10.0.1.70"}},
				{ID: sc.admin, Ingress: []nodeapi.SGRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"198.51.100.0/24"}}},
					Members: []string{"10.0.1.30"}},
			}}}
		for i := range d.VPCs {
			d.VPCs[i].DNS = nil // the resolver's: TestDesiredCarriesTheVPCResolver
		}
		if !reflect.DeepEqual(d.VPCs, want) {
			t.Errorf("node 1 VPCs:\n%s\nwant\n%s", jsonOf(d.VPCs), jsonOf(want))
		}

		d2, err := h.srv.Desired(t.Context(), sc.n2)
		if err != nil {
			t.Fatal(err)
		}
		if len(d2.VPCs) != 2 || d2.VPCs[0].VPCID != f.vpc || d2.VPCs[1].VPCID != sc.vpc2 {
			t.Fatalf("node 2 VPCs:\n%s", jsonOf(d2.VPCs))
		}
		if d2.VPCs[0].VNI == d2.VPCs[1].VNI {
			t.Errorf("two VPCs share VNI %d", d2.VPCs[0].VNI)
		}
		if p := d2.VPCs[0].Peers; len(p) != 1 || p[0].Underlay != "192.0.2.10" || !reflect.DeepEqual(p[0].Guests, []string{"10.0.1.10"}) {
			t.Errorf("node 2 peers in %s: %+v (node 3 has no address yet)", f.vpc, p)
		}
		if v := d2.VPCs[1]; len(v.Peers) != 0 || len(v.SecurityGroups) != 0 {
			t.Errorf("node 2 in %s: %+v", sc.vpc2, v)
		}
	})
}

// TestPeersFollowOtherNodes: a change on one node's instance reaches the
// other nodes of its VPC with no Notify naming them.
func TestPeersFollowOtherNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c1, _ := h.join(t, "host-1")
		c2, _ := h.join(t, "host-2")
		f := seedInstance(t, h.db, c1.NodeID())
		setAddress(t, h.db, c1.NodeID(), "192.0.2.10")
		setAddress(t, h.db, c2.NodeID(), "192.0.2.20")
		guest(t, h.db, f, 20, c2.NodeID(), f.vpc, f.subnet, "running", f.sg)
		s2, err := c2.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		d := recvDesired(t, s2, 5*time.Second)
		if len(d.VPCs) != 1 || len(d.VPCs[0].Peers) != 1 {
			t.Fatalf("node 2 first desired: %s", jsonOf(d.VPCs))
		}
		setInstance(t, h.db, f.account, f.instance, func(i *store.Instance) { i.State, i.DesiredPower = "terminated", "terminated" })
		h.srv.Notify(c1.NodeID()) // as the API does: it names the instance's node only
		d = recvDesired(t, s2, time.Second)
		if len(d.VPCs) != 1 || len(d.VPCs[0].Peers) != 0 {
			t.Fatalf("node 2 after node 1's guest went: %s", jsonOf(d.VPCs))
		}
		if got := d.VPCs[0].SecurityGroups[0].Members; !reflect.DeepEqual(got, []string{"10.0.1.20"}) {
			t.Errorf("members after terminate: %v", got)
		}
	})
}

// TestNotifyUnchangedSendsNothing: a node whose desired state a Notify did
// not change gets nothing until its periodic resend.
func TestNotifyUnchangedSendsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c1, _ := h.join(t, "host-1")
		c2, _ := h.join(t, "host-2")
		seedInstance(t, h.db, c1.NodeID())
		s2, err := c2.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		recvDesired(t, s2, 5*time.Second)
		got := make(chan *nodeapi.Desired, 1)
		go func() {
			if d, err := s2.Recv(); err == nil {
				got <- d
			}
		}()
		h.srv.Notify(c1.NodeID())
		h.srv.Notify()
		select {
		case d := <-got:
			t.Fatalf("unchanged node 2 got a Desired: %+v", d)
		case <-time.After(time.Second):
		}
		h.srv.Notify(c2.NodeID()) // named: sent even though unchanged
		select {
		case <-got:
		case <-time.After(time.Second):
			t.Fatal("a node named in Notify got no Desired")
		}
	})
}

// TestNewUnderlayAddressReachesPeers: when a node first reports its
// underlay address, the other nodes of its VPCs get it as a peer at once.
func TestNewUnderlayAddressReachesPeers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c1, _ := h.join(t, "host-1")
		c2, _ := h.join(t, "host-2")
		f := seedInstance(t, h.db, c1.NodeID())
		guest(t, h.db, f, 20, c2.NodeID(), f.vpc, f.subnet, "running", f.sg)
		s1, err := c1.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if d := recvDesired(t, s1, 5*time.Second); len(d.VPCs) != 1 || len(d.VPCs[0].Peers) != 0 {
			t.Fatalf("node 1 before node 2 reported: %s", jsonOf(d.VPCs))
		}
		s2, err := c2.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		info := nodeInfo("host-2")
		info.Address = "192.0.2.20"
		if err := s2.Send(&nodeapi.Report{Node: info, Instances: []nodeapi.InstanceStatus{}}); err != nil {
			t.Fatal(err)
		}
		d := recvDesired(t, s1, time.Second)
		want := []nodeapi.OverlayPeer{{Underlay: "192.0.2.20", Guests: []string{"10.0.1.20"}}}
		if len(d.VPCs) != 1 || !reflect.DeepEqual(d.VPCs[0].Peers, want) {
			t.Fatalf("node 1 after node 2 reported: %s", jsonOf(d.VPCs))
		}
	})
}
