package instancestate

import (
	"fmt"
	"net/http"

	"github.com/kumo-cloud/kumo/internal/awsapi"
)

// rule is one cell of the request table.
type rule struct {
	to  State                 // the next state; "" means stay (idempotent)
	err func(id string) error // the refusal, if any
}

// requestRule is the table of (state, request) → outcome, following EC2's
// StartInstances, StopInstances, RebootInstances and TerminateInstances.
func requestRule(s State, k ActionKind) rule {
	switch k {
	case ActStart:
		switch s {
		case Stopped:
			return rule{to: Pending}
		case Pending, Running:
			return rule{}
		}
		return rule{err: errCannotStart}
	case ActStop:
		switch s {
		case Running:
			return rule{to: Stopping}
		case Stopping, Stopped:
			return rule{}
		case Pending:
			return rule{err: errNeverRan}
		}
		return rule{err: errCannotStop}
	case ActReboot:
		switch s {
		case Running, Pending:
			return rule{to: s}
		case ShuttingDown, Terminated:
			return rule{} // "Requests to reboot terminated instances are ignored."
		}
		return rule{err: errCannotReboot}
	case ActTerminate:
		switch s {
		case ShuttingDown, Terminated:
			return rule{}
		}
		return rule{to: ShuttingDown}
	}
	return rule{}
}

// Request decides what an API request does to an instance in state current.
// A refused request returns an *awsapi.Error with EC2's code and message.
// Repeating a request whose effect is already under way or done (stop a
// stopped instance, terminate a terminated one) succeeds with
// Previous == Current, as EC2 answers.
func Request(current State, action Action, attrs Attributes) (Transition, error) {
	if !current.Valid() {
		return Transition{}, awsapi.NewError("InternalError", http.StatusInternalServerError,
			"An internal error has occurred")
	}
	switch action.Kind {
	case ActStart, ActStop, ActReboot, ActTerminate:
	default:
		return Transition{}, awsapi.ErrInvalidParameterValue("unknown instance action %s", fmt.Sprint(action.Kind))
	}
	id := attrs.InstanceID
	if action.Kind == ActStop && attrs.RootDeviceType == RootInstanceStore && !current.Final() && current != ShuttingDown {
		return Transition{}, errNotEBS(id)
	}
	if action.Kind == ActTerminate && attrs.DisableAPITermination && current != ShuttingDown && !current.Final() {
		return Transition{}, errTerminationProtected(id)
	}
	r := requestRule(current, action.Kind)
	if r.err != nil {
		return Transition{}, r.err(id)
	}
	if r.to == "" {
		t := stay(current)
		if action.Kind == ActStop && action.Force && current == Stopping {
			t.Force = true // a forced stop is how a stuck stop is finished
		}
		return t, nil
	}
	t := move(current, r.to)
	switch action.Kind {
	case ActStart:
		t = t.because("", StateReason{})
	case ActStop:
		t = t.because(userInitiated(attrs.now()), UserInitiatedShutdown())
		t.Force = action.Force
	case ActReboot:
		t.Reboot = true
	case ActTerminate:
		t = t.because(userInitiated(attrs.now()), UserInitiatedShutdown())
	}
	return t, nil
}
