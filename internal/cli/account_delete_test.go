package cli

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/admin"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func apiCode(err error) string {
	var e smithy.APIError
	if errors.As(err, &e) {
		return e.ErrorCode()
	}
	if err == nil {
		return ""
	}
	return "not an API error: " + err.Error()
}

// fakeNode joins the server as a node and reports what the test says.
type fakeNode struct {
	c *nodeapi.Client
	s nodeapi.Session
}

func joinFakeNode(t *testing.T, srv *controllertest.Server) *fakeNode {
	t.Helper()
	tok, err := run(t, "admin", "--data-dir", srv.DataDir, "node", "token", "--ttl", "1h")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := nodeapi.Dial(ctx, nodeapi.DialConfig{Server: "https://" + srv.NodeAddr.String(), DataDir: filepath.Join(t.TempDir(), "node"),
		JoinToken: strings.TrimSpace(tok), Name: "host1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := c.Connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := &fakeNode{c: c, s: s}
	n.report(t, nil)
	return n
}

func (n *fakeNode) report(t *testing.T, inst []nodeapi.InstanceStatus) {
	t.Helper()
	if err := n.s.Send(&nodeapi.Report{Node: nodeapi.NodeInfo{Name: "host1", Zone: "kumo-1a", Version: "t",
		Capacity: nodeapi.Capacity{VCPUs: 4, MemoryMiB: 8192, DiskGiB: 100}}, Instances: inst}); err != nil {
		t.Fatal(err)
	}
}

// TestAccountDeleteRefusesThenForces reproduces issue 11: deleting an
// account that had resources failed with HTTP 500 (a foreign key) on both
// databases, and its keys kept working. Now the deletion is refused with
// a list of what remains and nothing changes; with --force, every key
// stops working at once, the account's instance is terminated and waited
// for until its node reports it gone, its bucket's objects are removed,
// and every row goes.
func TestAccountDeleteRefusesThenForces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.Start(t, b)
		node := joinFakeNode(t, srv)
		ctx := context.Background()
		dir := srv.DataDir
		out, err := run(t, "admin", "--data-dir", dir, "account", "create", "team-a", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var created admin.CreatedAccount
		if err := json.Unmarshal([]byte(out), &created); err != nil {
			t.Fatal(err)
		}
		root := srv.Clients(created.AccessKeyId, created.SecretAccessKey)
		userKey := useAccount(t, srv, root)
		instID := "i-0000000000000dead"
		storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
			now := time.Now()
			return tx.InsertInstance(ctx, store.Instance{ID: instID, AccountID: created.AccountId, ReservationID: "r-1",
				State: "running", NodeID: node.c.NodeID(), DesiredPower: "running", StateChangedAt: now, LaunchTime: now, CreatedAt: now})
		})

		_, err = run(t, "admin", "--data-dir", dir, "account", "delete", "team-a")
		want := "account team-a still has 1 instance, 1 VPC, 1 bucket, 1 elastic IP"
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), "HTTP 409") {
			t.Fatalf("delete of a used account: %v, want a 409 saying %q", err, want)
		}
		if _, err := root.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatalf("a refused deletion changed the account: %v", err)
		}

		done := make(chan error, 1)
		go func() {
			_, err := run(t, "admin", "--data-dir", dir, "account", "delete", "--force", "team-a")
			done <- err
		}()
		waitForTerminate(t, node, instID)
		// The keys stopped working before the node finished: at once.
		if _, err := root.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); apiCode(err) != "AuthFailure" {
			t.Errorf("root key during forced deletion: %v, want AuthFailure", err)
		}
		if _, err := srv.Clients(userKey[0], userKey[1]).EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); apiCode(err) != "AuthFailure" {
			t.Errorf("IAM user's key during forced deletion: %v, want AuthFailure", err)
		}
		select {
		case err := <-done:
			t.Fatalf("forced deletion ended (%v) before the node stopped the instance", err)
		case <-time.After(300 * time.Millisecond):
		}
		node.report(t, []nodeapi.InstanceStatus{{ID: instID, State: nodeapi.ObservedDeleted}})
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("delete --force: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("forced deletion did not end after the node reported the instance deleted")
		}
		checkAccountGone(t, srv, root, created.AccountId)
	})
}

