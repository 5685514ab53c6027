// Package nodeservertest joins a node to a test controller and reads what
// the controller pushes to it. It is imported only by _test.go files.
package nodeservertest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// JoinWithGuest joins a node to srv, places on it a running guest of
// account with one interface in subnet sn and the security groups sgIDs,
// and returns the node's session.
func JoinWithGuest(t *testing.T, srv *controllertest.Server, account string, sn types.Subnet, sgIDs ...string) nodeapi.Session {
	t.Helper()
	ctx := t.Context()
	tok, err := srv.Nodes.CreateJoinToken(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := nodeapi.Dial(ctx, nodeapi.DialConfig{Server: "https://" + srv.NodeAddr.String(), DataDir: filepath.Join(t.TempDir(), "n"), JoinToken: tok, Name: "host-1"})
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	now := time.Now().UTC()
	storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
		return errors.Join(
			tx.InsertInstance(ctx, store.Instance{ID: "i-0000000000000a001", AccountID: account, ReservationID: "r-0000000000000a001", ImageID: "ami-00000000000000001",
				RootDeviceName: "/dev/xvda", RootDeviceType: "ebs", RootSizeGiB: 8, InstanceType: "t3.micro", VCPUs: 1, MemoryMiB: 512,
				AvailabilityZone: aws.ToString(sn.AvailabilityZone), VPCID: aws.ToString(sn.VpcId), SubnetID: aws.ToString(sn.SubnetId),
				SMBIOSUUID: "ec2aaaaa-0000-0000-0000-00000000a001", State: "running", StateChangedAt: now, ShutdownBehavior: "stop",
				NodeID: c.NodeID(), DesiredPower: "running", LaunchTime: now, CreatedAt: now, SecurityGroupIDs: sgIDs}),
			tx.InsertNetworkInterface(ctx, store.NetworkInterface{ID: "eni-0000000000000a001", AccountID: account, SubnetID: aws.ToString(sn.SubnetId),
				VPCID: aws.ToString(sn.VpcId), PrivateIP: "172.31.0.10", MAC: "02:ab:cd:00:0a:01", InstanceID: "i-0000000000000a001", CreatedAt: now}),
		)
	})
	s, err := c.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// RecvDesired waits for the next Desired, failing after d.
func RecvDesired(t *testing.T, s nodeapi.Session, d time.Duration) *nodeapi.Desired {
	t.Helper()
	type res struct {
		d   *nodeapi.Desired
		err error
	}
	ch := make(chan res, 1)
	go func() {
		d, err := s.Recv()
		ch <- res{d, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("receive desired: %v", r.err)
		}
		return r.d
	case <-time.After(d):
		t.Fatalf("no Desired within %v", d)
		return nil
	}
}
