package ec2_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestInstanceLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 16, 65536)
		a := srv.NewAccount(t, "a")
		id := *run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img}).Instances[0].InstanceId
		ids := []string{id}

		// Pending: it never ran, so it cannot be stopped; start is a no-op.
		_, err := a.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids})
		wantClientError(t, err, "IncorrectInstanceState")
		st, err := a.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids})
		if err != nil || st.StartingInstances[0].CurrentState.Name != types.InstanceStateNamePending {
			t.Fatalf("start while pending: %+v %v", st, err)
		}

		observe(t, srv, a.ID, id, "running", "running")
		if _, err := a.EC2.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: ids}); err != nil {
			t.Fatal(err)
		}
		if r := row(t, srv, a.ID, id); r.RebootSeq != 1 || r.State != "running" {
			t.Fatalf("after reboot: seq %d state %s", r.RebootSeq, r.State)
		}
		_, err = a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, InstanceType: &types.AttributeValue{Value: aws.String("m5.large")}})
		wantClientError(t, err, "IncorrectInstanceState")
		_, err = a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, UserData: &types.SecureBlobAttributeValue{Value: []byte("x")}})
		wantClientError(t, err, "IncorrectInstanceState")

		sp, err := a.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids})
		if err != nil || sp.StoppingInstances[0].PreviousState.Name != types.InstanceStateNameRunning || sp.StoppingInstances[0].CurrentState.Name != types.InstanceStateNameStopping {
			t.Fatalf("stop: %+v %v", sp, err)
		}
		if r := row(t, srv, a.ID, id); r.DesiredPower != "stopped" || r.ForceStop || r.StateReasonCode != "Client.UserInitiatedShutdown" {
			t.Fatalf("stopping row: %+v", r)
		}
		_, err = a.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids})
		wantClientError(t, err, "IncorrectInstanceState")
		_, err = a.EC2.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: ids})
		wantClientError(t, err, "IncorrectInstanceState")
		observe(t, srv, a.ID, id, "stopped", "stopped")
		got := describeInstances(t, a.EC2, flt("instance-id", id))[0]
		if *got.StateTransitionReason == "" || got.StateReason == nil || *got.StateReason.Code != "Client.UserInitiatedShutdown" || *got.PrivateIpAddress == "" {
			t.Fatalf("stopped instance: %+v", got)
		}

		// Stopped: instanceType and userData may change.
		if _, err := a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, InstanceType: &types.AttributeValue{Value: aws.String("m5.large")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, UserData: &types.SecureBlobAttributeValue{Value: []byte("#!/bin/sh\necho v2\n")}}); err != nil {
			t.Fatal(err)
		}
		_, err = a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, InstanceType: &types.AttributeValue{Value: aws.String("x9.huge")}})
		wantClientError(t, err, "InvalidParameterValue")
		if r := row(t, srv, a.ID, id); r.InstanceType != "m5.large" || r.VCPUs != 2 || r.MemoryMiB != 8192 {
			t.Fatalf("modified type: %+v", r)
		}
		attr, err := a.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: types.InstanceAttributeNameUserData})
		if err != nil || *attr.UserData.Value != base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho v2\n")) {
			t.Fatalf("userData attribute: %+v %v", attr, err)
		}
		attr, err = a.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: types.InstanceAttributeNameInstanceType})
		if err != nil || *attr.InstanceType.Value != "m5.large" {
			t.Fatalf("instanceType attribute: %+v %v", attr, err)
		}
		for name, check := range map[types.InstanceAttributeName]func(*ec2.DescribeInstanceAttributeOutput) bool{
			types.InstanceAttributeNameGroupSet:           func(o *ec2.DescribeInstanceAttributeOutput) bool { return len(o.Groups) == 1 },
			types.InstanceAttributeNameRootDeviceName:     func(o *ec2.DescribeInstanceAttributeOutput) bool { return *o.RootDeviceName.Value == "/dev/xvda" },
			types.InstanceAttributeNameBlockDeviceMapping: func(o *ec2.DescribeInstanceAttributeOutput) bool { return len(o.BlockDeviceMappings) == 1 },
			types.InstanceAttributeNameKernel:             func(o *ec2.DescribeInstanceAttributeOutput) bool { return o.KernelId.Value != nil },
			types.InstanceAttributeNameSourceDestCheck:    func(o *ec2.DescribeInstanceAttributeOutput) bool { return *o.SourceDestCheck.Value },
			types.InstanceAttributeNameInstanceInitiatedShutdownBehavior: func(o *ec2.DescribeInstanceAttributeOutput) bool {
				return *o.InstanceInitiatedShutdownBehavior.Value == "stop"
			},
		} {
			o, err := a.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: name})
			if err != nil || !check(o) {
				t.Fatalf("attribute %s: %+v %v", name, o, err)
			}
		}
		_, err = a.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: "bogus"})
		wantClientError(t, err, "InvalidParameterValue")
		// Kernel reset goes back to the image's (stopped only); other attributes cannot be reset.
		if _, err := a.EC2.ResetInstanceAttribute(ctx, &ec2.ResetInstanceAttributeInput{InstanceId: &id, Attribute: types.InstanceAttributeNameKernel}); err != nil {
			t.Fatal(err)
		}
		_, err = a.EC2.ResetInstanceAttribute(ctx, &ec2.ResetInstanceAttributeInput{InstanceId: &id, Attribute: types.InstanceAttributeNameInstanceType})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id,
			InstanceType: &types.AttributeValue{Value: aws.String("m5.large")}, DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
		wantClientError(t, err, "InvalidParameterCombination")

		// SourceDestCheck is the primary interface's: off for a NAT instance, reset to on.
		sdc := func() (attr, inst, eni bool) {
			t.Helper()
			o, err := a.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: types.InstanceAttributeNameSourceDestCheck})
			if err != nil {
				t.Fatal(err)
			}
			d, err := a.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
			if err != nil {
				t.Fatal(err)
			}
			i := d.Reservations[0].Instances[0]
			return *o.SourceDestCheck.Value, *i.SourceDestCheck, *i.NetworkInterfaces[0].SourceDestCheck
		}
		if _, err := a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id,
			SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
			t.Fatal(err)
		}
		if x, y, z := sdc(); x || y || z {
			t.Errorf("after turning SourceDestCheck off: attribute %v, instance %v, interface %v", x, y, z)
		}
		if _, err := a.EC2.ResetInstanceAttribute(ctx, &ec2.ResetInstanceAttributeInput{InstanceId: &id, Attribute: types.InstanceAttributeNameSourceDestCheck}); err != nil {
			t.Fatal(err)
		}
		if x, y, z := sdc(); !x || !y || !z {
			t.Errorf("after reset: attribute %v, instance %v, interface %v", x, y, z)
		}

		// Start again: same node, pending, reasons cleared.
		if _, err := a.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids}); err != nil {
			t.Fatal(err)
		}
		if r := row(t, srv, a.ID, id); r.State != "pending" || r.DesiredPower != "running" || r.StateReasonCode != "" {
			t.Fatalf("restarted row: %+v", r)
		}
		observe(t, srv, a.ID, id, "running", "running")

		// Termination protection, by the typed field and by Attribute/Value.
		if _, err := a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
			t.Fatal(err)
		}
		_, err = a.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
		wantClientError(t, err, "OperationNotPermitted")
		if _, err := a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, Attribute: types.InstanceAttributeNameDisableApiTermination, Value: aws.String("false")}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, InstanceInitiatedShutdownBehavior: &types.AttributeValue{Value: aws.String("terminate")}}); err != nil {
			t.Fatal(err)
		}
		if r := row(t, srv, a.ID, id); r.ShutdownBehavior != "terminate" || r.DisableAPITermination {
			t.Fatalf("attributes: %+v", r)
		}
		tm, err := a.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
		if err != nil || tm.TerminatingInstances[0].CurrentState.Name != types.InstanceStateNameShuttingDown {
			t.Fatalf("terminate: %+v %v", tm, err)
		}
		if r := row(t, srv, a.ID, id); r.DesiredPower != "terminated" {
			t.Fatalf("terminating row: %+v", r)
		}
		_, err = a.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids})
		wantClientError(t, err, "IncorrectInstanceState")
		_, err = a.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids})
		wantClientError(t, err, "IncorrectInstanceState")

		// Terminated: still shown (without its address) for an hour, then gone.
		observe(t, srv, a.ID, id, "terminated", "deleted")
		got = describeInstances(t, a.EC2, flt("instance-state-name", "terminated"))[0]
		if got.PrivateIpAddress != nil || len(got.NetworkInterfaces) != 0 || *got.State.Code != 48 {
			t.Fatalf("terminated instance: %+v", got)
		}
		if tm, err := a.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil || tm.TerminatingInstances[0].PreviousState.Name != types.InstanceStateNameTerminated {
			t.Fatalf("terminate again: %+v %v", tm, err)
		}
		// Its address is reused by the next launch.
		again := run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img})
		if *again.Instances[0].PrivateIpAddress != "172.31.0.4" {
			t.Fatalf("address not reused: %s", *again.Instances[0].PrivateIpAddress)
		}
		setRow(t, srv, a.ID, id, func(i *store.Instance) { i.StateChangedAt = time.Now().Add(-2 * time.Hour) })
		if got := describeInstances(t, a.EC2, flt("instance-id", id)); len(got) != 0 {
			t.Fatalf("terminated instance still shown after an hour: %+v", got)
		}
		_, err = a.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
		var purged int64
		storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) (err error) {
			purged, err = tx.DeleteTerminatedInstancesBefore(ctx, time.Now().Add(-time.Hour))
			return err
		})
		if purged != 1 {
			t.Fatalf("purged %d terminated instances, want 1", purged)
		}

		// An instance whose node is gone terminates at once.
		lost := *run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img}).Instances[0].InstanceId
		setRow(t, srv, a.ID, lost, func(i *store.Instance) { i.NodeID = "node-00000000000000000" })
		tm, err = a.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{lost}})
		if err != nil || tm.TerminatingInstances[0].CurrentState.Name != types.InstanceStateNameTerminated {
			t.Fatalf("terminate on a lost node: %+v %v", tm, err)
		}
	})
}

