package ec2_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// wantClientError checks an AWS error code sent with a 4xx status.
func wantClientError(t *testing.T, err error, code string) {
	t.Helper()
	wantCode(t, err, code)
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() < 400 || re.HTTPStatusCode() > 499 {
		t.Fatalf("%s: want a 4xx status, got %v", code, err)
	}
}

// addNode registers a hypervisor node straight in the store.
func addNode(t *testing.T, srv *controllertest.Server, name, zone string, vcpus int, memMiB int64, seen time.Time, state string) string {
	t.Helper()
	id := ids.Resource("node")
	storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
		return tx.InsertNode(ctx, store.Node{ID: id, Name: name, Zone: zone, State: state, VCPUs: vcpus, MemoryMiB: memMiB,
			DiskGiB: 1000, Version: "test", LastSeen: seen, CreatedAt: time.Now()})
	})
	return id
}

func readyNode(t *testing.T, srv *controllertest.Server, name, zone string, vcpus int, memMiB int64) string {
	return addNode(t, srv, name, zone, vcpus, memMiB, time.Now(), "ready")
}

func row(t *testing.T, srv *controllertest.Server, account, id string) store.Instance {
	t.Helper()
	var i store.Instance
	err := srv.DB.View(context.Background(), func(ctx context.Context, tx *store.Tx) (err error) {
		i, err = tx.GetInstance(ctx, account, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// setRow edits an instance as the node server would after a report.
func setRow(t *testing.T, srv *controllertest.Server, account, id string, edit func(*store.Instance)) {
	t.Helper()
	storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
		i, err := tx.GetInstance(ctx, account, id)
		if err != nil {
			return err
		}
		edit(&i)
		return tx.UpdateInstance(ctx, i)
	})
}

func observe(t *testing.T, srv *controllertest.Server, account, id, state, observed string) {
	t.Helper()
	setRow(t, srv, account, id, func(i *store.Instance) {
		i.State, i.ObservedState, i.ObservedAt, i.StateChangedAt = state, observed, time.Now(), time.Now()
	})
}

func run(t *testing.T, c *ec2.Client, in *ec2.RunInstancesInput) *ec2.RunInstancesOutput {
	t.Helper()
	if in.MinCount == nil {
		in.MinCount, in.MaxCount = aws.Int32(1), aws.Int32(1)
	}
	out, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	return out
}

func describeInstances(t *testing.T, c *ec2.Client, filters ...types.Filter) []types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	var list []types.Instance
	for _, r := range out.Reservations {
		list = append(list, r.Instances...)
	}
	return list
}

func stateOf(t *testing.T, c *ec2.Client, id string) string {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Reservations[0].Instances[0].State.Name)
}

func flt(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
