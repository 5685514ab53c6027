package instancestate

import "testing"

type obsCase struct {
	from     State
	ev       Event
	to       State
	reason   string // as in reqCase
	impaired bool
}

func events() []Event {
	return []Event{Booted(), GuestShutdown(), StoppedEvent(), Crashed(), NodeLost(), Deleted(),
		LaunchFailed(InternalError()), LaunchFailed(InsufficientCapacity())}
}

func observeTable() []obsCase {
	var cs []obsCase
	add := func(from State, ev Event, to State, reason string, impaired bool) {
		cs = append(cs, obsCase{from, ev, to, reason, impaired})
	}
	ii, ie, ic := CodeInstanceInitiatedShutdown, CodeServerInternalError, CodeInsufficientInstanceCapacity
	for _, s := range States() {
		// Booted
		if s == Pending {
			add(s, Booted(), Running, "", false)
		} else {
			add(s, Booted(), s, "-", false)
		}
		// GuestShutdown (behavior stop, the default)
		if s == Pending || s == Running {
			add(s, GuestShutdown(), Stopping, ii, false)
		} else {
			add(s, GuestShutdown(), s, "-", false)
		}
		// Stopped
		if s == Stopping {
			add(s, StoppedEvent(), Stopped, "-", false)
		} else {
			add(s, StoppedEvent(), s, "-", false)
		}
		// Crashed
		switch s {
		case Pending:
			add(s, Crashed(), ShuttingDown, ie, false)
		case Running:
			add(s, Crashed(), Running, "-", true)
		default:
			add(s, Crashed(), s, "-", false)
		}
		// NodeLost
		add(s, NodeLost(), s, "-", s != Stopped && s != Terminated)
		// Deleted
		if s == ShuttingDown {
			add(s, Deleted(), Terminated, "-", false)
		} else {
			add(s, Deleted(), s, "-", false)
		}
		// LaunchFailed
		if s == Pending {
			add(s, LaunchFailed(InternalError()), ShuttingDown, ie, false)
			add(s, LaunchFailed(InsufficientCapacity()), ShuttingDown, ic, false)
		} else {
			add(s, LaunchFailed(InternalError()), s, "-", false)
			add(s, LaunchFailed(InsufficientCapacity()), s, "-", false)
		}
	}
	return cs
}

func TestObserveTable(t *testing.T) {
	cs := observeTable()
	if len(cs) != len(States())*len(events()) {
		t.Fatalf("table has %d cases, want every (state, event) pair: %d", len(cs), len(States())*len(events()))
	}
	for _, c := range cs {
		t.Run(string(c.from)+"/"+c.ev.Kind.String()+"/"+c.ev.Reason.Code, func(t *testing.T) {
			tr := Observe(c.from, c.ev, testAttrs())
			if tr.Previous != c.from || tr.Current != c.to {
				t.Fatalf("got %s→%s, want %s→%s", tr.Previous, tr.Current, c.from, c.to)
			}
			checkReason(t, tr, c.reason, "")
			if tr.Impaired != c.impaired {
				t.Fatalf("impaired = %v, want %v", tr.Impaired, c.impaired)
			}
			if tr.Reboot || tr.Force {
				t.Fatalf("an observation asked for reboot/force: %+v", tr)
			}
		})
	}
}

func TestGuestShutdownBehavior(t *testing.T) {
	a := testAttrs()
	want := "Client.InstanceInitiatedShutdown: Instance initiated shutdown (2026-11-25 14:04:05 GMT)"
	tr := Observe(Running, GuestShutdown(), a)
	if tr.Current != Stopping || tr.TransitionReason != want || tr.Reason != InstanceInitiatedShutdown() {
		t.Fatalf("stop behavior: %+v", tr)
	}
	a.ShutdownBehavior = ShutdownTerminate
	a.DisableAPITermination = true // does not protect against the guest's own shutdown
	tr = Observe(Running, GuestShutdown(), a)
	if tr.Current != ShuttingDown || tr.TransitionReason != want || tr.Reason.Code != CodeInstanceInitiatedShutdown {
		t.Fatalf("terminate behavior: %+v", tr)
	}
}

func TestLaunchFailedReasons(t *testing.T) {
	tr := Observe(Pending, LaunchFailed(StateReason{}), testAttrs())
	if tr.Reason != InternalError() || tr.TransitionReason != MsgServerInternalError {
		t.Fatalf("empty reason: %+v", tr)
	}
	tr = Observe(Pending, LaunchFailed(InsufficientCapacity()), testAttrs())
	if tr.Reason.Message != "Server.InsufficientInstanceCapacity: Insufficient capacity" {
		t.Fatalf("capacity: %+v", tr)
	}
}

// A user-driven life: run, stop, start, terminate, end to end.
func TestLifecycleWalk(t *testing.T) {
	a := testAttrs()
	s := Observe(Pending, Booted(), a).Current
	steps := []func(State) (Transition, error){
		func(s State) (Transition, error) { return Request(s, Stop(false), a) },
		func(s State) (Transition, error) { return Observe(s, StoppedEvent(), a), nil },
		func(s State) (Transition, error) { return Request(s, Start(), a) },
		func(s State) (Transition, error) { return Observe(s, Booted(), a), nil },
		func(s State) (Transition, error) { return Request(s, Terminate(), a) },
		func(s State) (Transition, error) { return Observe(s, Deleted(), a), nil },
	}
	want := []State{Stopping, Stopped, Pending, Running, ShuttingDown, Terminated}
	for i, step := range steps {
		tr, err := step(s)
		if err != nil || tr.Current != want[i] {
			t.Fatalf("step %d from %s: %+v %v, want %s", i, s, tr, err, want[i])
		}
		s = tr.Current
	}
}
