package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/node"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

const helloScript = "#!/bin/sh\necho \"KUMO-HELLO: $(kumo-imds meta-data/instance-id)\"\n"

// BenchmarkRunInstances times the demo image through the whole of Kumo: a
// controller and a node (the code of kumo node, in this process), RunInstances
// of a t3.micro with user data, then
//   - s-to-running: until DescribeInstances says running;
//   - s-to-booted: until the guest's "booted" marker is in its console log
//     (read on the node, as BenchmarkBootBareQEMU reads its own);
//   - s-to-user-data: until GetConsoleOutput shows the user data's line
//     with the instance id the guest read from the metadata service (what a
//     user sees; the node sends console news once a second).
func BenchmarkRunInstances(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: the node makes network namespaces and taps")
	}
	img := demoImage(b)
	srv := controllertest.Start(b, storetest.Backends()[0])
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	if _, err := srv.RegisterDemoImage(ctx, img); err != nil {
		b.Fatal(err)
	}
	nodeDir := startNode(b, ctx, cancel, srv)
	acct := srv.NewAccount(b, "bench")
	ami := demoAMI(b, acct.EC2)
	var running, booted, userData time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		out, err := acct.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(helloScript)))})
		if err != nil {
			b.Fatal(err)
		}
		id := *out.Instances[0].InstanceId
		running += pollUntil(b, start, "running", func() bool { return stateOf(b, acct.EC2, id) == types.InstanceStateNameRunning })
		booted += waitMarker(b, filepath.Join(nodeDir, "instances", id, "console.log"), demotest.Booted, start)
		userData += pollUntil(b, start, "user-data line", func() bool {
			co, err := acct.EC2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id), Latest: aws.Bool(true)})
			if err != nil {
				b.Fatal(err)
			}
			text, _ := base64.StdEncoding.DecodeString(aws.ToString(co.Output))
			return strings.Contains(string(text), "KUMO-HELLO: "+id)
		})
		b.StopTimer()
		if _, err := acct.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			b.Fatal(err)
		}
		pollUntil(b, time.Now(), "terminated", func() bool { return stateOf(b, acct.EC2, id) == types.InstanceStateNameTerminated })
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(running.Seconds()/n, "s-to-running")
	b.ReportMetric(booted.Seconds()/n, "s-to-booted")
	b.ReportMetric(userData.Seconds()/n, "s-to-user-data")
}

// startNode runs a node agent in this process against srv and waits for it.
// Guests of terminated instances are gone when the benchmark ends; the
// agent stops with cancel.
func startNode(b *testing.B, ctx context.Context, cancel context.CancelFunc, srv *controllertest.Server) string {
	b.Helper()
	token, err := srv.Nodes.CreateJoinToken(ctx, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	suffix := make([]byte, 3)
	rand.Read(suffix)
	prefix := "kb" + hex.EncodeToString(suffix)
	dir := b.TempDir()
	done := make(chan struct{})
	go func() {
		defer close(done)
		node.Start(ctx, node.Options{Server: srv.NodeAddr.String(), JoinToken: token, DataDir: dir,
			Name: prefix, Zone: controllertest.Region + "a", NetnsPrefix: prefix})
	}()
	b.Cleanup(func() {
		cancel()
		<-done
		for _, ns := range netnsWithPrefix(prefix) {
			os.Remove(filepath.Join("/run/netns", ns))
		}
		exec.Command("nft", "delete", "table", "inet", "kumo_public_"+prefix).Run()
		os.Remove("/run/kumo/owners/" + prefix + ".lock")
	})
	pollUntil(b, time.Now(), "node ready", func() bool {
		nodes, err := srv.Admin.ListNodes(ctx)
		return err == nil && len(nodes) == 1 && nodes[0].State == "ready" && nodes[0].VCpus > 0
	})
	return dir
}

func netnsWithPrefix(prefix string) []string {
	ents, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			out = append(out, e.Name())
		}
	}
	return out
}

func demoAMI(b *testing.B, c *ec2.Client) string {
	b.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"kumo-demo"}}}})
	if err != nil || len(out.Images) != 1 {
		b.Fatalf("kumo-demo: %v %v", out, err)
	}
	return *out.Images[0].ImageId
}

func stateOf(b *testing.B, c *ec2.Client, id string) types.InstanceStateName {
	b.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		b.Fatal(err)
	}
	return out.Reservations[0].Instances[0].State.Name
}

// pollUntil polls ok every 20 ms for up to 3 minutes and returns the time
// since start when it holds.
func pollUntil(b *testing.B, start time.Time, what string, ok func() bool) time.Duration {
	b.Helper()
	for time.Since(start) < 3*time.Minute {
		if ok() {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("no %s within 3 minutes", what)
	return 0
}
