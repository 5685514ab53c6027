package instancestate

// Transition is the outcome of a request or an observation.
type Transition struct {
	// Previous and Current are the states before and after; the API returns
	// them as PreviousState and CurrentState. Equal when nothing changes.
	Previous, Current State
	// SetReason says StateTransitionReason and StateReason are to be stored
	// (empty values clear them, as on a start).
	SetReason bool
	// TransitionReason is the StateTransitionReason text.
	TransitionReason string
	// Reason is the StateReason.
	Reason StateReason
	// Reboot asks the node to reboot the guest (state stays running).
	Reboot bool
	// Force asks the node to power the guest off without a clean shutdown.
	Force bool
	// Impaired marks the instance's status checks as failed (the node is
	// lost or the guest died); the state itself does not change.
	Impaired bool
}

// Changed reports whether the transition has anything to store or do.
func (t Transition) Changed() bool {
	return t.Previous != t.Current || t.SetReason || t.Reboot || t.Force || t.Impaired
}

func stay(s State) Transition { return Transition{Previous: s, Current: s} }

func move(from, to State) Transition { return Transition{Previous: from, Current: to} }

func (t Transition) because(text string, r StateReason) Transition {
	t.SetReason, t.TransitionReason, t.Reason = true, text, r
	return t
}