// useAccount gives the account what a team makes in its first hour and
// returns an IAM user's key.
func useAccount(t *testing.T, srv *controllertest.Server, a *controllertest.Account) [2]string {
	t.Helper()
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}))
	vpc, err := a.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	must(vpc, err)
	vpcID := vpc.Vpc.VpcId
	sub, err := a.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.1.1.0/24")})
	must(sub, err)
	sg, err := a.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpcID, GroupName: aws.String("web"), Description: aws.String("web")})
	must(sg, err)
	must(a.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpProtocol: aws.String("tcp"),
		FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("0.0.0.0/0")}))
	rt, err := a.EC2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpcID})
	must(rt, err)
	must(a.EC2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: sub.Subnet.SubnetId}))
	igw, err := a.EC2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(igw, err)
	must(a.EC2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpcID}))
	dopt, err := a.EC2.CreateDhcpOptions(ctx, &ec2.CreateDhcpOptionsInput{DhcpConfigurations: []ec2types.NewDhcpConfiguration{
		{Key: aws.String("domain-name"), Values: []string{"corp.example"}}}})
	must(dopt, err)
	must(a.EC2.AssociateDhcpOptions(ctx, &ec2.AssociateDhcpOptionsInput{DhcpOptionsId: dopt.DhcpOptions.DhcpOptionsId, VpcId: vpcID}))
	must(a.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
	must(a.EC2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("k")}))
	must(a.EC2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: sub.Subnet.SubnetId}))
	must(a.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{*vpcID}, Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}))
	must(a.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))
	key, err := a.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	must(key, err)
	s3c := s3Client(srv, a)
	must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("team-a-data")}))
	must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("team-a-data"), Key: aws.String("report.csv"), Body: strings.NewReader("1,2,3")}))
	return [2]string{*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey}
}

func s3Client(srv *controllertest.Server, a *controllertest.Account) *s3.Client {
	return s3.NewFromConfig(a.AWSConfig, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.S3Endpoint)
		o.UsePathStyle = true
	})
}

// waitForTerminate reads the node's desired state until the instance is
// to be terminated.
func waitForTerminate(t *testing.T, n *fakeNode, id string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		d, err := n.s.Recv()
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range d.Instances {
			if i.ID == id && i.Power == nodeapi.PowerTerminated {
				return
			}
		}
	}
	t.Fatal("the node was never told to terminate the account's instance")
}

func checkAccountGone(t *testing.T, srv *controllertest.Server, root *controllertest.Account, id string) {
	t.Helper()
	ctx := context.Background()
	if out, err := run(t, "admin", "--data-dir", srv.DataDir, "account", "list"); err != nil || strings.Contains(out, "team-a") {
		t.Errorf("account list after deletion: %v\n%s", err, out)
	}
	if _, err := s3Client(srv, root).ListBuckets(ctx, &s3.ListBucketsInput{}); apiCode(err) != "InvalidAccessKeyId" {
		t.Errorf("S3 with the deleted account's key: %v, want InvalidAccessKeyId", err)
	}
	other := srv.NewAccount(t, "team-b")
	if _, err := s3Client(srv, other).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("team-a-data")}); err != nil {
		t.Errorf("the deleted account's bucket name is not free: %v", err)
	}
	if _, err := s3Client(srv, other).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("team-a-data"), Key: aws.String("report.csv")}); apiCode(err) != "NoSuchKey" {
		t.Errorf("the deleted account's object survived in a new bucket of its name: %v", err)
	}
	err := srv.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		for _, table := range []string{"vpcs", "subnets", "security_groups", "route_tables", "internet_gateways", "dhcp_options", "addresses",
			"key_pairs", "network_interfaces", "tags", "instances", "users", "access_keys", "buckets"} {
			n, err := tx.CountRows(ctx, table, id)
			if err != nil || n != 0 {
				return errors.Join(err, errors.New(table+" still has rows of the account"))
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
