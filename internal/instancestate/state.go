// Package instancestate is a pure, table-driven model of the EC2 instance
// lifecycle, shared by the API handlers (Start/Stop/Reboot/TerminateInstances,
// ModifyInstanceAttribute) and the instance reconciler (what a node reports).
//
// It decides the next state, the StateTransitionReason text and the
// StateReason for every request and observation, and the AWS error for every
// request that the current state refuses. It performs no I/O.
package instancestate

// State is an instance state as EC2 names it.
type State string

// The six EC2 instance states.
const (
	Pending      State = "pending"
	Running      State = "running"
	ShuttingDown State = "shutting-down"
	Terminated   State = "terminated"
	Stopping     State = "stopping"
	Stopped      State = "stopped"
)

// States lists every state in code order.
func States() []State {
	return []State{Pending, Running, ShuttingDown, Terminated, Stopping, Stopped}
}

// Code is the state's code in InstanceState.code: only the low byte is
// meaningful; AWS reserves the high byte for internal use.
func (s State) Code() int {
	switch s {
	case Pending:
		return 0
	case Running:
		return 16
	case ShuttingDown:
		return 32
	case Terminated:
		return 48
	case Stopping:
		return 64
	case Stopped:
		return 80
	}
	return -1
}

// Valid reports whether s is one of the six states.
func (s State) Valid() bool { return s.Code() >= 0 }

// Final reports whether no transition leaves s.
func (s State) Final() bool { return s == Terminated }

// FromCode maps an InstanceState.code to its state. As AWS documents, the
// high byte (bits 8-15) is ignored: only code&0xff is looked at.
func FromCode(code int) (State, bool) {
	low := code & 0xff
	for _, s := range States() {
		if s.Code() == low {
			return s, true
		}
	}
	return "", false
}

// Parse maps a state name (as in the instance-state-name filter) to a State.
func Parse(name string) (State, bool) {
	s := State(name)
	return s, s.Valid()
}
