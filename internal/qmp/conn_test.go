package qmp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/qmp/qmptest"
)

func dial(t *testing.T, s *qmptest.Server) *qmp.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := qmp.Dial(ctx, s.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestExecuteTypedReplyAndArgs(t *testing.T) {
	s := qmptest.New(t)
	s.Handle("echo", func(args json.RawMessage) (any, *qmp.Error) { return args, nil })
	c := dial(t, s)
	var out struct{ N int }
	if err := c.Execute(context.Background(), "echo", map[string]int{"N": 7}, &out); err != nil {
		t.Fatal(err)
	}
	if out.N != 7 {
		t.Fatalf("reply N = %d, want 7", out.N)
	}
	st, err := c.QueryStatus(context.Background())
	if err != nil || st.Status != qmp.StatusRunning || !st.Running {
		t.Fatalf("QueryStatus = %+v, %v", st, err)
	}
}

func TestExecuteError(t *testing.T) {
	s := qmptest.New(t)
	c := dial(t, s)
	err := c.DeviceDel(context.Background(), "nope")
	var qe *qmp.Error
	if !errors.As(err, &qe) || qe.Class != "CommandNotFound" {
		t.Fatalf("err = %v, want a *qmp.Error of class CommandNotFound", err)
	}
}

func TestConcurrentRepliesMatchedByID(t *testing.T) {
	s := qmptest.New(t)
	s.Handle("echo", func(args json.RawMessage) (any, *qmp.Error) { return args, nil })
	c := dial(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got int
			if err := c.Execute(context.Background(), "echo", i, &got); err != nil || got != i {
				errs <- fmt.Errorf("echo %d = %d, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestEvents(t *testing.T) {
	s := qmptest.New(t)
	c := dial(t, s)
	if err := c.SystemPowerdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Emit("DEVICE_DELETED", map[string]string{"device": "vol1"})
	// The fake sends POWERDOWN from its own goroutine: the two events may arrive in either order.
	got := map[string]bool{}
	for len(got) < 2 {
		select {
		case e := <-c.Events():
			if e.Timestamp.IsZero() {
				t.Fatalf("event %+v has no timestamp", e)
			}
			got[e.Name] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("events so far %v, want POWERDOWN and DEVICE_DELETED", got)
		}
	}
	if !got["POWERDOWN"] || !got["DEVICE_DELETED"] {
		t.Fatalf("events %v, want POWERDOWN and DEVICE_DELETED", got)
	}
}

func TestContextDeadline(t *testing.T) {
	s := qmptest.New(t)
	release := make(chan struct{})
	s.Handle("slow", func(json.RawMessage) (any, *qmp.Error) { <-release; return struct{}{}, nil })
	defer close(release)
	c := dial(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Execute(ctx, "slow", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestQuitClosesConnection(t *testing.T) {
	s := qmptest.New(t)
	c := dial(t, s)
	if err := c.Quit(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("connection still open after quit")
	}
	if err := c.SystemReset(context.Background()); !errors.Is(err, qmp.ErrClosed) {
		t.Fatalf("after quit: %v, want ErrClosed", err)
	}
}

func TestCloseReleasesPending(t *testing.T) {
	s := qmptest.New(t)
	release := make(chan struct{})
	defer close(release)
	s.Handle("slow", func(json.RawMessage) (any, *qmp.Error) { <-release; return struct{}{}, nil })
	c := dial(t, s)
	errc := make(chan error, 1)
	go func() { errc <- c.Execute(context.Background(), "slow", nil, nil) }()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, qmp.ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Execute still waiting after Close")
	}
}
