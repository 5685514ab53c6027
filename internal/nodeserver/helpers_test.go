package nodeserver_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/nodeserver"
	"github.com/kumo-cloud/kumo/internal/nodeserver/nodeservertest"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is a node server on a loopback TLS listener over a fresh store.
type harness struct {
	db      *store.DB
	srv     *nodeserver.Server
	addr    string
	objects *snapshot.MemObjects
	clock   *clock
	dataDir string
}

func startServer(t *testing.T, b storetest.Backend) *harness {
	t.Helper()
	h := &harness{db: storetest.Open(t, b), objects: snapshot.NewMemObjects(),
		clock: &clock{t: time.Now().UTC().Truncate(time.Millisecond)}, dataDir: t.TempDir()}
	srv, err := nodeserver.New(nodeserver.Config{DB: h.db, Objects: h.objects, Now: h.clock.Now, Region: "kumo-1", DataDir: h.dataDir})
	if err != nil {
		t.Fatalf("new node server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.srv, h.addr = srv, ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Stop(ctx)
	})
	return h
}

func (h *harness) token(t *testing.T, ttl time.Duration) string {
	t.Helper()
	tok, err := h.srv.CreateJoinToken(t.Context(), ttl)
	if err != nil {
		t.Fatalf("create join token: %v", err)
	}
	return tok
}

// join dials with a fresh token into a new node data dir.
func (h *harness) join(t *testing.T, name string) (*nodeapi.Client, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	c, err := nodeapi.Dial(t.Context(), nodeapi.DialConfig{Server: "https://" + h.addr, DataDir: dir, JoinToken: h.token(t, 0), Name: name})
	if err != nil {
		t.Fatalf("join as %s: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, dir
}

func (h *harness) nodes(t *testing.T) []store.Node {
	t.Helper()
	var out []store.Node
	if err := h.db.View(t.Context(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		out, err = tx.ListNodes(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func (h *harness) instance(t *testing.T, account, id string) store.Instance {
	t.Helper()
	var out store.Instance
	if err := h.db.View(t.Context(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		out, err = tx.GetInstance(ctx, account, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// fixture is one account's network, key pair, boot images and an instance.
type fixture struct {
	account, vpc, subnet, sg, eni, kernel, ramdisk, instance string
	kernelKey, ramdiskKey, publicKey                         string
}

const userData = "#!/bin/sh\necho hello from user data\n"

func seedInstance(t *testing.T, db *store.DB, nodeID string) fixture {
	t.Helper()
	f := fixture{account: "123456789012", vpc: "vpc-00000000000000001", subnet: "subnet-00000000000000001",
		sg: "sg-00000000000000001", eni: "eni-00000000000000001", kernel: "aki-00000000000000001", ramdisk: "ari-00000000000000001",
		instance: "i-00000000000000001", kernelKey: "boot/aki-00000000000000001", ramdiskKey: "boot/ari-00000000000000001",
		publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleQ k1"}
	now := time.Now().UTC()
	storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return errors.Join(
			tx.InsertAccount(ctx, store.Account{ID: f.account, Name: "team-a", CreatedAt: now}),
			tx.InsertVPC(ctx, store.VPC{ID: f.vpc, AccountID: f.account, CIDRBlock: "10.0.0.0/16", State: "available", InstanceTenancy: "default", CreatedAt: now}),
			tx.InsertSubnet(ctx, store.Subnet{ID: f.subnet, AccountID: f.account, VPCID: f.vpc, CIDRBlock: "10.0.1.0/24", AvailabilityZone: "kumo-1a", State: "available", CreatedAt: now}),
			tx.InsertSecurityGroup(ctx, store.SecurityGroup{ID: f.sg, AccountID: f.account, VPCID: f.vpc, Name: "web", Description: "web", CreatedAt: now}),
			tx.InsertKeyPair(ctx, store.KeyPair{ID: "key-00000000000000001", AccountID: f.account, Name: "k1", KeyType: "ed25519", Fingerprint: "x", PublicKey: f.publicKey, CreatedAt: now}),
			tx.InsertImage(ctx, store.Image{ID: f.kernel, AccountID: f.account, Name: "vmlinuz", ImageType: "kernel", State: "available", Location: f.kernelKey, CreatedAt: now}),
			tx.InsertImage(ctx, store.Image{ID: f.ramdisk, AccountID: f.account, Name: "initrd", ImageType: "ramdisk", State: "available", Location: f.ramdiskKey, CreatedAt: now}),
			tx.InsertInstance(ctx, store.Instance{ID: f.instance, AccountID: f.account, ReservationID: "r-00000000000000001", ImageID: "ami-00000000000000001",
				KernelID: f.kernel, RamdiskID: f.ramdisk, RootDeviceName: "/dev/xvda", RootDeviceType: "ebs", RootSnapshotID: "snap-00000000000000001",
				RootSizeGiB: 8, InstanceType: "t3.micro", VCPUs: 2, MemoryMiB: 1024, AvailabilityZone: "kumo-1a", VPCID: f.vpc, SubnetID: f.subnet,
				KeyName: "k1", UserData: base64.StdEncoding.EncodeToString([]byte(userData)), SMBIOSUUID: "ec2aaaaa-0000-0000-0000-000000000001",
				State: "pending", StateChangedAt: now, ShutdownBehavior: "stop", NodeID: nodeID, DesiredPower: "running",
				LaunchTime: now, CreatedAt: now, SecurityGroupIDs: []string{f.sg}}),
			tx.InsertNetworkInterface(ctx, store.NetworkInterface{ID: f.eni, AccountID: f.account, SubnetID: f.subnet, VPCID: f.vpc,
				PrivateIP: "10.0.1.10", MAC: "02:ab:cd:00:00:01", InstanceID: f.instance, CreatedAt: now}),
		)
	})
	return f
}

// setInstance changes an instance as the API would.
func setInstance(t *testing.T, db *store.DB, account, id string, change func(*store.Instance)) {
	t.Helper()
	storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		i, err := tx.GetInstance(ctx, account, id)
		if err != nil {
			return err
		}
		change(&i)
		return tx.UpdateInstance(ctx, i)
	})
}

func nodeInfo(name string) nodeapi.NodeInfo {
	return nodeapi.NodeInfo{Name: name, Zone: "kumo-1a", Address: "192.0.2.10", Version: "test",
		Capacity: nodeapi.Capacity{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 200}, Accel: "tcg", AccelReason: "kvm unusable, falling back to tcg: open /dev/kvm: no such file or directory"}
}

// recvDesired waits for the next Desired, failing after d.
func recvDesired(t *testing.T, s nodeapi.Session, d time.Duration) *nodeapi.Desired {
	t.Helper()
	return nodeservertest.RecvDesired(t, s, d)
}
