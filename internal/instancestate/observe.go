package instancestate

// Observe decides what a node's observation does to an instance in state
// current. Observations that do not apply to the current state (a late or
// repeated report) leave it unchanged. Nothing leaves terminated.
func Observe(current State, event Event, attrs Attributes) Transition {
	switch event.Kind {
	case EvBooted:
		if current == Pending {
			return move(Pending, Running).because("", StateReason{})
		}
	case EvGuestShutdown:
		if current == Pending || current == Running {
			return guestShutdown(current, attrs)
		}
	case EvStopped:
		if current == Stopping {
			return move(Stopping, Stopped)
		}
	case EvCrashed:
		switch current {
		case Pending:
			return move(Pending, ShuttingDown).because(InternalError().Message, InternalError())
		case Running:
			t := stay(Running)
			t.Impaired = true
			return t
		}
	case EvNodeLost:
		switch current {
		case Pending, Running, Stopping, ShuttingDown:
			t := stay(current)
			t.Impaired = true
			return t
		}
	case EvDeleted:
		if current == ShuttingDown {
			return move(ShuttingDown, Terminated)
		}
	case EvLaunchFailed:
		if current == Pending {
			r := event.Reason
			if r.Code == "" {
				r = InternalError()
			}
			return move(Pending, ShuttingDown).because(r.Message, r)
		}
	}
	return stay(current)
}

// guestShutdown resolves a guest power-off by instanceInitiatedShutdownBehavior.
// disableApiTermination does not stop it: EC2 documents that the attribute
// does not prevent termination initiated from the instance's OS.
func guestShutdown(current State, attrs Attributes) Transition {
	to := Stopping
	if attrs.terminateOnShutdown() {
		to = ShuttingDown
	}
	return move(current, to).because(instanceInitiated(attrs.now()), InstanceInitiatedShutdown())
}