func TestInstanceStatusAndConsole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 16, 65536)
		stale := addNode(t, srv, "h2", "kumo-1a", 16, 65536, time.Now().Add(-time.Minute), "ready")
		a := srv.NewAccount(t, "a")
		id := *run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img}).Instances[0].InstanceId

		status := func(in *ec2.DescribeInstanceStatusInput) []types.InstanceStatus {
			t.Helper()
			out, err := a.EC2.DescribeInstanceStatus(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			return out.InstanceStatuses
		}
		if got := status(&ec2.DescribeInstanceStatusInput{}); len(got) != 0 {
			t.Fatalf("pending instance listed by default: %+v", got)
		}
		got := status(&ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true)})
		if len(got) != 1 || got[0].InstanceStatus.Status != types.SummaryStatusNotApplicable || got[0].InstanceState.Name != types.InstanceStateNamePending {
			t.Fatalf("pending instance status: %+v", got)
		}
		observe(t, srv, a.ID, id, "running", "starting")
		if got := status(&ec2.DescribeInstanceStatusInput{}); len(got) != 1 || got[0].SystemStatus.Status != types.SummaryStatusInitializing {
			t.Fatalf("booting: %+v", got)
		}
		observe(t, srv, a.ID, id, "running", "running")
		got = status(&ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})
		if len(got) != 1 || got[0].SystemStatus.Status != types.SummaryStatusOk || got[0].InstanceStatus.Status != types.SummaryStatusOk ||
			got[0].SystemStatus.Details[0].Status != types.StatusTypePassed || *got[0].AvailabilityZone != "kumo-1a" {
			t.Fatalf("running: %+v", got)
		}
		observe(t, srv, a.ID, id, "running", "crashed")
		if got := status(&ec2.DescribeInstanceStatusInput{Filters: []types.Filter{flt("instance-status.status", "impaired")}}); len(got) != 1 {
			t.Fatalf("crashed guest not impaired: %+v", got)
		}
		setRow(t, srv, a.ID, id, func(i *store.Instance) { i.ObservedState, i.NodeID = "running", stale })
		got = status(&ec2.DescribeInstanceStatusInput{Filters: []types.Filter{flt("system-status.status", "impaired")}})
		if len(got) != 1 || got[0].SystemStatus.Details[0].Status != types.StatusTypeFailed || got[0].InstanceStatus.Status != types.SummaryStatusOk {
			t.Fatalf("stale node: %+v", got)
		}
		_, err := a.EC2.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{Filters: []types.Filter{flt("bogus", "x")}})
		wantClientError(t, err, "InvalidParameterValue")

		// Console output: empty until the node sends some.
		co, err := a.EC2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: &id, Latest: aws.Bool(true)})
		if err != nil || co.Output != nil || *co.InstanceId != id {
			t.Fatalf("empty console: %+v %v", co, err)
		}
		at := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
		text := base64.StdEncoding.EncodeToString([]byte("boot ok\nmarker " + id + "\n"))
		setRow(t, srv, a.ID, id, func(i *store.Instance) { i.ConsoleOutput, i.ConsoleAt = text, at })
		co, err = a.EC2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: &id})
		if err != nil || aws.ToString(co.Output) != text || !co.Timestamp.Equal(at) {
			t.Fatalf("console: %+v %v", co, err)
		}
		_, err = a.EC2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String("i-00000000000000000")})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
	})
}
