package instancestate

import "time"

// ShutdownBehavior is InstanceInitiatedShutdownBehavior.
type ShutdownBehavior string

// The two behaviors; the zero value behaves as ShutdownStop, EC2's default.
const (
	ShutdownStop      ShutdownBehavior = "stop"
	ShutdownTerminate ShutdownBehavior = "terminate"
)

// Root device types.
const (
	RootEBS           = "ebs"
	RootInstanceStore = "instance-store"
)

// Attributes are the instance's facts the lifecycle depends on.
type Attributes struct {
	// InstanceID is quoted in error messages.
	InstanceID string
	// DisableAPITermination is the disableApiTermination attribute.
	DisableAPITermination bool
	// ShutdownBehavior is instanceInitiatedShutdownBehavior.
	ShutdownBehavior ShutdownBehavior
	// RootDeviceType is "ebs" (the zero value means ebs) or "instance-store".
	RootDeviceType string
	// Clock stamps transition reasons; nil means time.Now.
	Clock func() time.Time
}

func (a Attributes) now() time.Time {
	if a.Clock == nil {
		return time.Now()
	}
	return a.Clock()
}

func (a Attributes) terminateOnShutdown() bool { return a.ShutdownBehavior == ShutdownTerminate }

// TerminatedVisibility is how long a terminated instance stays in
// DescribeInstances output, as in EC2 ("about an hour").
const TerminatedVisibility = time.Hour

// Visible reports whether an instance in state s, which entered it at
// since, is still shown by DescribeInstances at now.
func Visible(s State, since, now time.Time) bool {
	return s != Terminated || now.Sub(since) < TerminatedVisibility
}

// The instance attributes (ModifyInstanceAttribute's Attribute values) that
// EC2 lets change only while the instance is stopped.
const (
	AttrInstanceType = "instanceType"
	AttrUserData     = "userData"
	AttrKernel       = "kernel"
	AttrRamdisk      = "ramdisk"
)

// NeedsStopped reports whether attribute may change only while stopped.
func NeedsStopped(attribute string) bool {
	switch attribute {
	case AttrInstanceType, AttrUserData, AttrKernel, AttrRamdisk:
		return true
	}
	return false
}

// CheckModify answers whether ModifyInstanceAttribute (or
// ResetInstanceAttribute) may change attribute in state current: the
// stopped-only attributes give IncorrectInstanceState in any other state.
func CheckModify(current State, attribute string, attrs Attributes) error {
	if NeedsStopped(attribute) && current != Stopped {
		return errNotStopped(attrs.InstanceID)
	}
	return nil
}
