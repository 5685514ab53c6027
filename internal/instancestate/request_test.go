package instancestate

import (
	"errors"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
)

const testID = "i-0123456789abcdef0"

// testAttrs has a fixed clock, in a zone other than UTC to check the GMT stamp.
func testAttrs() Attributes {
	now := time.Date(2026, 11, 25, 15, 4, 5, 0, time.FixedZone("CET", 3600))
	return Attributes{InstanceID: testID, Clock: func() time.Time { return now }}
}

const (
	userText  = "User initiated (2026-11-25 14:04:05 GMT)"
	msgStart  = "The instance 'i-0123456789abcdef0' is not in a state from which it can be started."
	msgStop   = "This instance 'i-0123456789abcdef0' is not in a state from which it can be stopped."
	msgNever  = "Instance 'i-0123456789abcdef0' cannot be stopped as it has never reached the 'running' state."
	msgReboot = "The instance 'i-0123456789abcdef0' is not in a state from which it can be rebooted."
	incorrect = ErrCodeIncorrectInstanceState
)

type reqCase struct {
	from   State
	act    Action
	to     State
	reason string // StateReason code; "-" means reasons are not set; "" means cleared
	reboot bool
	force  bool
	code   string // error code
	msg    string // error message
}

func requestTable() []reqCase {
	u := CodeUserInitiatedShutdown
	return []reqCase{
		{from: Pending, act: Start(), to: Pending, reason: "-"},
		{from: Running, act: Start(), to: Running, reason: "-"},
		{from: ShuttingDown, act: Start(), code: incorrect, msg: msgStart},
		{from: Terminated, act: Start(), code: incorrect, msg: msgStart},
		{from: Stopping, act: Start(), code: incorrect, msg: msgStart},
		{from: Stopped, act: Start(), to: Pending, reason: ""},

		{from: Pending, act: Stop(false), code: incorrect, msg: msgNever},
		{from: Running, act: Stop(false), to: Stopping, reason: u},
		{from: ShuttingDown, act: Stop(false), code: incorrect, msg: msgStop},
		{from: Terminated, act: Stop(false), code: incorrect, msg: msgStop},
		{from: Stopping, act: Stop(false), to: Stopping, reason: "-"},
		{from: Stopped, act: Stop(false), to: Stopped, reason: "-"},

		{from: Pending, act: Stop(true), code: incorrect, msg: msgNever},
		{from: Running, act: Stop(true), to: Stopping, reason: u, force: true},
		{from: ShuttingDown, act: Stop(true), code: incorrect, msg: msgStop},
		{from: Terminated, act: Stop(true), code: incorrect, msg: msgStop},
		{from: Stopping, act: Stop(true), to: Stopping, reason: "-", force: true},
		{from: Stopped, act: Stop(true), to: Stopped, reason: "-"},

		{from: Pending, act: Reboot(), to: Pending, reason: "-", reboot: true},
		{from: Running, act: Reboot(), to: Running, reason: "-", reboot: true},
		{from: ShuttingDown, act: Reboot(), to: ShuttingDown, reason: "-"},
		{from: Terminated, act: Reboot(), to: Terminated, reason: "-"},
		{from: Stopping, act: Reboot(), code: incorrect, msg: msgReboot},
		{from: Stopped, act: Reboot(), code: incorrect, msg: msgReboot},

		{from: Pending, act: Terminate(), to: ShuttingDown, reason: u},
		{from: Running, act: Terminate(), to: ShuttingDown, reason: u},
		{from: ShuttingDown, act: Terminate(), to: ShuttingDown, reason: "-"},
		{from: Terminated, act: Terminate(), to: Terminated, reason: "-"},
		{from: Stopping, act: Terminate(), to: ShuttingDown, reason: u},
		{from: Stopped, act: Terminate(), to: ShuttingDown, reason: u},
	}
}

func checkErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae *awsapi.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an *awsapi.Error", err)
	}
	if ae.Code != code || ae.Message != msg || ae.Status() != 400 {
		t.Fatalf("error = %s %q (%d), want %s %q (400)", ae.Code, ae.Message, ae.Status(), code, msg)
	}
}

func TestRequestTable(t *testing.T) {
	seen := map[State]map[Action]bool{}
	for _, c := range requestTable() {
		if seen[c.from] == nil {
			seen[c.from] = map[Action]bool{}
		}
		seen[c.from][c.act] = true
		t.Run(string(c.from)+"/"+c.act.Kind.String(), func(t *testing.T) {
			tr, err := Request(c.from, c.act, testAttrs())
			if c.code != "" {
				checkErr(t, err, c.code, c.msg)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tr.Previous != c.from || tr.Current != c.to {
				t.Fatalf("got %s→%s, want %s→%s", tr.Previous, tr.Current, c.from, c.to)
			}
			checkReason(t, tr, c.reason, userText)
			if tr.Reboot != c.reboot || tr.Force != c.force {
				t.Fatalf("reboot/force = %v/%v, want %v/%v", tr.Reboot, tr.Force, c.reboot, c.force)
			}
		})
	}
	for _, s := range States() {
		for _, a := range []Action{Start(), Stop(false), Stop(true), Reboot(), Terminate()} {
			if !seen[s][a] {
				t.Errorf("table misses (%s, %s force=%v)", s, a.Kind, a.Force)
			}
		}
	}
}

func checkReason(t *testing.T, tr Transition, code, text string) {
	t.Helper()
	switch code {
	case "-":
		if tr.SetReason {
			t.Fatalf("reason set to %+v, want unchanged", tr.Reason)
		}
	case "":
		if !tr.SetReason || tr.Reason != (StateReason{}) || tr.TransitionReason != "" {
			t.Fatalf("reason = %v %+v %q, want cleared", tr.SetReason, tr.Reason, tr.TransitionReason)
		}
	default:
		if !tr.SetReason || tr.Reason.Code != code {
			t.Fatalf("reason = %+v, want code %s", tr.Reason, code)
		}
		if text != "" && tr.TransitionReason != text {
			t.Fatalf("transition reason = %q, want %q", tr.TransitionReason, text)
		}
	}
}

func TestTerminationProtection(t *testing.T) {
	a := testAttrs()
	a.DisableAPITermination = true
	msg := "The instance 'i-0123456789abcdef0' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again."
	for _, s := range []State{Pending, Running, Stopping, Stopped} {
		_, err := Request(s, Terminate(), a)
		checkErr(t, err, ErrCodeOperationNotPermitted, msg)
	}
	for _, s := range []State{ShuttingDown, Terminated} {
		if tr, err := Request(s, Terminate(), a); err != nil || tr.Current != s {
			t.Errorf("%s: %+v %v, want idempotent success", s, tr, err)
		}
	}
	if _, err := Request(Running, Stop(false), a); err != nil {
		t.Errorf("stop of a protected instance: %v", err)
	}
}

func TestInstanceStoreCannotStop(t *testing.T) {
	a := testAttrs()
	a.RootDeviceType = RootInstanceStore
	msg := "The instance 'i-0123456789abcdef0' does not have an 'ebs' root device type and cannot be stopped."
	for _, s := range []State{Pending, Running} {
		_, err := Request(s, Stop(false), a)
		checkErr(t, err, ErrCodeUnsupportedOperation, msg)
	}
	if tr, err := Request(Running, Terminate(), a); err != nil || tr.Current != ShuttingDown {
		t.Errorf("terminate: %+v %v", tr, err)
	}
}

func TestRequestRefusesBadInput(t *testing.T) {
	if _, err := Request("bogus", Start(), testAttrs()); err == nil {
		t.Error("bogus state accepted")
	}
	if _, err := Request(Running, Action{}, testAttrs()); err == nil {
		t.Error("zero action accepted")
	}
}
