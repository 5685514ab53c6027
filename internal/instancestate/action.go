package instancestate

// ActionKind is a desired-state request from the API.
type ActionKind int

// The API requests.
const (
	ActStart ActionKind = iota + 1
	ActStop
	ActReboot
	ActTerminate
)

func (k ActionKind) String() string {
	switch k {
	case ActStart:
		return "Start"
	case ActStop:
		return "Stop"
	case ActReboot:
		return "Reboot"
	case ActTerminate:
		return "Terminate"
	}
	return "Unknown"
}

// Action is one API request on one instance.
type Action struct {
	Kind ActionKind
	// Force is StopInstances' Force: no clean shutdown.
	Force bool
}

// Start is StartInstances.
func Start() Action { return Action{Kind: ActStart} }

// Stop is StopInstances, with its Force flag.
func Stop(force bool) Action { return Action{Kind: ActStop, Force: force} }

// Reboot is RebootInstances.
func Reboot() Action { return Action{Kind: ActReboot} }

// Terminate is TerminateInstances.
func Terminate() Action { return Action{Kind: ActTerminate} }

// EventKind is something a node observed about a guest.
type EventKind int

// The node's observations.
const (
	EvBooted        EventKind = iota + 1 // the guest is up
	EvGuestShutdown                      // the guest powered itself off
	EvStopped                            // a stop finished: guest gone, disks kept
	EvCrashed                            // the guest process died unexpectedly
	EvNodeLost                           // the instance's node stopped reporting
	EvDeleted                            // a termination finished: everything released
	EvLaunchFailed                       // the launch failed; Event.Reason says why
)

func (k EventKind) String() string {
	switch k {
	case EvBooted:
		return "Booted"
	case EvGuestShutdown:
		return "GuestShutdown"
	case EvStopped:
		return "Stopped"
	case EvCrashed:
		return "Crashed"
	case EvNodeLost:
		return "NodeLost"
	case EvDeleted:
		return "Deleted"
	case EvLaunchFailed:
		return "LaunchFailed"
	}
	return "Unknown"
}

// Event is one observation from the node.
type Event struct {
	Kind EventKind
	// Reason is LaunchFailed's StateReason (InternalError or
	// InsufficientCapacity); an empty one means InternalError.
	Reason StateReason
}

// Booted: the guest is up.
func Booted() Event { return Event{Kind: EvBooted} }

// GuestShutdown: the guest powered itself off.
func GuestShutdown() Event { return Event{Kind: EvGuestShutdown} }

// StoppedEvent: a stop finished.
func StoppedEvent() Event { return Event{Kind: EvStopped} }

// Crashed: the guest process died without being asked to.
func Crashed() Event { return Event{Kind: EvCrashed} }

// NodeLost: the node hosting the instance stopped reporting.
func NodeLost() Event { return Event{Kind: EvNodeLost} }

// Deleted: a termination finished.
func Deleted() Event { return Event{Kind: EvDeleted} }

// LaunchFailed: the launch could not complete, for reason.
func LaunchFailed(reason StateReason) Event { return Event{Kind: EvLaunchFailed, Reason: reason} }
