package instancestate

import (
	"net/http"

	"github.com/kumo-cloud/kumo/internal/awsapi"
)

// The AWS error codes this package returns.
const (
	ErrCodeIncorrectInstanceState = "IncorrectInstanceState"
	ErrCodeOperationNotPermitted  = "OperationNotPermitted"
	ErrCodeUnsupportedOperation   = "UnsupportedOperation"
)

func clientErr(code, format, id string) error {
	return awsapi.NewError(code, http.StatusBadRequest, format, id)
}

func errCannotStart(id string) error {
	return clientErr(ErrCodeIncorrectInstanceState,
		"The instance '%s' is not in a state from which it can be started.", id)
}

func errCannotStop(id string) error {
	return clientErr(ErrCodeIncorrectInstanceState,
		"This instance '%s' is not in a state from which it can be stopped.", id)
}

func errNeverRan(id string) error {
	return clientErr(ErrCodeIncorrectInstanceState,
		"Instance '%s' cannot be stopped as it has never reached the 'running' state.", id)
}

func errCannotReboot(id string) error {
	return clientErr(ErrCodeIncorrectInstanceState,
		"The instance '%s' is not in a state from which it can be rebooted.", id)
}

func errNotStopped(id string) error {
	return clientErr(ErrCodeIncorrectInstanceState,
		"The instance '%s' is not in the 'stopped' state.", id)
}

func errTerminationProtected(id string) error {
	return clientErr(ErrCodeOperationNotPermitted,
		"The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", id)
}

func errNotEBS(id string) error {
	return clientErr(ErrCodeUnsupportedOperation,
		"The instance '%s' does not have an 'ebs' root device type and cannot be stopped.", id)
}
