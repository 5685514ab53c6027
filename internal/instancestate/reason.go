package instancestate

import "time"

// StateReason is EC2's StateReason: why the instance last changed state.
// The Message is AWS's "<Code>: <text>" form.
type StateReason struct {
	Code    string
	Message string
}

// The StateReason codes Kumo produces.
const (
	CodeUserInitiatedShutdown        = "Client.UserInitiatedShutdown"
	CodeInstanceInitiatedShutdown    = "Client.InstanceInitiatedShutdown"
	CodeServerInternalError          = "Server.InternalError"
	CodeInsufficientInstanceCapacity = "Server.InsufficientInstanceCapacity"
)

// The StateReason messages EC2 shows, in AWS's "<Code>: <text>" form.
const (
	MsgUserInitiatedShutdown        = "Client.UserInitiatedShutdown: User initiated shutdown"
	MsgInstanceInitiatedShutdown    = "Client.InstanceInitiatedShutdown: Instance initiated shutdown"
	MsgServerInternalError          = "Server.InternalError: Internal error on launch"
	MsgInsufficientInstanceCapacity = "Server.InsufficientInstanceCapacity: Insufficient capacity"
)

// UserInitiatedShutdown is the reason for a stop or terminate through the API.
func UserInitiatedShutdown() StateReason {
	return StateReason{CodeUserInitiatedShutdown, MsgUserInitiatedShutdown}
}

// InstanceInitiatedShutdown is the reason for a guest that powered itself off.
func InstanceInitiatedShutdown() StateReason {
	return StateReason{CodeInstanceInitiatedShutdown, MsgInstanceInitiatedShutdown}
}

// InternalError is the reason for a launch that failed on the server's side.
func InternalError() StateReason {
	return StateReason{CodeServerInternalError, MsgServerInternalError}
}

// InsufficientCapacity is the reason for a launch no node could take.
func InsufficientCapacity() StateReason {
	return StateReason{CodeInsufficientInstanceCapacity, MsgInsufficientInstanceCapacity}
}

// reasonTimeLayout is the timestamp inside StateTransitionReason texts,
// e.g. "User initiated (2026-11-25 15:04:05 GMT)".
const reasonTimeLayout = "2006-01-02 15:04:05 GMT"

func stamp(t time.Time) string { return t.UTC().Format(reasonTimeLayout) }

// userInitiated is the StateTransitionReason of a stop or terminate request.
func userInitiated(t time.Time) string { return "User initiated (" + stamp(t) + ")" }

// instanceInitiated is the StateTransitionReason of a guest power-off.
func instanceInitiated(t time.Time) string {
	return MsgInstanceInitiatedShutdown + " (" + stamp(t) + ")"
}
